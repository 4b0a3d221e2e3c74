"""Copy every row of one intake database into another (SQLite to PostgreSQL and back)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Engine, Table, bindparam, func, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from intake.core.errors import StorageError, UsageError
from intake.store import schema
from intake.store.models import Base

Progress = Callable[[str, int], None]

#: Rows of ``blob_chunks`` (up to 1 MiB each) copied per statement.
BLOB_PIECES = 8


def copy_database(
    source: Engine, target: Engine, *, batch: int = 1000, progress: Progress | None = None
) -> dict[str, int]:
    """Copy all rows from ``source`` into the empty ``target``; return rows copied per table.

    Both schemas must be current (``intake db upgrade``). Tables go in foreign-key order in
    one target transaction, so a failed copy leaves the target empty. The foreign keys of the
    messages <-> submissions/claims cycle are filled in after every table is there. Timestamps
    are written in UTC (SQLite keeps no zone; PostgreSQL would read a bare one as local time).
    """
    counts: dict[str, int] = {}
    try:
        with source.connect() as src, target.begin() as dst:
            for table in Base.metadata.sorted_tables:
                if dst.scalar(select(func.count()).select_from(table)):
                    raise UsageError(
                        f"the target database is not empty (table {table.name} has rows)"
                    )
            later: list[tuple[Table, list[dict[str, Any]]]] = []
            for table in Base.metadata.sorted_tables:
                deferred = _cycle_columns(table)
                keys = list(table.primary_key.columns)
                patches: list[dict[str, Any]] = []
                copied = 0
                # Blob pieces are up to 1 MiB each: a few at a time, not a thousand.
                size = BLOB_PIECES if table is schema.blob_chunks else batch
                result = src.execution_options(yield_per=size).execute(
                    select(table).order_by(*keys)
                )
                for chunk in result.mappings().partitions(size):
                    rows = [{k: _utc(v) for k, v in row.items()} for row in chunk]
                    for row in rows:
                        values = {c.name: row[c.name] for c in deferred if row[c.name] is not None}
                        if values:
                            patches.append({**{f"k_{k.name}": row[k.name] for k in keys}, **values})
                            for name in values:
                                row[name] = None
                    dst.execute(table.insert(), rows)
                    copied += len(rows)
                    if progress:
                        progress(table.name, copied)
                counts[table.name] = copied
                if patches:
                    later.append((table, patches))
            for table, patches in later:
                for column in _cycle_columns(table):
                    rows = [
                        {**{k: v for k, v in p.items() if k.startswith("k_")}, "v": p[column.name]}
                        for p in patches
                        if column.name in p
                    ]
                    if rows:
                        keys = list(table.primary_key.columns)
                        stmt = (
                            update(table)
                            .where(*(k == bindparam(f"k_{k.name}") for k in keys))
                            .values({column.name: bindparam("v")})
                        )
                        dst.execute(stmt, rows)
            if target.dialect.name == "postgresql":
                for table in Base.metadata.sorted_tables:
                    _reset_sequence(dst, table)
    except SQLAlchemyError as exc:
        raise StorageError(f"copy failed: {type(exc).__name__}: {exc}") from None
    return counts


def _cycle_columns(table: Table) -> list[Column[Any]]:
    """Columns of foreign keys created after the tables (``use_alter``): filled in last."""
    return [col for fk in table.foreign_key_constraints if fk.use_alter for col in fk.columns]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _reset_sequence(connection: Any, table: Table) -> None:
    # Rows came with their ids, so the serial sequences still stand at 1: move them past.
    for column in table.primary_key.columns:
        if column.autoincrement is True or (
            column.autoincrement == "auto" and column.type.python_type is int
        ):
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence(:table, :column), "
                    f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                ),
                {"table": table.name, "column": column.name},
            )
