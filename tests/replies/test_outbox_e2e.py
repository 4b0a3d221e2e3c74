"""Replies end to end against the real servers the suite starts: mail arrives in Dovecot, is
polled, acknowledged through aiosmtpd, and filed in Dovecot's Sent folder. Exactly once, no
matter what the SMTP server does, and never to machines."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from intake.app import App
from intake.core.mail import MessageRef, RawMail
from intake.replies.delivery import Delivery
from intake.store.models import Event, Message, Outbox
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import Received, SmtpServer

DATA = Path(__file__).parents[1] / "data" / "classify"
CONTRIBUTOR = "zhangsan@qq.example"
FROM = "tougao@news.example"


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def make(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot | None,
    account: tuple[str, str] | None,
    smtp_server: SmtpServer,
    *,
    smtp: dict[str, Any] | None = None,
    **sections: dict[str, Any],
) -> App:
    settings = settings_for(
        tmp_path,
        db_url,
        dovecot,
        account,
        smtp=smtp_server,
        replies={"site_name": "示例新闻网", **sections.pop("replies", {})},
        copyright={"terms": "第一条 作者授权本网……", "platforms": ["本网站"]},
        **sections,
    )
    assert settings.smtp is not None
    return make_app(replace(settings, smtp=replace(settings.smtp, **(smtp or {}))))


@pytest.fixture
def account(imap_account: tuple[str, str]) -> tuple[str, str]:
    return imap_account


@pytest.fixture
def app(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
) -> Iterator[App]:
    made = make(tmp_path, sqlite_url, dovecot, account, smtp_server)
    yield made
    made.close()


def cycle(app: App) -> Delivery:
    """What the daemon does when mail arrives: poll, then deliver."""
    app.poll_mailbox(app.settings.mailboxes[0])
    return app.deliver_outbox()


def outbox_rows(app: App) -> list[Outbox]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def decoded_subject(received: Received) -> str:
    return str(parse(received.data)["Subject"])


def article(n: int) -> str:
    return f"第{n}篇。" + "秋天的田野里，稻谷金黄，农民们在忙着收割。" * (n + 2)


# --------------------------------------------------------------------------- the happy path


def test_submission_is_answered_exactly_once(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
) -> None:
    app = make(tmp_path, db_url, dovecot, account, smtp_server)
    original = make_msgid(domain="qq.example")
    dovecot.append(*account, "INBOX", submission(message_id=original))
    assert cycle(app).as_json() == {"sent": 2, "retried": 0, "failed": 0, "held": 0}
    ack, request = smtp_server.wait_for(2)
    rows = outbox_rows(app)
    for received, row, title in zip(
        (ack, request), rows, ("收稿回执", "版权授权请求"), strict=True
    ):
        assert received.mail_from == FROM and received.rcpt_tos == (CONTRIBUTOR,)
        msg = parse(received.data)
        assert msg["In-Reply-To"] == original
        assert msg["Message-ID"] == f"<{row.message_id}>"
        # Chinese subject and names survive the trip (RFC 2047 out, decoded here).
        assert decoded_subject(received) == f"[投稿 #1] {title}：《春天的故事》"
        assert msg["To"].addresses[0].display_name == "张三"
        assert msg["From"].addresses[0].display_name == "投稿"
        assert row.state == "sent" and row.in_sent_folder
        assert received.data == row.raw  # byte for byte what was queued
    body = parse(ack.data).get_body(("plain",))
    assert body is not None and "稿件编号为 1" in body.get_content()
    assert len(dovecot.uids(*account, "Sent")) == 2
    # Nothing more, however often the daemon runs.
    assert cycle(app) == Delivery() and cycle(app) == Delivery()
    assert len(smtp_server.messages) == 2
    app.close()


def test_machines_get_nothing(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    machines = sorted(
        p for p in DATA.glob("*.eml") if p.name.startswith(("bounce-", "autoreply-", "list-"))
    )
    assert len(machines) >= 10
    for path in machines:
        dovecot.append(*account, "INBOX", path.read_bytes())
    dovecot.append(*account, "INBOX", submission())
    assert cycle(app).sent == 2
    assert {r.rcpt_tos for r in smtp_server.wait_for(2)} == {(CONTRIBUTOR,)}
    with app.sessions() as session, session.begin():
        kinds = list(session.scalars(select(Message.kind)))
    assert kinds.count("submission") == 1 and len(kinds) == len(machines) + 1
    assert len(smtp_server.messages) == 2


def test_header_injection_adds_no_recipient(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    evil = b"=?utf-8?b?RXZpbA0KQmNjOiB4QHk=?="  # "Evil\r\nBcc: x@y"
    raw = submission(sender=f"Placeholder <{CONTRIBUTOR}>", subject="Placeholder subject")
    raw = raw.replace(b"From: Placeholder", b"From: " + evil)
    raw = raw.replace(b"Subject: Placeholder subject", b"Subject: " + evil)
    dovecot.append(*account, "INBOX", raw)
    assert cycle(app).sent == 2
    for received in smtp_server.wait_for(2):
        assert received.rcpt_tos == (CONTRIBUTOR,)
        msg = parse(received.data)
        assert msg["Bcc"] is None and b"\nBcc:" not in received.data
        assert [a.addr_spec for a in msg["To"].addresses] == [CONTRIBUTOR]


# --------------------------------------------------------------------------- no loops


def _out_of_office(reply: Received) -> bytes:
    """What a well-behaved auto-responder sends back (RFC 3834 headers, threaded)."""
    asked = parse(reply.data)
    return submission(
        subject=f"自动回复: {asked['Subject']}",
        body="这是来自QQ邮箱的假期自动回复邮件。您好，我最近正在休假中，无法亲自回复您的邮件。",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": asked["Message-ID"]},
    )


def _broken_responder(reply: Received, n: int) -> bytes:
    """An auto-responder that looks like a person sending a new piece every time."""
    return submission(subject=f"投稿：来信已收到 {n}", body=article(n))


@pytest.mark.parametrize("responder", ["rfc3834", "misclassified"])
def test_auto_responder_cannot_ping_pong(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer, responder: str
) -> None:
    dovecot.append(*account, "INBOX", submission())
    seen, rounds = 0, 0
    while rounds < 12:
        rounds += 1
        cycle(app)
        new = smtp_server.messages[seen:]
        seen += len(new)
        if not new:
            break
        for n, reply in enumerate(new, start=seen):
            answer = (
                _out_of_office(reply) if responder == "rfc3834" else _broken_responder(reply, n)
            )
            dovecot.append(*account, "INBOX", answer)
    assert rounds < 12, "the exchange never stopped"
    cap = app.settings.replies.max_auto_replies_per_day
    assert len(smtp_server.messages) == (2 if responder == "rfc3834" else cap)
    with app.sessions() as session, session.begin():
        kinds = list(session.scalars(select(Message.kind).order_by(Message.id)))
        skipped = session.scalars(select(Event.note).where(Event.note.like("%daily limit%")))
        assert kinds[0] == "submission"
        if responder == "rfc3834":
            assert set(kinds[1:]) == {"autoreply"}
        else:
            assert next(iter(skipped), None) is not None


# --------------------------------------------------------------------------- SMTP trouble


def test_temporary_failures_are_retried(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    dovecot.append(*account, "INBOX", submission())
    smtp_server.fail_next("451 4.3.0 Try again later")
    assert cycle(app).as_json() == {"sent": 1, "retried": 1, "failed": 0, "held": 0}
    ack = outbox_rows(app)[0]
    assert ack.state == "pending" and "451 4.3.0 Try again later" in ack.last_error
    smtp_server.drop_next()  # the connection dies mid-DATA this time
    assert app.deliver_outbox().as_json() == {"sent": 0, "retried": 1, "failed": 0, "held": 0}
    assert app.deliver_outbox().sent == 1
    received = smtp_server.wait_for(2)
    assert len({parse(r.data)["Message-ID"] for r in received}) == 2
    assert [r.state for r in outbox_rows(app)] == ["sent", "sent"]


def test_permanent_failure_is_failed_with_the_servers_reason(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    dovecot.append(*account, "INBOX", submission())
    smtp_server.fail_next("550 5.1.1 <zhangsan@qq.example>: user unknown", times=2, stage="RCPT")
    assert cycle(app).as_json() == {"sent": 0, "retried": 0, "failed": 2, "held": 0}
    for row in outbox_rows(app):
        assert row.state == "failed" and "550 5.1.1" in row.last_error
    with app.sessions() as session, session.begin():
        failed = list(session.scalars(select(Event.note).where(Event.action == "reply_failed")))
    assert len(failed) == 2 and "user unknown" in failed[0]
    assert app.deliver_outbox() == Delivery() and smtp_server.messages == []


def test_smtp_down_for_the_whole_run_then_up(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer
) -> None:
    smtp_server.stop()
    dovecot.append(*account, "INBOX", submission())
    dovecot.append(*account, "INBOX", submission(sender="李四 <lisi@163.example>", body=article(1)))
    for _ in range(3):
        assert cycle(app).as_json() == {"sent": 0, "retried": 4, "failed": 0, "held": 0}
    assert {(r.state, r.attempts) for r in outbox_rows(app)} == {("pending", 3)}
    assert "connection refused" in outbox_rows(app)[0].last_error
    smtp_server.start()
    assert app.deliver_outbox().sent == 4
    assert app.deliver_outbox() == Delivery()
    received = smtp_server.wait_for(4)
    assert len({parse(r.data)["Message-ID"] for r in received}) == 4
    assert len({r.connection for r in received}) == 1  # one connection for the batch


@pytest.mark.parametrize("in_sent", [True, False])
def test_crash_while_sending(
    app: App, dovecot: Dovecot, account: tuple[str, str], smtp_server: SmtpServer, in_sent: bool
) -> None:
    dovecot.append(*account, "INBOX", submission())
    app.poll_mailbox(app.settings.mailboxes[0])
    ack, request = outbox_rows(app)
    # A sender died holding both rows; it had sent the ack (and filed it) or not.
    with app.sessions() as session, session.begin():
        session.execute(
            update(Outbox).values(
                state="sending", claimed_by="dead-host:1:x", attempts=1,
                claimed_until=app.clock() - timedelta(seconds=1),
                handed_at=app.clock() - timedelta(minutes=20),
            )
        )  # fmt: skip
    if in_sent:
        dovecot.append(*account, "Sent", ack.raw, flags=["\\Seen"])
    assert app.deliver_outbox().sent == 2
    sent_ids = [parse(r.data)["Message-ID"] for r in smtp_server.wait_for(1 if in_sent else 2)]
    expected = [request] if in_sent else [ack, request]
    assert sent_ids == [f"<{row.message_id}>" for row in expected]
    assert [(r.state, r.in_sent_folder) for r in outbox_rows(app)] == [("sent", True)] * 2
    assert len(dovecot.uids(*account, "Sent")) == 2
    assert app.deliver_outbox() == Delivery() and len(smtp_server.messages) == len(expected)


# --------------------------------------------------------------------------- two senders


def test_two_racing_senders_send_each_reply_once(
    tmp_path: Path, db_url: str, smtp_server: SmtpServer
) -> None:
    first = make(tmp_path, db_url, None, None, smtp_server, smtp={"batch_size": 3})
    second = App(first.settings)  # another daemon: its own engine, sessions and claim name
    for n in range(12):
        raw = submission(sender=f"a{n}@qq.example", body=article(n))
        first.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, n + 1), raw))
    assert len(outbox_rows(first)) == 24
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(app: App) -> None:
        try:
            start.wait()
            for _ in range(50):
                with app.sessions() as session, session.begin():
                    left = session.scalars(select(Outbox.id).where(Outbox.state != "sent")).first()
                if left is None:
                    return
                app.deliver_outbox()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    received = smtp_server.wait_for(24)
    ids = [parse(r.data)["Message-ID"] for r in received]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert {r.state for r in outbox_rows(first)} == {"sent"}
    first.close()
    second.close()
