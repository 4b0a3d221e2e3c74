"""`intake status`: what it reports and when it calls the service unhealthy; and the retention
housekeeping the maintenance job runs (both read the same service state), on both backends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.adapters.blobstore import LocalBlobStore
from intake.app import App
from intake.cli import main
from intake.core import config, configfile
from intake.service import health as service
from intake.store.models import Claim, Lease, MailboxState, Message, Outbox
from tests.helpers import make_app

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def settings(tmp_path: Path, db_url: str, **daemon: object) -> config.Settings:
    return configfile.from_mapping(
        {
            "database": {"url": db_url},
            "storage": {"path": str(tmp_path / "store")},
            "mailboxes": [
                {"name": "tougao", "host": "imap.example.com", "username": "u", "password": "p"},
                {"name": "legal", "host": "imap.example.com", "username": "l", "password": "p",
                 "idle": False},
            ],
            "smtp": {"host": "smtp.example.com", "from_address": "tougao@news.example"},
            "daemon": {"poll_interval": 60.0, "outbox_interval": 30.0, **daemon},
        },
        env={},
    )  # fmt: skip


@pytest.fixture
def app(tmp_path: Path, db_url: str) -> Iterator[App]:
    app = make_app(settings(tmp_path, db_url), clock=lambda: NOW)
    yield app
    app.engine.dispose()


def polled(app: App, name: str, ago: timedelta, *, idle: str = "idling", error: str = "") -> None:
    with app.sessions() as session, session.begin():
        session.add(
            MailboxState(
                mailbox=name, folder="INBOX", uidvalidity=1, last_poll_at=NOW - ago,
                last_success_at=NOW - ago, idle_state=idle, last_error=error,
                last_error_at=NOW if error else None, backlog=0,
            )
        )  # fmt: skip


def message(app: App, kind: str, *, ingested: datetime = NOW, raw: bytes | None = None) -> int:
    raw_path = app.blobs.put("raw", raw)[1] if raw is not None else ""
    with app.sessions() as session, session.begin():
        row = Message(
            sha256=f"{kind}-{ingested.isoformat()}-{raw_path}-{id(raw)}"[:64],
            body_sha256="b", size=1, raw_path=raw_path, received_at=ingested,
            ingested_at=ingested, kind=kind, defects=[],
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def reply(app: App, state: str, due: datetime, n: int) -> None:
    with app.sessions() as session, session.begin():
        session.add(
            Outbox(
                template="ack", to_addr="a@example.com", subject="s", message_id=f"m{n}@x",
                raw=b"x", state=state, next_attempt_at=due, created_at=due,
            )
        )  # fmt: skip


def test_healthy_service(app: App) -> None:
    polled(app, "tougao", timedelta(seconds=30))
    polled(app, "legal", timedelta(seconds=150), idle="off")
    with app.sessions() as session, session.begin():
        session.add(Lease(name="mailbox:tougao", holder="h1:42:abc", acquired_at=NOW,
                          expires_at=NOW + timedelta(seconds=60)))  # fmt: skip
        session.add(Lease(name="mailbox:legal", holder="h2:7:def", acquired_at=NOW,
                          expires_at=NOW - timedelta(seconds=1)))  # fmt: skip
    reply(app, "sent", NOW - timedelta(hours=1), 1)
    reply(app, "pending", NOW + timedelta(minutes=5), 2)  # retrying later: fine
    reply(app, "failed", NOW - timedelta(days=3), 3)  # old news
    message(app, "quarantined")
    report = service.status(app.sessions, app.settings, NOW)
    assert report.healthy, report.problems
    tougao, legal = report.mailboxes
    assert (tougao.idle_state, tougao.lease_holder) == ("idling", "h1:42:abc")
    assert (legal.idle_state, legal.lease_holder) == ("off", None)  # its lease expired
    assert (report.outbox.pending, report.outbox.failed, report.outbox.failed_last_day) == (1, 1, 0)
    assert report.quarantined == 1
    assert [lease.expired for lease in report.leases] == [True, False]


def test_each_problem_is_named(app: App) -> None:
    polled(app, "tougao", timedelta(minutes=10), error="mailbox tougao: cannot connect")
    reply(app, "failed", NOW - timedelta(hours=2), 1)
    reply(app, "pending", NOW - timedelta(minutes=20), 2)  # due long ago: no sender runs
    report = service.status(app.sessions, app.settings, NOW)
    assert not report.healthy
    assert report.problems == (
        "mailbox tougao: no successful poll for 10 min (last error: mailbox tougao: cannot "
        "connect)",
        "mailbox legal: never polled successfully",
        "outbox: 1 repl(ies) failed in the last day",
        "outbox: 1 due repl(ies) not sent: is the daemon running?",
    )


def test_overdue_claims_are_counted(app: App) -> None:
    pk = message(app, "claim")
    with app.sessions() as session, session.begin():
        for status, deadline in [
            ("received", NOW - timedelta(days=1)),  # overdue
            ("investigating", NOW - timedelta(hours=1)),  # overdue
            ("needs_info", NOW - timedelta(days=1)),  # waiting for the claimant
            ("received", NOW + timedelta(days=1)),  # not yet
            ("resolved_removed", NOW - timedelta(days=1)),  # closed
            ("rejected", NOW - timedelta(days=1)),  # closed
            ("received", None),  # no deadline
        ]:
            session.add(Claim(status=status, claimant="x@example.com", received_at=NOW,
                              message_pk=pk, deadline=deadline, updated_at=NOW))  # fmt: skip
    assert service.status(app.sessions, app.settings, NOW).overdue_claims == 2


def test_cli_exit_code_and_json(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "intake.toml"
    cfg.write_text(
        f'[database]\nurl = "{app.settings.database.url}"\n'
        f'[storage]\npath = "{tmp_path / "store"}"\n'
        '[[mailboxes]]\nname = "tougao"\nhost = "imap.example.com"\n'
        'username = "u"\npassword = "p"\n',
        encoding="utf-8",
    )
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(cfg), "status", "--json"])
    assert exited.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["healthy"] is False
    assert report["problems"] == ["mailbox tougao: never polled successfully"]
    with app.sessions() as session, session.begin():
        session.add(
            MailboxState(mailbox="tougao", folder="INBOX", last_success_at=datetime.now(UTC),
                         idle_state="idling", last_error="", backlog=3)
        )  # fmt: skip
    try:
        main(["--config", str(cfg), "status"])
    except SystemExit as exc:  # healthy: exit 0 (click may or may not raise for it)
        assert not exc.code
    out = capsys.readouterr().out
    assert out.startswith("healthy")
    assert "tougao" in out and "idling" in out


# ----------------------------------------------------------------------------- retention


def test_retention_deletes_old_raw_mail_of_ignored_kinds_only(app: App, tmp_path: Path) -> None:
    old = NOW - timedelta(days=40)
    spam = message(app, "spam", ingested=old, raw=b"spam spam")
    recent = message(app, "autoreply", ingested=NOW - timedelta(days=2), raw=b"away")
    genuine = message(app, "submission", ingested=old, raw=b"article")
    stuck = message(app, "quarantined", ingested=old, raw=b"broken")
    blobs = LocalBlobStore(tmp_path / "store")
    with app.sessions() as session, session.begin():
        paths = {m.id: m.raw_path for m in session.scalars(select(Message))}
    assert service.purge_ignored_raw(app.sessions, blobs, 0, NOW) == 0  # 0 keeps everything
    assert service.purge_ignored_raw(app.sessions, blobs, 30, NOW) == 1
    assert not blobs.exists(paths[spam])
    for kept in (recent, genuine, stuck):
        assert blobs.exists(paths[kept])
    with app.sessions() as session, session.begin():
        row = session.get(Message, spam)
        assert row is not None and row.raw_path == "" and row.kind == "spam"  # the record stays
    assert service.purge_ignored_raw(app.sessions, blobs, 30, NOW) == 0


def test_run_maintenance_reports_the_retention(tmp_path: Path, db_url: str) -> None:
    app = make_app(settings(tmp_path, db_url, retain_ignored_days=7), clock=lambda: NOW)
    try:
        message(app, "list", ingested=NOW - timedelta(days=8), raw=b"newsletter")
        assert app.run_maintenance()["raw mail purged"] == 1
    finally:
        app.engine.dispose()
