"""The database blob store in ingest, on SQLite and PostgreSQL: a message's bytes commit with
its rows, a rollback leaves neither, a quarantined message keeps its bytes, and pieces are
bounded. The port's own contract is in tests/adapters/test_blobstore_contract.py."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from intake import store
from intake.adapters.memory.clock import ManualClock
from intake.adapters.memory.mailbox import MemoryMailbox
from intake.core import configfile
from intake.core.errors import StorageError
from intake.core.events import Ingested
from intake.ingest.pipeline import Ingestor
from intake.store import schema
from intake.store.blobs import DatabaseBlobStore
from intake.store.models import Attachment, Message
from tests.helpers import nested, submission

NAME = "submissions"
PIECE = 32 * 1024


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = store.make_engine(db_url)
    store.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def blobs(engine: Engine) -> DatabaseBlobStore:
    return DatabaseBlobStore(engine, chunk_bytes=PIECE)


class Env:
    def __init__(self, tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore, **kw: Any):
        self.settings = configfile.from_mapping(
            {
                "database": {"url": engine.url.render_as_string(hide_password=False)},
                "storage": {"path": str(tmp_path / "store"), "backend": "database"},
                "mailboxes": [
                    {"name": NAME, "host": "imap.invalid", "username": "u", "password": "p"}
                ],
            },
            env={},
        )
        self.engine, self.blobs = engine, blobs
        self.sessions: sessionmaker[Session] = store.session_factory(engine)
        self.clock = ManualClock()
        self.box = MemoryMailbox(NAME, clock=self.clock)
        self.ingestor = Ingestor(
            self.settings, self.sessions, blobs, clock=self.clock, reply_secret=b"k" * 32, **kw
        )

    def poll(self) -> dict[str, int]:
        with self.box.connection() as session:
            return self.ingestor.poll(session, self.settings.mailboxes[0]).as_json()

    def stored(self) -> dict[str, int]:
        """path -> size of every blob in the database."""
        with store.reading(self.engine) as conn:
            rows = conn.execute(select(schema.blobs.c.path, schema.blobs.c.size))
            return {path: size for path, size in rows}


def test_a_submission_and_its_attachments_are_rows_of_the_database(
    tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore
) -> None:
    env = Env(tmp_path, engine, blobs)
    photo = bytes(range(256)) * 400  # 100 KiB: four pieces
    raw = submission(attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" + photo)])
    env.box.deliver(raw)
    assert env.poll()["new"] == 1
    with env.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        attachment = session.scalars(select(Attachment)).one()
        assert blobs.get(message.raw_path) == raw
        assert blobs.get(attachment.blob_path) == b"\xff\xd8" + photo
        assert env.stored() == {message.raw_path: len(raw), attachment.blob_path: len(photo) + 2}
        pieces = session.scalar(
            select(func.count()).where(schema.blob_chunks.c.path == attachment.blob_path)
        )
        assert pieces == -(-(len(photo) + 2) // PIECE)
    assert not (tmp_path / "store").exists()  # nothing went to the file system


def test_a_hook_that_fails_rolls_the_attachments_back_and_keeps_the_raw_message(
    tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore
) -> None:
    def failing(session: Session, item: Ingested) -> None:
        raise RuntimeError("template missing")

    env = Env(tmp_path, engine, blobs, hooks=[failing])
    raw = submission(attachments=[("稿件.txt", "text/plain", "正文".encode())])
    env.box.deliver(raw)
    assert env.poll()["quarantined"] == 1
    sha = hashlib.sha256(raw).hexdigest()
    # The raw message, with the quarantined row; the attachment went with the rolled back rows.
    assert env.stored() == {f"raw/{sha[:2]}/{sha[2:4]}/{sha}": len(raw)}


def test_unparseable_mail_is_quarantined_with_its_bytes(
    tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore
) -> None:
    env = Env(tmp_path, engine, blobs)
    broken = nested(80)
    env.box.deliver(broken)
    assert env.poll()["quarantined"] == 1
    with env.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        assert message.kind == "quarantined" and blobs.get(message.raw_path) == broken


def test_a_redelivery_keeps_its_own_bytes(
    tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore
) -> None:
    env = Env(tmp_path, engine, blobs)
    raw = submission(message_id="<same@qq.example>")
    again = b"Received: from relay2 by mx; Fri, 20 Nov 2026 09:31:00 +0000\r\n" + raw
    env.box.deliver(raw)
    env.box.deliver(again)
    assert env.poll()["duplicates"] == 1
    with env.sessions() as session, session.begin():
        paths = session.scalars(select(Message.raw_path).order_by(Message.id)).all()
    assert [blobs.get(p) for p in paths] == [raw, again]
    assert len(env.stored()) == 2


def test_a_store_that_refuses_writes_stops_the_poll_and_records_nothing(
    tmp_path: Path, engine: Engine, blobs: DatabaseBlobStore
) -> None:
    env = Env(tmp_path, engine, blobs)
    env.box.deliver(submission())
    with engine.begin() as conn:  # the database refuses every new blob, as a full disk would
        conn.execute(text("ALTER TABLE blob_chunks RENAME TO blob_chunks_away"))
    with pytest.raises(StorageError, match="cannot store blob"):
        env.poll()
    with env.sessions() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert env.stored() == {} and list(env.box.messages("INBOX"))  # still on the server
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE blob_chunks_away RENAME TO blob_chunks"))
    assert env.poll()["new"] == 1


def test_two_transactions_storing_the_same_bytes_keep_one_copy(
    engine: Engine, blobs: DatabaseBlobStore
) -> None:
    sessions = store.session_factory(engine)
    data = b"the same photo, sent by two contributors" * 1000
    first = sessions()
    first.begin()
    blobs.put("att", data, first)
    done = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            # On PostgreSQL this waits for the first transaction's key, then finds it stored.
            with sessions() as session, session.begin():
                blobs.put("att", data, session)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=second)
    if engine.dialect.name == "postgresql":
        worker.start()
        first.commit()
    else:  # SQLite: one writer at a time, so the second begins after the first commits
        first.commit()
        worker.start()
    first.close()
    worker.join(timeout=60)
    assert done.is_set() and errors == []
    _, path = blobs.put("att", data)
    assert blobs.get(path) == data
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.blobs)) == 1
        assert conn.scalar(select(func.count()).select_from(schema.blob_chunks)) == -(
            -len(data) // PIECE
        )


def test_paths_that_are_not_blob_paths_are_refused(blobs: DatabaseBlobStore) -> None:
    for path in ("../../etc/passwd", "raw/00/00/xyz", "msg/00/00/" + "0" * 64):
        assert not blobs.exists(path)
        with pytest.raises(StorageError, match="not a blob path"):
            blobs.get(path)
