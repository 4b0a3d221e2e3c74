"""Database access: the engine, sessions, migrations, and (in submodules) every query and write.

Callers open one explicit transaction per unit of work (``with session.begin():``); the
functions in the submodules never commit. SQLite gets WAL and foreign keys; PostgreSQL is used
as is through ``postgresql+psycopg://`` URLs.
"""

from __future__ import annotations

import functools
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Engine, Insert, Table, create_engine, event, insert, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError, SQLAlchemyError

from intake.core.errors import ConfigError, StorageError

# The ORM is imported by the modules that write: the staff CLI's read-only commands query
# Core tables (intake.store.schema) and start without it.
if TYPE_CHECKING:
    # Re-exported for the use cases' annotations: they name a unit of work without importing
    # SQLAlchemy themselves.
    from sqlalchemy.orm import Session as Session
    from sqlalchemy.orm import sessionmaker as sessionmaker

    from intake.store.models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for ``url``; creates the directory of a SQLite file if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"database.url: not a database URL: {url!r}") from None
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
                _create_sqlite_file(Path(database))
            except OSError as exc:
                raise ConfigError(
                    f"database.url: cannot create {database}: {exc.strerror}"
                ) from None
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"database.url: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def sqlite_file_mode(path: Path) -> int:
    """The mode of intake's SQLite file at ``path``: 0660 when its directory is shared with a
    group (group-writable, as the state directory is: editors write the queue), else 0600.
    Never readable by others: the database holds every contributor's mail."""
    return 0o660 if path.parent.stat().st_mode & stat.S_IWGRP else 0o600


def _create_sqlite_file(path: Path) -> None:
    """Create a new SQLite file with :func:`sqlite_file_mode`, whatever the umask (SQLite would
    follow it: 0644 under the usual 022). SQLite gives its -wal and -shm files the database
    file's mode, so they are as private. An existing file is left as it is."""
    mode = sqlite_file_mode(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    try:
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front, so two daemons on one SQLite file
    # serialise instead of failing with "database is locked" at commit. A reader (see
    # `reading`) begins a deferred transaction: in WAL mode it never waits for a writer.
    if conn.get_execution_options().get(READ_ONLY):
        conn.exec_driver_sql("BEGIN")
    else:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


#: The execution option that marks a connection as only reading (see :func:`reading`).
READ_ONLY = "intake_read_only"


def reading(engine: Engine) -> Connection:
    """A connection for queries that change nothing (``intake list``, ``show``, ``stats``).

    Its transaction is one consistent snapshot; on SQLite it does not take the write lock,
    so an editor's command neither waits for the daemon's write nor holds the daemon up.
    Use it as ``with store.reading(engine) as conn:``.
    """
    return engine.connect().execution_options(**{READ_ONLY: True})


def insert_row(session: Session, model: type[Base], fields: Mapping[str, object]) -> int:
    """Insert one row with a Core ``INSERT … RETURNING id``, bypassing the unit of work
    (ingest's hot path: several times cheaper than ``session.add`` and a flush)."""
    return int(session.execute(_insert_returning_id(model), dict(fields)).scalar_one())


@functools.cache
def _insert_returning_id(model: type[Base]) -> Insert:
    # Built once: the values go in as parameters, so the statement, its cache key and its
    # compiled form are the same from row to row (building it costs more than running it).
    rows = cast(Table, model.__table__)
    return insert(rows).returning(rows.c.id)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def is_postgres(bind: Session | Connection | Engine) -> bool:
    """Whether ``bind`` talks to PostgreSQL (else SQLite)."""
    if isinstance(bind, Connection | Engine):
        return bind.dialect.name == "postgresql"
    return bind.get_bind().dialect.name == "postgresql"


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (``intake db upgrade``)."""
    from alembic import command

    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except SQLAlchemyError as exc:
        detail = getattr(exc, "orig", None) or exc
        raise StorageError(f"database upgrade failed: {type(exc).__name__}: {detail}") from None


def current_revision(engine: Engine) -> str | None:
    # Plain SQL rather than Alembic's MigrationContext (or an inspector): every CLI command
    # checks the schema, and importing Alembic costs more than most commands' queries.
    with reading(engine) as connection:
        try:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version")
        except (OperationalError, ProgrammingError):  # no such table: never migrated
            return None
        found = version.scalar()
        return str(found) if found is not None else None


_REVISION_LINE = re.compile(r"^(down_)?revision(?::[^=]*)? = [\"']([^\"']+)[\"']", re.MULTILINE)


def head_revision() -> str:
    """The newest migration, read from the revision files (Alembic's answer when in doubt)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for down, revision in _REVISION_LINE.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(revision)
    heads = revisions - parents
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory  # merges, branches: let Alembic decide

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def require_schema(engine: Engine) -> None:
    """Refuse to run against a database that is missing or behind the code's schema."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open the database: {exc.__class__.__name__}") from None
    if current is None:
        if inspect(engine).has_table("messages"):
            raise StorageError("the database has no migration record: run `intake db upgrade`")
        raise StorageError("the database is empty: run `intake db upgrade` first")
    if current != head_revision():
        raise StorageError(
            f"the database schema is at {current}, the code needs {head_revision()}: "
            "run `intake db upgrade`"
        )
