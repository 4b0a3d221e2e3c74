"""Ingest end to end against a real Dovecot: nothing lost, nothing twice, no crash."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.app import App
from intake.core.errors import MailboxUnavailable, StorageError
from intake.core.mail import FolderInfo, MessageRef, RawMail
from intake.ingest.parseahead import Parsed
from intake.ingest.pipeline import Ingestor, Outcome
from intake.store.models import Attachment, Location, Message, Submission
from tests.helpers import AppFactory, nested, settings_for, submission
from tests.servers import Dovecot


@pytest.fixture
def account(imap_account: tuple[str, str]) -> tuple[str, str]:
    return imap_account


@pytest.fixture
def app(
    tmp_path: Path, db_url: str, dovecot: Dovecot, account: tuple[str, str], app_factory: AppFactory
) -> App:
    return app_factory(settings_for(tmp_path, db_url, dovecot, account))


def poll(app: App) -> dict[str, int]:
    return app.poll_mailbox(app.settings.mailboxes[0]).as_json()


def count(app: App, model: type, *where: object) -> int:
    with app.sessions() as session, session.begin():
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_submission_is_stored_byte_exact_then_moved(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    raw = submission(attachments=[("稿件.txt", "text/plain", "正文".encode())])
    dovecot.append(*account, "INBOX", raw)
    assert poll(app) == {"fetched": 1, "new": 1, "duplicates": 0, "quarantined": 0, "ignored": 0}
    with app.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        assert message.sha256 == hashlib.sha256(raw).hexdigest()
        assert app.blobs.get(message.raw_path) == raw
        assert message.kind == "submission"
        sub = session.scalars(select(Submission)).one()
        assert (sub.status, sub.copyright_status) == ("received", "not_requested")
        assert sub.sender == "zhangsan@qq.example"
        assert sub.sender_name == "张三"
        assert sub.title == "春天的故事"
        att = session.scalars(select(Attachment)).one()
        assert att.filename == "稿件.txt"
        assert app.blobs.get(att.blob_path) == "正文".encode()
        assert session.scalars(select(Location)).one().moved_at is not None
    assert dovecot.uids(*account, "INBOX") == []
    assert len(dovecot.uids(*account, "Processed")) == 1


def test_rerun_finds_nothing_new(app: App, dovecot: Dovecot, account: tuple[str, str]) -> None:
    dovecot.append(*account, "INBOX", submission())
    poll(app)
    assert poll(app)["fetched"] == 0
    assert count(app, Submission) == 1


def test_seen_message_is_still_ingested(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    dovecot.append(*account, "INBOX", submission(), flags=["\\Seen"])
    assert poll(app)["new"] == 1


def test_same_message_twice_is_one_message(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    raw = submission()
    dovecot.append(*account, "INBOX", raw)
    dovecot.append(*account, "INBOX", raw)
    result = poll(app)
    assert (result["new"], result["duplicates"]) == (1, 1)
    assert count(app, Message) == 1
    assert count(app, Location) == 2
    assert dovecot.uids(*account, "INBOX") == []


def test_redelivery_with_new_trace_headers_makes_no_second_submission(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    raw = submission(message_id="<same@qq.example>")
    dovecot.append(*account, "INBOX", raw)
    dovecot.append(
        *account, "INBOX", b"Received: from relay2 by mx; Fri, 20 Nov 2026 09:31:00 +0000\r\n" + raw
    )
    result = poll(app)
    assert (result["new"], result["duplicates"]) == (1, 1)
    assert count(app, Message) == 2  # both byte sequences are kept
    assert count(app, Submission) == 1


def test_crash_between_commit_and_move_leaves_no_duplicate(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    dovecot.append(*account, "INBOX", submission())
    dovecot.append(*account, "INBOX", submission(subject="第二篇"))

    class CrashBeforeMove:
        """The real mailbox, except that the process dies when it tries to move."""

        def __init__(self, box: object) -> None:
            self.box = box

        def __getattr__(self, name: str) -> Callable[..., object]:
            return getattr(self.box, name)  # type: ignore[no-any-return]

        def mark_processed(self, uids: list[int], dest: str) -> str:
            raise KeyboardInterrupt("killed")

    config = app.settings.mailboxes[0]
    with app.mailbox(config) as box, pytest.raises(KeyboardInterrupt):
        app.ingestor.poll(CrashBeforeMove(box), config)  # type: ignore[arg-type]
    assert count(app, Submission) == 2
    assert len(dovecot.uids(*account, "INBOX")) == 2  # committed, not moved
    result = poll(app)
    assert result["fetched"] == 0  # nothing ingested twice ...
    assert dovecot.uids(*account, "INBOX") == []  # ... and the leftovers were moved
    assert count(app, Submission) == 2


def test_store_failure_stops_the_poll_and_records_nothing(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    dovecot.append(*account, "INBOX", submission())
    store = Path(app.settings.storage.path)
    store.mkdir(parents=True, exist_ok=True)
    (store / "raw").write_text("not a directory")  # every raw write now fails
    with pytest.raises(StorageError, match="cannot store blob"):
        poll(app)
    assert count(app, Message) == 0
    assert len(dovecot.uids(*account, "INBOX")) == 1  # still on the server, not moved
    (store / "raw").unlink()
    assert poll(app)["new"] == 1


def test_uidvalidity_change_rescans_without_duplicates(
    tmp_path: Path, db_url: str, dovecot: Dovecot, account: tuple[str, str], app_factory: AppFactory
) -> None:
    # Leave mail in INBOX after ingest (flag instead of move) so the rescan sees it again.
    app = app_factory(
        settings_for(tmp_path, db_url, dovecot, account, mailbox={"processed_folder": ""})
    )
    for i in range(3):
        dovecot.append(*account, "INBOX", submission(subject=f"稿件 {i}"))
    assert poll(app)["new"] == 3
    dovecot.change_uidvalidity(account[0], "INBOX")
    result = poll(app)
    assert (result["fetched"], result["new"], result["duplicates"]) == (3, 0, 3)
    assert count(app, Submission) == 3
    assert count(app, Message) == 3


def test_quarantine_does_not_block_the_next_message(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    broken = nested(80)  # deeper than the parser accepts
    dovecot.append(*account, "INBOX", broken)
    dovecot.append(*account, "INBOX", submission(subject="second"))
    result = poll(app)
    assert (result["quarantined"], result["new"]) == (1, 1)
    with app.sessions() as session, session.begin():
        bad = session.scalars(select(Message).where(Message.kind == "quarantined")).one()
        assert "nested more than" in bad.reason
        assert app.blobs.get(bad.raw_path) == broken  # kept byte-exact
        pk = bad.id
    assert dovecot.uids(*account, "INBOX") == []  # quarantined mail is recorded, so it moves
    assert app.ingestor.reprocess(pk) is Outcome.QUARANTINED
    with app.sessions() as session, session.begin():
        assert session.get(Message, pk).attempts == 1  # type: ignore[union-attr]
    assert count(app, Submission) == 1


def test_oversize_is_recorded_from_headers_and_left(
    tmp_path: Path, db_url: str, dovecot: Dovecot, account: tuple[str, str], app_factory: AppFactory
) -> None:
    app = app_factory(
        settings_for(tmp_path, db_url, dovecot, account, ingest={"max_message_bytes": 4096})
    )
    big = submission(attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" + b"x" * 20000)])
    dovecot.append(*account, "INBOX", big)
    result = poll(app)
    assert (result["fetched"], result["ignored"]) == (1, 1)
    with app.sessions() as session, session.begin():
        message = session.scalars(select(Message)).one()
        assert message.kind == "oversize"
        assert message.subject == "投稿：《春天的故事》"
        assert "over the 4096-byte limit" in message.reason
    assert len(dovecot.uids(*account, "INBOX")) == 1  # left on the server
    assert poll(app)["fetched"] == 0


def test_cpython_corpus_none_lost(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    cpython_email_data: Path,
    app_factory: AppFactory,
) -> None:
    account = dovecot.add_user("corpus")
    app = app_factory(settings_for(tmp_path, sqlite_url, dovecot, account))
    files = sorted(cpython_email_data.glob("msg_*.txt"))
    hashes = set()
    for path in files:
        raw = path.read_bytes()
        hashes.add(hashlib.sha256(raw).hexdigest())
        dovecot.append(*account, "INBOX", raw)
    result = poll(app)
    assert result["fetched"] == len(files)
    with app.sessions() as session, session.begin():
        stored = set(session.scalars(select(Message.sha256)))
        # Dovecot may normalise bare LF to CRLF on APPEND; compare what the server holds.
    assert len(stored) == len(hashes)
    assert dovecot.uids(*account, "INBOX") == []


def test_backlog_parsed_by_the_worker_is_ingested_the_same(
    app: App, dovecot: Dovecot, account: tuple[str, str]
) -> None:
    app.ingestor.parse_ahead_min = 3  # a "large" backlog, so the parse worker starts
    dovecot.append(*account, "INBOX", nested(80))
    for i in range(6):
        dovecot.append(*account, "INBOX", submission(subject=f"稿件 {i}"))
    assert poll(app) == {"fetched": 7, "new": 6, "duplicates": 0, "quarantined": 1, "ignored": 0}
    with app.sessions() as session, session.begin():
        titles = set(session.scalars(select(Submission.title)))
    assert titles == {f"稿件 {i}" for i in range(6)}


def test_a_failed_parse_worker_costs_nothing_but_speed(app: App) -> None:
    failed: Future[Parsed] = Future()
    failed.set_exception(BrokenProcessPool("worker died"))
    raw = RawMail(MessageRef("submissions", "INBOX", 1, 1), submission())
    assert app.ingestor.ingest(raw, parsed_ahead=failed) is Outcome.NEW


def test_unreachable_server_is_a_clear_error(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, app_factory: AppFactory
) -> None:
    app = app_factory(settings_for(tmp_path, sqlite_url, dovecot, ("nobody", "wrong")))
    with pytest.raises(MailboxUnavailable, match="login failed for nobody"):
        poll(app)


def test_folder_info_is_frozen() -> None:
    info = FolderInfo("INBOX", 1, 0)
    with pytest.raises(AttributeError):
        info.uidvalidity = 2  # type: ignore[misc]
    assert Ingestor is not None
