"""Refused credentials over a minute of (injected) time: every login of the account waits
together, the journal gets one line per refusal, replies keep their attempts, and `intake
status` names the account and the server's words."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from intake.app import App
from intake.core import configfile
from intake.core.errors import IntakeError
from intake.service import health
from intake.store import outbox as outbox_store
from tests.helpers import AppFactory, submission
from tests.imapproxy import LoggingProxy
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


class Clock:
    """Wall clock and monotonic clock in one, moved by the test alone."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def monotonic(self) -> float:
        return self.seconds

    def now(self) -> datetime:
        return START + timedelta(seconds=self.seconds)


def build(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp: SmtpServer,
    clock: Clock,
    smtp_login: tuple[str, str],
    port: int,
) -> App:
    data = {
        "database": {"url": f"sqlite:///{tmp_path}/intake.db"},
        "storage": {"path": str(tmp_path / "store")},
        "mailboxes": [
            {
                "name": "submissions", "host": dovecot.host, "port": port, "security": "none",
                "username": account[0], "password": account[1], "timeout": 10.0,
            }
        ],
        "smtp": {**smtp_section(smtp), "username": smtp_login[0], "password": smtp_login[1]},
    }  # fmt: skip
    settings = configfile.from_mapping(data, env={})
    return app_factory(settings, clock=clock.now, monotonic=clock.monotonic)


def smtp_section(smtp: SmtpServer) -> dict[str, Any]:
    return {
        "host": smtp.host,
        "port": smtp.port,
        "security": "none",
        "from_address": "投稿 <tougao@news.example>",
        "timeout": 10.0,
        "backoff_base_seconds": 0.0,
    }


def queue_one_reply(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, account: tuple[str, str],
    smtp: SmtpServer, clock: Clock,
) -> None:  # fmt: skip
    """A working login polls one submission, which queues its acknowledgment."""
    dovecot.append(*account, "INBOX", submission())
    good = build(tmp_path, app_factory, dovecot, account, smtp, clock, ("", ""), dovecot.port)
    assert good.poll_mailbox(good.settings.mailboxes[0]).new == 1
    good.close()


def run_a_minute(app: App, clock: Clock) -> None:
    """What the daemon does, every 5 s for a minute: poll, (re)connect IDLE, deliver the outbox."""
    box = app.settings.mailboxes[0]
    for second in range(0, 61, 5):
        clock.seconds = float(second)
        for attempt in (lambda: app.poll_mailbox(box), lambda: idle_connect(app)):
            try:
                attempt()
            except IntakeError:
                pass
        app.deliver_outbox()


def idle_connect(app: App) -> None:
    with app.mailbox(app.settings.mailboxes[0]):
        pass


def attempts(app: App) -> list[tuple[str, int]]:
    with app.sessions() as session, session.begin():
        return [(row.state, row.attempts) for row in outbox_store.rows(session)]


def test_a_wrong_password_waits_for_every_login_of_the_account(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    smtp_server: SmtpServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user, password = dovecot.add_user("locked")
    clock = Clock()
    queue_one_reply(tmp_path, app_factory, dovecot, (user, password), smtp_server, clock)
    dovecot.append(user, password, "INBOX", submission(subject="第二篇"))
    with LoggingProxy(dovecot.port) as proxy, caplog.at_level(logging.INFO):
        # The QQ way: one authorization code for IMAP and SMTP, revoked.
        app = build(
            tmp_path, app_factory, dovecot, (user, "revoked-code"), smtp_server, clock,
            (user, "revoked-code"), proxy.port,
        )  # fmt: skip
        run_a_minute(app, clock)
        logins = [name for session in proxy.commands() for name in session if name == "LOGIN"]
    # 0 s and 30 s; the next would be at 90 s. No SMTP login: the account waits as a whole.
    assert len(logins) == 2
    assert smtp_server.auth_attempts == 0
    refusals = [r for r in caplog.records if r.name == "intake.adapters.logins"]
    assert [r.levelno for r in refusals] == [logging.WARNING, logging.WARNING]
    assert "waits 30 s" in refusals[0].getMessage() and "waits 60 s" in refusals[1].getMessage()
    assert not [
        r for r in caplog.records if r.name in ("intake.replies.delivery", "intake.replies.queue")
    ]
    assert {a for _state, a in attempts(app)} == {0}  # no reply is charged for our mistake
    report = health.status(app.sessions, app.settings, clock.now())
    problem = next(p for p in report.problems if p.startswith("imap login"))
    assert f"imap login {user} at {dovecot.host}: refused 2 time(s)" in problem
    assert "[AUTHENTICATIONFAILED] Authentication failed." in problem
    # Fixed: the next login goes through at once, and status forgets the refusal.
    fixed = build(
        tmp_path, app_factory, dovecot, (user, password), smtp_server, clock,
        (user, password), dovecot.port,
    )  # fmt: skip
    fixed.logins.refused(user, "imap", dovecot.host, "old", "revoked-code")  # this process too
    assert fixed.poll_mailbox(fixed.settings.mailboxes[0]).new == 1
    assert health.status(fixed.sessions, fixed.settings, clock.now()).logins == ()


def test_a_wrong_smtp_password_leaves_the_replies_alone(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account = dovecot.add_user("smtpbad")
    clock = Clock()
    with SmtpServer(users={"sender@news.example": "right"}) as smtp:
        queue_one_reply(tmp_path, app_factory, dovecot, account, smtp, clock)
        with caplog.at_level(logging.INFO):
            app = build(
                tmp_path, app_factory, dovecot, account, smtp, clock,
                ("sender@news.example", "wrong"), dovecot.port,
            )  # fmt: skip
            run_a_minute(app, clock)
        assert smtp.auth_attempts == 2 and smtp.messages == []
    refusals = [r.getMessage() for r in caplog.records if r.name == "intake.adapters.logins"]
    assert len(refusals) == 2 and "535 5.7.8 Authentication credentials invalid" in refusals[0]
    assert {a for _state, a in attempts(app)} == {0}
    report = health.status(app.sessions, app.settings, clock.now())
    assert any(p.startswith("smtp login sender@news.example") for p in report.problems)
