"""`intake db copy --to URL`: every row of a SQLite database lands in PostgreSQL unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from intake import store
from intake.cli import main
from intake.core.errors import UsageError
from intake.core.mail import MessageRef, RawMail
from intake.store.blobs import DatabaseBlobStore
from intake.store.models import Base, Claim, Lease, Message
from intake.store.transfer import copy_database
from tests.helpers import make_app, settings_for, submission

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def dump(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, timestamps in UTC, ordered by primary key."""
    out: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[table.name] = [
                {
                    k: (v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC))
                    if isinstance(v, datetime)
                    else v
                    for k, v in row.items()
                }
                for row in rows
            ]
    return out


@pytest.fixture
def source(tmp_path: Path, sqlite_url: str) -> Any:
    smtp = SimpleNamespace(host="smtp.example.com", port=25)
    app = make_app(settings_for(tmp_path, sqlite_url, smtp=smtp), clock=lambda: NOW)
    for uid in range(1, 4):
        raw = submission(sender=f"作者{uid} <a{uid}@qq.example>", body=f"第{uid}篇稿件正文。")
        app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 7, uid), raw, NOW))
    with app.sessions() as session, session.begin():
        message = session.scalars(select(Message).order_by(Message.id)).first()
        assert message is not None
        claim = Claim(claimant="lawyer@example.com", received_at=NOW, message_pk=message.id,
                      deadline=NOW + timedelta(days=3), updated_at=NOW)  # fmt: skip
        session.add(claim)
        session.flush()
        message.claim_id = claim.id  # the messages <-> claims cycle
        session.add(Lease(name="mailbox:submissions", holder="h:1:a", acquired_at=NOW,
                          expires_at=NOW + timedelta(seconds=90)))  # fmt: skip
    # A database store's blob, in pieces: copied with the rows, byte for byte.
    DatabaseBlobStore(app.engine, chunk_bytes=4096, clock=lambda: NOW).put(
        "att", bytes(range(256)) * 100
    )
    yield app
    app.engine.dispose()


@pytest.mark.postgres
def test_copy_sqlite_to_postgres_keeps_every_row(
    source: Any, postgres: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres.new_database()
    config = tmp_path / "intake.toml"
    config.write_text(
        f'[database]\nurl = "{source.settings.database.url}"\n'
        f'[storage]\npath = "{tmp_path / "store"}"\n',
        encoding="utf-8",
    )
    try:
        main(["--config", str(config), "db", "copy", "--to", url])
    except SystemExit as exc:  # click may exit 0 after a subgroup's command
        assert not exc.code
    assert "copied" in capsys.readouterr().out
    target = store.make_engine(url)
    try:
        before, after = dump(source.engine), dump(target)
        assert before == after
        assert len(after["messages"]) == 3 and len(after["outbox"]) >= 3
        assert after["messages"][0]["claim_id"] == after["claims"][0]["id"]
        # Sequences moved past the copied ids: new rows get fresh ones.
        with target.begin() as conn:
            next_claim = conn.execute(
                insert(Claim)
                .values(claimant="z@example.com", received_at=NOW,
                        message_pk=after["messages"][0]["id"], updated_at=NOW)
                .returning(Claim.id)
            ).scalar_one()  # fmt: skip
            assert next_claim == after["claims"][-1]["id"] + 1
        # A second copy into the same database is refused.
        with pytest.raises(UsageError, match="not empty"):
            copy_database(source.engine, target)
    finally:
        target.dispose()


def test_copy_sqlite_to_sqlite(source: Any, tmp_path: Path) -> None:
    target = store.make_engine(f"sqlite:///{tmp_path / 'copy.db'}")
    try:
        store.upgrade(target)
        counts = copy_database(source.engine, target)
        assert counts["messages"] == 3 and counts["claims"] == 1
        assert dump(source.engine) == dump(target)
    finally:
        target.dispose()
