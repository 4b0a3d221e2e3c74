"""The poll loop's rules on fakes, fast: an in-memory mailbox and blob store, a manual clock and
SQLite in tmp_path. Nothing lost, nothing twice, nothing blocks the rest; the same paths against
the real Dovecot are in test_ingest.py and the adapters' contract tests."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake import store
from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.adapters.memory.clock import ManualClock
from intake.adapters.memory.mailbox import PROCESSED_KEYWORD, MemoryMailbox
from intake.core import config, configfile
from intake.core.errors import MailboxUnavailable, StorageError
from intake.core.mail import FolderInfo
from intake.ingest.pipeline import Ingestor, Outcome
from intake.store.models import Attachment, Location, MailboxState, Message, Submission
from tests.helpers import nested, submission

NAME = "submissions"


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per module; each test works on its own copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    engine = store.make_engine(f"sqlite:///{path}")
    store.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sessions(migrated: Path, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    path = tmp_path / "intake.db"
    shutil.copy(migrated, path)
    engine = store.make_engine(f"sqlite:///{path}")
    yield store.session_factory(engine)
    engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def box(clock: ManualClock) -> MemoryMailbox:
    return MemoryMailbox(NAME, clock=clock)


@pytest.fixture
def blobs() -> MemoryBlobStore:
    return MemoryBlobStore()


def settings_with(tmp_path: Path, **mailbox: Any) -> config.Settings:
    return configfile.from_mapping(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'intake.db'}"},
            "storage": {"path": str(tmp_path / "store")},
            "mailboxes": [
                {"name": NAME, "host": "imap.invalid", "username": "u", "password": "p", **mailbox}
            ],
            "ingest": {"max_message_bytes": 64 * 1024},
        },
        env={},
    )


class Env:
    """An Ingestor on the fakes, and looks at what it recorded."""

    def __init__(
        self,
        tmp_path: Path,
        sessions: sessionmaker[Session],
        box: MemoryMailbox,
        blobs: MemoryBlobStore,
        clock: ManualClock,
        **mailbox: Any,
    ) -> None:
        self.settings = settings_with(tmp_path, **mailbox)
        self.config = self.settings.mailboxes[0]
        self.sessions, self.box, self.blobs, self.clock = sessions, box, blobs, clock
        self.ingestor = Ingestor(
            self.settings, sessions, blobs, clock=clock, reply_secret=b"k" * 32
        )

    def poll(self, **kwargs: Any) -> dict[str, int]:
        with self.box.connection() as session:
            return self.ingestor.poll(session, self.config, **kwargs).as_json()

    def count(self, model: type, *where: object) -> int:
        with self.sessions() as session, session.begin():
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def state(self) -> MailboxState:
        with self.sessions() as session, session.begin():
            found = session.get(MailboxState, (NAME, "INBOX"))
            assert found is not None
            return found


@pytest.fixture
def env(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    box: MemoryMailbox,
    blobs: MemoryBlobStore,
    clock: ManualClock,
) -> Env:
    return Env(tmp_path, sessions, box, blobs, clock)


@pytest.fixture
def env_with(
    tmp_path: Path,
    sessions: sessionmaker[Session],
    box: MemoryMailbox,
    blobs: MemoryBlobStore,
    clock: ManualClock,
) -> Callable[..., Env]:
    return lambda **mailbox: Env(tmp_path, sessions, box, blobs, clock, **mailbox)


def result(fetched: int = 0, new: int = 0, duplicates: int = 0, quarantined: int = 0,
           ignored: int = 0) -> dict[str, int]:  # fmt: skip
    return {"fetched": fetched, "new": new, "duplicates": duplicates,
            "quarantined": quarantined, "ignored": ignored}  # fmt: skip


def operations(box: MemoryMailbox, *names: str) -> list[tuple[str, tuple[object, ...]]]:
    return [call for call in box.calls if call[0] in names]


# --------------------------------------------------------------------------- the happy path


def test_new_mail_is_stored_byte_exact_recorded_then_moved(env: Env) -> None:
    raw = submission(attachments=[("稿件.txt", "text/plain", "正文".encode())])
    env.box.deliver(raw)
    assert env.poll() == result(fetched=1, new=1)
    with env.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        assert message.sha256 == hashlib.sha256(raw).hexdigest()
        assert env.blobs.get(message.raw_path) == raw
        assert message.received_at.replace(tzinfo=env.clock().tzinfo) == env.clock()
        sub = session.scalars(select(Submission)).one()
        assert (sub.status, sub.title, sub.sender) == (
            "received",
            "春天的故事",
            "zhangsan@qq.example",
        )
        att = session.scalars(select(Attachment)).one()
        assert env.blobs.get(att.blob_path) == "正文".encode()
        assert session.scalars(select(Location)).one().moved_at is not None
    assert env.box.messages("INBOX") == {}
    assert list(env.box.messages("Processed").values()) == [raw]
    # The move comes after the commit: the last write before it is the message's.
    names = [name for name, _ in env.box.calls]
    assert names == ["connect", "select", "uids", "sizes", "fetch", "mark_processed"]


def test_rerun_finds_nothing_new(env: Env) -> None:
    env.box.deliver(submission())
    env.poll()
    assert env.poll() == result()
    assert env.count(Submission) == 1
    assert operations(env.box, "fetch") == [("fetch", ((1,),))]  # fetched once, ever


def test_seen_mail_is_still_ingested(env: Env) -> None:
    env.box.deliver(submission(), flags=["\\Seen"])
    assert env.poll()["new"] == 1


def test_the_same_bytes_twice_are_one_message_at_two_locations(env: Env) -> None:
    raw = submission()
    env.box.deliver(raw)
    env.box.deliver(raw)
    assert env.poll() == result(fetched=2, new=1, duplicates=1)
    assert (env.count(Message), env.count(Location), env.count(Submission)) == (1, 2, 1)
    assert env.box.messages("INBOX") == {}


def test_redelivery_with_new_trace_headers_makes_no_second_submission(env: Env) -> None:
    raw = submission(message_id="<same@qq.example>")
    env.box.deliver(raw)
    env.box.deliver(b"Received: from relay2 by mx; Fri, 20 Nov 2026 09:31:00 +0000\r\n" + raw)
    assert env.poll() == result(fetched=2, new=1, duplicates=1)
    assert (env.count(Message), env.count(Submission)) == (2, 1)  # both byte sequences kept


# --------------------------------------------------------------------------- crashes and failures


def test_crash_between_commit_and_move_leaves_no_duplicate(env: Env) -> None:
    env.box.deliver(submission())
    env.box.deliver(submission(subject="第二篇"))
    env.box.fail_next("mark_processed", KeyboardInterrupt("killed"))  # the process dies
    with pytest.raises(KeyboardInterrupt):
        env.poll()
    assert env.count(Submission) == 2  # committed ...
    assert len(env.box.messages("INBOX")) == 2  # ... not moved
    assert env.poll() == result()  # nothing ingested twice ...
    assert env.box.messages("INBOX") == {}  # ... and the leftovers were moved
    assert env.count(Submission) == 2
    assert env.count(Location, Location.moved_at.is_(None)) == 0
    assert len(operations(env.box, "fetch")) == 1


def test_crash_between_the_move_and_noting_it_is_noted_by_the_next_poll(env: Env) -> None:
    env.box.deliver(submission())
    env.box.fail_next("mark_processed", KeyboardInterrupt("killed"))
    with pytest.raises(KeyboardInterrupt):
        env.poll()
    # As if the MOVE had gone through and the process died before recording it.
    with env.box.connection() as other:
        other.select("INBOX")
        other.mark_processed([1], "Processed")
    assert env.count(Location, Location.moved_at.is_(None)) == 1
    assert env.poll() == result()
    assert env.count(Location, Location.moved_at.is_(None)) == 0
    assert len(operations(env.box, "fetch")) == 1 and env.count(Message) == 1


def test_a_failed_move_is_retried_by_the_next_poll(env: Env) -> None:
    env.box.deliver(submission())
    env.box.fail_next("mark_processed", MailboxUnavailable("mailbox submissions: connection lost"))
    assert env.poll() == result(fetched=1, new=1)  # logged, not raised: it is committed
    assert env.count(Location, Location.moved_at.is_(None)) == 1
    assert env.poll() == result()
    assert env.count(Location, Location.moved_at.is_(None)) == 0
    assert env.box.messages("INBOX") == {}


def test_storage_failure_stops_the_poll_records_nothing_and_leaves_the_mail(env: Env) -> None:
    env.box.deliver(submission())
    env.box.deliver(submission(subject="第二篇"))
    env.blobs.fail_writes()
    with pytest.raises(StorageError, match="cannot store blob"):
        env.poll()
    assert env.count(Message) == 0 and env.count(Location) == 0
    assert len(env.box.messages("INBOX")) == 2  # still on the server, not moved
    assert operations(env.box, "mark_processed") == []
    env.blobs.heal()
    assert env.poll() == result(fetched=2, new=2)


def test_quarantine_keeps_the_bytes_and_does_not_block_the_next_message(env: Env) -> None:
    broken = nested(80)  # deeper than the parser accepts
    env.box.deliver(broken)
    env.box.deliver(submission(subject="second"))
    assert env.poll() == result(fetched=2, new=1, quarantined=1)
    with env.sessions() as session, session.begin():
        bad = session.scalars(select(Message).where(Message.kind == "quarantined")).one()
        assert "nested more than" in bad.reason
        assert env.blobs.get(bad.raw_path) == broken
        pk = bad.id
    assert env.box.messages("INBOX") == {}  # quarantined mail is recorded, so it moves
    assert env.poll() == result()
    assert env.ingestor.reprocess(pk) is Outcome.QUARANTINED
    with env.sessions() as session, session.begin():
        again = session.get(Message, pk)
        assert again is not None and again.attempts == 1 and again.kind == "quarantined"
    assert env.count(Submission) == 1


def test_a_message_gone_between_search_and_fetch_is_skipped(env: Env) -> None:
    env.box.deliver(submission())
    second = env.box.deliver(submission(subject="第二篇"))
    env.box.on_next("fetch", lambda: env.box.expunge("INBOX", second))  # another client
    assert env.poll() == result(fetched=1, new=1)
    assert env.count(Location) == 1


# --------------------------------------------------------------------------- server state


def test_uidvalidity_change_rescans_without_duplicates(env_with: Callable[..., Env]) -> None:
    env = env_with(processed_folder="")  # flag instead of move: the mail stays for the rescan
    for i in range(3):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    assert env.poll()["new"] == 3
    assert all(PROCESSED_KEYWORD in env.box.flags("INBOX", uid) for uid in (1, 2, 3))
    new = env.box.change_uidvalidity("INBOX")
    assert env.poll() == result(fetched=3, duplicates=3)
    assert (env.count(Submission), env.count(Message), env.count(Location)) == (3, 3, 6)
    assert env.state().uidvalidity == new
    assert env.poll() == result()


def test_oversize_is_recorded_from_its_header_and_left_on_the_server(env: Env) -> None:
    big = submission(attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" + b"x" * 100_000)])
    uid = env.box.deliver(big)
    assert env.poll() == result(fetched=1, ignored=1)
    with env.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        assert message.kind == "oversize" and message.raw_path == ""
        assert message.subject == "投稿：《春天的故事》"
        assert "over the 65536-byte limit" in message.reason
    assert env.box.messages("INBOX") == {uid: big}  # left on the server
    assert operations(env.box, "fetch") == [] and env.blobs.paths() == []
    assert env.poll() == result()  # known: neither recorded again nor moved
    assert env.box.messages("INBOX") == {uid: big}


def test_backlog_and_success_are_kept_on_the_mailbox_state(env: Env) -> None:
    for i in range(3):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        assert total == 3

    env.poll(progress=progress)
    assert seen == [1, 2, 3]
    state = env.state()
    assert (state.backlog, state.last_error) == (0, "")
    assert state.last_success_at is not None
    assert state.last_success_at.replace(tzinfo=env.clock().tzinfo) == env.clock()


# --------------------------------------------------------------------------- batches and stopping


def test_batches_are_bounded_by_count_and_each_is_moved_after_it_is_recorded(
    env_with: Callable[..., Env],
) -> None:
    env = env_with(batch_size=2)
    for i in range(5):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    assert env.poll()["new"] == 5
    assert operations(env.box, "fetch", "mark_processed") == [
        ("fetch", ((1, 2),)), ("mark_processed", ((1, 2), "Processed")),
        ("fetch", ((3, 4),)), ("mark_processed", ((3, 4), "Processed")),
        ("fetch", ((5,),)), ("mark_processed", ((5,), "Processed")),
    ]  # fmt: skip


def test_batches_are_bounded_by_bytes(env: Env) -> None:
    raws = [submission(subject=f"稿件 {i}", body="长" * 2000) for i in range(4)]
    for raw in raws:
        env.box.deliver(raw)
    env.ingestor.poller.batch_bytes = max(map(len, raws)) * 2  # two messages a FETCH, not three
    assert min(map(len, raws)) * 3 > env.ingestor.poller.batch_bytes
    assert env.poll()["new"] == 4
    assert [args for _, args in operations(env.box, "fetch")] == [((1, 2),), ((3, 4),)]


def test_should_stop_is_asked_between_messages(env: Env) -> None:
    for i in range(5):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    recorded: list[int] = []
    assert env.poll(
        progress=lambda done, total: recorded.append(done),
        should_stop=lambda: len(recorded) >= 2,
    ) == result(fetched=2, new=2)
    assert env.count(Submission) == 2
    assert sorted(env.box.messages("INBOX")) == [3, 4, 5]  # the rest waits on the server
    assert env.count(Location, Location.moved_at.is_(None)) == 0  # what was recorded, moved
    assert env.state().backlog == 3
    assert env.poll() == result(fetched=3, new=3)
    assert env.state().backlog == 0


def test_a_backlog_parsed_by_the_worker_is_ingested_the_same(env: Env) -> None:
    env.box.deliver(nested(80))
    for i in range(6):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    assert env.poll() == result(fetched=7, new=6, quarantined=1)
    with env.sessions() as session, session.begin():
        titles = set(session.scalars(select(Submission.title)))
    assert titles == {f"稿件 {i}" for i in range(6)}


def test_a_parse_worker_that_cannot_start_costs_nothing_but_speed(env: Env) -> None:
    env.ingestor.parse_hook = "tests.ingest.no_such_module:hook"  # the worker dies at start
    for i in range(3):
        env.box.deliver(submission(subject=f"稿件 {i}"))
    assert env.poll() == result(fetched=3, new=3)  # parsed in-process instead
    assert env.poll() == result()


def test_folder_info_is_frozen() -> None:
    info = FolderInfo("INBOX", 1, 0)
    with pytest.raises(AttributeError):
        info.uidvalidity = 2  # type: ignore[misc]
