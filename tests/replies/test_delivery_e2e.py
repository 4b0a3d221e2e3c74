"""Outbox hardening against the real servers: a PostgreSQL connection dropped just after the
SMTP server accepted a reply (never sent twice, settled by the Dovecot Sent folder), our own
address and a contributor's in other spellings arriving through Dovecot, and contributors
whose addresses are not ASCII, against an aiosmtpd that offers SMTPUTF8 and one that does not."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from intake.app import App
from intake.store.models import Event, Message, Outbox, Submission
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot, Postgres
from tests.smtpserver import SmtpServer

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
    clock: Clock,
    **replies: Any,
) -> App:
    settings = settings_for(
        tmp_path, db_url, dovecot, account, smtp=smtp_server, mailbox={"idle": False},
        replies={"site_name": "示例新闻网", "copyright_request": "manual", **replies},
    )  # fmt: skip
    assert settings.smtp is not None
    return make_app(replace(settings, smtp=replace(settings.smtp, timeout=5.0)), clock=clock)


def outbox(app: App) -> list[Outbox]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def history(app: App) -> list[str]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(Event.note).where(Event.note != "").order_by(Event.id)))


def parse_utf8(raw: bytes) -> EmailMessage:
    msg = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


# =========================================================================== a dropped connection


def _drop_the_commit_after_the_250(app: App, server: SmtpServer, admin: sa.Engine) -> None:
    """Arrange for the connection of the first commit after the SMTP server has accepted a
    message to be terminated by the server (as a failover or a restart does) just before it
    commits: the "sent" of that message is then never recorded."""
    accepted = len(server.messages)
    done = False

    def before_commit(session: Session) -> None:
        nonlocal done
        if done or len(server.messages) == accepted:
            return
        done = True
        pid = session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})

    event.listen(app.sessions, "before_commit", before_commit)


@pytest.mark.postgres
@pytest.mark.parametrize("sender_survives", [True, False])
def test_a_dropped_postgres_connection_after_the_250_never_sends_twice(
    tmp_path: Path,
    postgres: Postgres,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
    clock: Clock,
    sender_survives: bool,
) -> None:
    db_url = postgres.new_database()
    app = make(tmp_path, db_url, dovecot, imap_account, smtp_server, clock)
    admin = sa.create_engine(postgres.url_for("postgres"))
    try:
        dovecot.append(*imap_account, "INBOX", submission())
        app.poll_mailbox(app.settings.mailboxes[0])
        (ack,) = outbox(app)
        _drop_the_commit_after_the_250(app, smtp_server, admin)
        assert app.deliver_outbox().sent == 1
        assert len(smtp_server.wait_for(1)) == 1
        row = outbox(app)[0]
        assert (row.state, row.handed_at is not None) == ("sending", True)
        assert len(dovecot.uids(*imap_account, "Sent")) == 1  # the copy was filed first
        if sender_survives:
            # Its next run records what it could not: without sending anything.
            app.deliver_outbox()
            later = app
        else:
            # It died. Another daemon takes the row over once the claim has run out, and the
            # Sent folder, searched by our Message-ID, says it went.
            app.close()
            later = make(tmp_path, db_url, dovecot, imap_account, smtp_server, clock)
            assert later.deliver_outbox().sent == 0  # the claim is still live
            clock.now += timedelta(minutes=15)
            assert later.deliver_outbox().sent == 1
        row = outbox(later)[0]
        assert (row.state, row.in_sent_folder) == ("sent", True)
        assert later.deliver_outbox().sent == 0
        assert len(smtp_server.messages) == 1
        assert len(dovecot.uids(*imap_account, "Sent")) == 1
        assert row.message_id == ack.message_id
        later.close()
    finally:
        admin.dispose()
        app.close()


# =========================================================================== spellings


def test_our_own_address_and_variants_through_dovecot(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
    clock: Clock,
) -> None:
    app = make(tmp_path, sqlite_url, dovecot, imap_account, smtp_server, clock,
               max_auto_replies_per_day=2)  # fmt: skip
    ours = ["ｔｏｕｇａｏ@ｎｅｗｓ.example", "TouGao@News.Example", "tougao@ｎｅｗｓ．example"]
    for n, spelling in enumerate(ours):
        body = f"第{n}封。" + "正文。" * 20
        raw = submission(sender=f"编辑部 <{spelling}>", body=body, utf8=True)
        dovecot.append(*imap_account, "INBOX", raw)
    victims = ["victim@qq.example", "VICTIM@QQ.EXAMPLE", "victim@ｑｑ.example",
               "ｖｉｃｔｉｍ@qq.example", "victim+2@qq.example"]  # fmt: skip
    for n, spelling in enumerate(victims):
        raw = submission(sender=f"V <{spelling}>", body=f"第{n}篇。" + "春眠不觉晓。" * (n + 9),
                         utf8=True)  # fmt: skip
        dovecot.append(*imap_account, "INBOX", raw)
    app.poll_mailbox(app.settings.mailboxes[0])
    app.deliver_outbox()
    received = smtp_server.messages
    assert [r.rcpt_tos for r in received] == [("victim@qq.example",)] * 2  # one quota of 2
    with app.sessions() as session:
        senders = list(session.scalars(select(Submission.sender).order_by(Submission.id)))
    assert "tougao@news.example" not in {r.rcpt_tos[0] for r in received}
    assert set(senders) <= {"victim@qq.example", "victim+2@qq.example", "tougao@news.example"}
    app.close()


# =========================================================================== SMTPUTF8


@pytest.fixture
def utf8_smtp() -> Iterator[SmtpServer]:
    with SmtpServer(smtputf8=True) as server:
        yield server


def test_a_non_ascii_contributor_is_recorded_and_answered_over_smtputf8(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    utf8_smtp: SmtpServer,
    clock: Clock,
) -> None:
    app = make(tmp_path, sqlite_url, dovecot, imap_account, utf8_smtp, clock)
    dovecot.append(*imap_account, "INBOX", submission(sender="张三 <张三@例子.中国>", utf8=True))
    dovecot.append(*imap_account, "INBOX", submission(sender="李四 <lisi@例子.中国>", utf8=True,
                                                      body="另一篇。" * 30))  # fmt: skip
    app.poll_mailbox(app.settings.mailboxes[0])
    with app.sessions() as session:
        kinds = list(session.scalars(select(Message.kind)))
        senders = list(session.scalars(select(Submission.sender).order_by(Submission.id)))
    assert kinds == ["submission", "submission"]  # recorded, not quarantined
    assert senders == ["张三@xn--fsqu00a.xn--fiqs8s", "lisi@xn--fsqu00a.xn--fiqs8s"]
    assert app.deliver_outbox().sent == 2
    first, second = utf8_smtp.wait_for(2)
    assert first.rcpt_tos == ("张三@xn--fsqu00a.xn--fiqs8s",)
    assert parse_utf8(first.data)["To"].addresses[0].username == "张三"
    assert second.rcpt_tos == ("lisi@xn--fsqu00a.xn--fiqs8s",)  # the A-label, plain ASCII
    assert second.data.isascii()
    assert len(dovecot.uids(*imap_account, "Sent")) == 2
    app.close()


def test_without_smtputf8_a_non_ascii_contributor_gets_a_note_instead(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
    clock: Clock,
) -> None:
    app = make(tmp_path, sqlite_url, dovecot, imap_account, smtp_server, clock)
    box = app.settings.mailboxes[0]
    dovecot.append(*imap_account, "INBOX", submission(sender="张三 <张三@qq.example>", utf8=True))
    app.poll_mailbox(box)
    # Nothing known about the server yet: queued; sending it finds out and says so.
    assert app.deliver_outbox().as_json() == {"sent": 0, "retried": 0, "failed": 1, "held": 0}
    (row,) = outbox(app)
    assert "does not offer SMTPUTF8" in row.last_error
    clock.now += timedelta(minutes=5)
    dovecot.append(
        *imap_account,
        "INBOX",
        submission(sender="王五 <王五@qq.example>", utf8=True, body="又一篇。" * 40),
    )
    app.poll_mailbox(box)
    assert len(outbox(app)) == 1  # now intake knows: nothing queued that cannot go
    notes = history(app)
    assert any("ack to 张三@qq.example (outbox #1)" in n and "SMTPUTF8" in n for n in notes)
    assert notes[-1].startswith("ack not sent: 王五@qq.example needs SMTPUTF8")
    assert smtp_server.messages == []
    with app.sessions() as session:
        assert list(session.scalars(select(Message.kind))) == ["submission", "submission"]
    app.close()
