"""The outbox use case with fakes behind its two ports (Transport, SentMailbox): which replies
are queued (loop and flood rules), and how due rows are claimed, sent, retried, failed and
recovered after a crash. Messages go through the real ingest pipeline and a real database."""

from __future__ import annotations

import email
import email.policy
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

import pytest
from sqlalchemy import select, update

from intake.app import App
from intake.core.clock import as_utc
from intake.core.errors import (
    MailboxUnavailable,
    NotFound,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UsageError,
)
from intake.core.events import Ingested, IngestHook
from intake.core.mail import Address, MessageRef, OversizeMail, RawMail
from intake.ingest.pipeline import Outcome
from intake.replies import staff as outbox
from intake.replies.acknowledge import Acknowledgments
from intake.replies.delivery import Delivery, OutboxSender, backoff_delay
from intake.replies.queue import Queued
from intake.store import outbox as outbox_store
from intake.store import sending
from intake.store.models import Event, Outbox, Submission
from intake.submissions.editorial import Editorial
from intake.workflow.submission import Action
from tests.helpers import make_app, settings_for, submission

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
FAKE_SMTP = SimpleNamespace(host="127.0.0.1", port=2525)  # settings only: fakes do the sending
CONTRIBUTOR = "zhangsan@qq.example"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# --------------------------------------------------------------------------- fakes


@dataclass
class FakeTransport:
    """Records what it sends; fails as told (``errors`` per send, ``connect_error`` on enter)."""

    sent: list[tuple[bytes, str, tuple[str, ...]]] = field(default_factory=list)
    errors: list[Exception | None] = field(default_factory=list)
    connect_error: Exception | None = None
    connections: int = 0
    extensions: frozenset[str] = frozenset({"8bitmime", "pipelining"})

    def __call__(self) -> FakeTransport:
        return self

    def __enter__(self) -> FakeTransport:
        if self.connect_error is not None:
            raise self.connect_error
        self.connections += 1
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        self.sent.append((raw, mail_from, tuple(rcpt_to)))

    def message_ids(self) -> list[str]:
        return [parse(raw)["Message-ID"].strip("<>") for raw, _, _ in self.sent]


@dataclass
class FakeMailbox:
    """A Sent folder in memory; ``down`` makes connecting fail, ``fail_append`` appends."""

    folders: dict[str, list[bytes]] = field(default_factory=dict)
    down: bool = False
    fail_append: bool = False

    def __call__(self) -> FakeMailbox:
        return self

    def __enter__(self) -> FakeMailbox:
        if self.down:
            raise MailboxUnavailable("mailbox submissions: cannot connect")
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None

    def ensure_folder(self, folder: str) -> None:
        self.folders.setdefault(folder, [])

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ()) -> None:
        if self.fail_append:
            raise MailboxUnavailable("mailbox submissions: connection lost")
        self.folders.setdefault(folder, []).append(raw)

    def find_message_id(self, folder: str, message_id: str) -> bool:
        return any(f"<{message_id}>".encode() in raw for raw in self.folders.get(folder, []))


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


# --------------------------------------------------------------------------- set-up


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(minutes=1))


def build_app(
    tmp_path: Path,
    db_url: str,
    clock: Clock,
    *,
    smtp: dict[str, Any] | None = None,
    replies: dict[str, Any] | None = None,
) -> App:
    settings = settings_for(
        tmp_path,
        db_url,
        smtp=FAKE_SMTP,
        replies={"site_name": "示例新闻网", "contact": "010-12345678", **(replies or {})},
        copyright={"terms": "第一条 作者授权本网……", "platforms": ["本网站"], "term": "三年"},
    )
    assert settings.smtp is not None
    settings = replace(settings, smtp=replace(settings.smtp, **(smtp or {})))
    return make_app(settings, clock=clock)


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build_app(tmp_path, sqlite_url, clock)
    yield made
    made.close()


_uids = iter(range(1, 1_000_000))


def ingest(app: App, raw: bytes, received: datetime | None = None) -> Outcome:
    ref = MessageRef("submissions", "INBOX", 1, next(_uids))
    return app.ingestor.ingest(RawMail(ref, raw, received or app.clock()))


def rows(app: App) -> list[Outbox]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def templates(app: App) -> list[str]:
    return [row.template for row in rows(app)]


def notes(app: App, action: str = "reply") -> list[str]:
    with app.sessions() as session, session.begin():
        query = select(Event.note).where(Event.action == action).order_by(Event.id)
        return list(session.scalars(query))


def sender(app: App, transport: FakeTransport, box: FakeMailbox | None = None) -> OutboxSender:
    return OutboxSender(
        app.settings,
        app.sessions,
        app.clock,
        transport=transport,
        mailbox=box,
        sent_folder="Sent" if box is not None else "",
        rand=lambda: 0.5,  # no jitter: exact retry times
    )


def article(n: int) -> str:
    return f"第{n}篇稿件。" + "春天来了，万物复苏，田野里一片忙碌的景象。" * (n + 1)


# --------------------------------------------------------------------------- backoff


def test_backoff_doubles_is_capped_and_jitters() -> None:
    half = lambda: 0.5  # noqa: E731
    assert [backoff_delay(n, 60, 3600, half) for n in range(8)] == [
        60, 120, 240, 480, 960, 1920, 3600, 3600,
    ]  # fmt: skip
    assert backoff_delay(0, 60, 3600, lambda: 0.0) == pytest.approx(48)
    assert backoff_delay(0, 60, 3600, lambda: 1.0) == pytest.approx(72)
    assert backoff_delay(10_000, 60, 3600, half) == 3600  # no overflow


# --------------------------------------------------------------------------- queueing on ingest


def test_genuine_submission_gets_ack_then_copyright_request(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    raw = submission(
        message_id="<orig-1@qq.example>",
        attachments=[("稿件.txt", "text/plain", "正文内容".encode()),
                     ("坏文件.docx", "application/octet-stream", b"PK\x03\x04broken")],
    )  # fmt: skip
    assert ingest(app, raw, T0) is Outcome.NEW
    ack, request = rows(app)
    assert (ack.template, request.template) == ("ack", "copyright_request")
    for row in (ack, request):
        assert (row.state, row.attempts, row.automatic) == ("pending", 0, True)
        assert row.to_addr == CONTRIBUTOR and row.submission_id == 1
        assert row.subject.startswith("[投稿 #1] ")
        msg = parse(row.raw)
        assert msg["In-Reply-To"] == "<orig-1@qq.example>"
        assert msg["References"] == "<orig-1@qq.example>"
        assert msg["Message-ID"] == f"<{row.message_id}>"
        assert msg["Auto-Submitted"] == "auto-replied"
        assert str(msg["To"]) == f"张三 <{CONTRIBUTOR}>"
    text = parse(ack.raw).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "稿件编号为 1" in text and "2026年11月20日" in text  # 09:30 UTC is 17:30 in Beijing
    assert "稿件.txt（可以正常打开）" in text and "坏文件.docx（无法打开）" in text
    assert "2026年12月5日之前" in text  # received + decision_days (15)
    version = app.settings.copyright.version
    assert ack.terms_version == "" and request.terms_version == version
    with app.sessions() as session, session.begin():
        sub = session.get(Submission, 1)
        assert sub is not None
        assert (sub.copyright_status, sub.terms_version) == ("requested", version)
        assert sub.copyright_requested_at is not None
    assert notes(app) == ["ack queued as outbox #1", "copyright_request queued as outbox #2"]
    assert notes(app, "copyright_request") == [f"terms {version}; outbox #2"]
    # One journal line per queued reply, naming whom it is for.
    queued = [r.getMessage() for r in caplog.records if "outbox #" in r.getMessage()]
    assert queued == [
        f"queued ack to {CONTRIBUTOR} as outbox #1",
        f"queued copyright_request to {CONTRIBUTOR} as outbox #2",
    ]


@pytest.mark.parametrize("mode", ["on-accept", "manual"])
def test_copyright_request_only_on_demand(
    tmp_path: Path, sqlite_url: str, clock: Clock, mode: str
) -> None:
    app = build_app(tmp_path, sqlite_url, clock, replies={"copyright_request": mode})
    ingest(app, submission())
    assert templates(app) == ["ack"]
    editorial = Editorial(app.settings, app.sessions, app.letters, app.clock)
    editorial.decide(1, Action.ACCEPT, actor="li")
    if mode == "manual":
        assert templates(app) == ["ack", "accepted"]
        editorial.request_copyright(1, actor="li")
    assert templates(app) == ["ack", "accepted", "copyright_request"]
    assert rows(app)[-1].automatic is False
    with app.sessions() as session:
        sub = session.get(Submission, 1)
        assert sub is not None and sub.copyright_status == "requested"


def test_machine_mail_gets_nothing(app: App) -> None:
    bounce = submission(
        sender="MAILER-DAEMON@qq.example", subject="Undelivered Mail Returned to Sender"
    )
    ooo = submission(subject="自动回复：投稿", headers={"Auto-Submitted": "auto-replied"})
    listmail = submission(headers={"List-Id": "<writers.lists.example>", "Precedence": "list"})
    noreply = submission(sender="noreply@qq.example")
    for raw in (bounce, ooo, listmail, noreply):
        ingest(app, raw)
    assert rows(app) == []


def test_not_allowed_submission_is_noted_not_answered(app: App) -> None:
    # A genuine piece whose Reply-To is a robot: RFC 3834 says do not answer it.
    raw = submission(headers={"Reply-To": "noreply@qq.example"})
    assert ingest(app, raw) is Outcome.NEW
    assert rows(app) == []
    (note,) = notes(app)
    assert note.startswith("no automatic reply: ")


def acks(app: App) -> IngestHook:
    """The acknowledgment hook alone (no duplicate detection)."""
    return Acknowledgments(app.settings, app.letters).ingest_hook


def test_daily_cap_per_recipient(app: App, clock: Clock) -> None:
    app._hooks = [acks(app)]  # article(n) texts are near-duplicates of each other
    for n in range(3):
        ingest(app, submission(body=article(n)))
        clock.advance(minutes=5)
    # max_auto_replies_per_day = 5: ack + request, ack + request, ack.
    assert templates(app) == ["ack", "copyright_request"] * 2 + ["ack"]
    assert notes(app)[-1].startswith("copyright_request not sent: daily limit: 5 automatic")
    ingest(app, submission(body=article(3)))
    assert len(rows(app)) == 5
    clock.advance(hours=24)  # the first replies leave the 24-hour window
    ingest(app, submission(body=article(4)))
    assert len(rows(app)) == 7
    # Staff replies are not counted against, nor stopped by, the limit.
    with app.sessions() as session, session.begin():
        staff = app.replier.queue(
            session, template="accepted", to=Address("张三", CONTRIBUTOR), context={},
            submission_id=1, automatic=False,
        )  # fmt: skip
    assert staff.outbox_id is not None


def test_same_piece_within_grace_gets_no_second_ack(app: App, clock: Clock) -> None:
    # The grace rule alone: with duplicate detection (intake.submissions.duplicates) a piece sent
    # again after the grace period gets the "duplicate" notice instead
    # (tests/conversations/test_conversations.py).
    app._hooks = [acks(app)]
    ingest(app, submission(body=article(1)))
    clock.advance(hours=2)
    ingest(app, submission(body=article(1)))  # sent again (a new Message-ID)
    assert templates(app) == ["ack", "copyright_request"]
    assert notes(app)[-1] == "no acknowledgment: the same piece as #1, within 72 hours"
    clock.advance(hours=80)
    ingest(app, submission(body=article(1)), received=clock())
    assert templates(app) == ["ack", "copyright_request"] * 2
    # The same attachment with another covering note is the same piece too.
    clock.advance(hours=30)
    doc = [("稿件.txt", "text/plain", "附件里的正文".encode())]
    ingest(app, submission(body="请查收附件。", attachments=doc), received=clock())
    ingest(app, submission(body="老师您好，附件是稿件。", attachments=doc), received=clock())
    assert templates(app) == ["ack", "copyright_request"] * 3


def test_known_duplicate_gets_the_short_notice(app: App) -> None:
    def dedupe(session: Any, item: Ingested) -> None:  # stands in for the dedupe hook
        if item.submission_id and item.submission_id > 1:
            sub = session.get(Submission, item.submission_id)
            sub.duplicate_of, sub.status = 1, "duplicate"

    hooks: list[IngestHook] = [dedupe, acks(app)]
    app._hooks = hooks
    ingest(app, submission(body=article(1), subject="投稿：《春天的故事》"))
    ingest(app, submission(body=article(1) + "（修改稿）", message_id="<again@qq.example>"))
    assert templates(app) == ["ack", "copyright_request", "duplicate"]
    notice = rows(app)[2]
    assert notice.subject == "[投稿 #1] 稿件此前已收到：《春天的故事》"
    assert notice.submission_id == 1  # answers to it thread to the piece being handled
    assert parse(notice.raw)["In-Reply-To"] == "<again@qq.example>"
    assert notes(app)[-1] == "duplicate queued as outbox #3"
    # Another sender is not told what someone else sent: an ordinary acknowledgment.
    ingest(app, submission(body=article(1), sender="李四 <lisi@163.example>"))
    assert templates(app)[3:] == ["ack", "copyright_request"]


def test_oversize_notice(app: App) -> None:
    raw = submission(body="x")
    header = raw[: raw.index(b"\r\n\r\n") + 2]
    mail = OversizeMail(MessageRef("submissions", "INBOX", 1, 999), 80 * 1024 * 1024, header, T0)
    app.ingestor.ingest_oversize(mail)
    (row,) = rows(app)
    assert row.template == "oversize" and row.submission_id is None
    assert row.subject == "来稿未能接收：邮件超过 50 MB"
    assert parse(row.raw)["In-Reply-To"] is not None


def test_refusals_apply_to_staff_too(app: App, clock: Clock) -> None:
    ingest(app, submission())
    with app.sessions() as session, session.begin():
        outbox_store.suppress(session, CONTRIBUTOR.upper(), reason="550 no such user", now=clock(),
                              until=clock() + timedelta(days=60))  # fmt: skip

    def ask(addr: str, automatic: bool) -> Queued:
        with app.sessions() as session, session.begin():
            return app.replier.queue(
                session, template="accepted", to=Address("", addr), context={},
                submission_id=1, automatic=automatic,
            )  # fmt: skip

    assert "suppressed until 2027-01-19: 550 no such user" in ask(CONTRIBUTOR, False).skipped
    assert ask("postmaster@qq.example", False).skipped.endswith("is a no-reply address")
    assert ask("tougao@news.example", False).skipped.endswith("is our own address")
    assert ask("not-an-address", False).skipped.startswith("no usable address")
    ingest(app, submission(body=article(2)))  # suppressed: no automatic reply either
    assert len(rows(app)) == 2
    outbox.unsuppress(app.sessions, CONTRIBUTOR)
    assert ask(CONTRIBUTOR, False).outbox_id is not None
    with pytest.raises(NotFound):
        outbox.unsuppress(app.sessions, CONTRIBUTOR)


EVIL = b"=?utf-8?b?RXZpbA0KQmNjOiB4QHk=?="  # "Evil\r\nBcc: x@y" as an encoded word


def evil_submission() -> bytes:
    """A piece whose sender name and subject decode to a header-injection attempt."""
    raw = submission(sender=f"Placeholder <{CONTRIBUTOR}>", subject="Placeholder subject")
    raw = raw.replace(b"From: Placeholder", b"From: " + EVIL)
    return raw.replace(b"Subject: Placeholder subject", b"Subject: " + EVIL)


def test_header_injection_is_neutralised_when_queued(app: App) -> None:
    assert ingest(app, evil_submission()) is Outcome.NEW
    assert len(rows(app)) == 2
    for row in rows(app):
        msg = parse(row.raw)
        assert msg["Bcc"] is None
        assert [a.addr_spec for a in msg["To"].addresses] == [CONTRIBUTOR]
        assert "\n" not in row.subject and "\r" not in row.subject


def test_render_preview_stores_nothing(app: App) -> None:
    ingest(app, submission())
    with app.sessions() as session, session.begin():
        raw = app.replier.render_preview(
            session, template="accepted", to=Address("张三", CONTRIBUTOR), context={},
            submission_id=1,
        )  # fmt: skip
    assert parse(raw)["Subject"].startswith("[投稿 #1]")
    assert parse(raw)["Auto-Submitted"] is None  # staff mail is not automatic
    assert len(rows(app)) == 2


# --------------------------------------------------------------------------- delivery


def test_delivers_due_rows_once_over_one_connection(app: App) -> None:
    for n in range(3):
        ingest(app, submission(body=article(n), sender=f"a{n} <a{n}@qq.example>"))
    transport, box = FakeTransport(), FakeMailbox()
    result = sender(app, transport, box).deliver()
    assert result.as_json() == {"sent": 6, "retried": 0, "failed": 0, "held": 0}
    assert transport.connections == 1
    assert [rcpt for _, _, rcpt in transport.sent] == [
        (f"a{n}@qq.example",) for n in range(3) for _ in range(2)
    ]
    assert {mail_from for _, mail_from, _ in transport.sent} == {"tougao@news.example"}
    assert all(r.state == "sent" and r.sent_at and r.in_sent_folder for r in rows(app))
    assert box.folders["Sent"] == [raw for raw, _, _ in transport.sent]
    assert sender(app, transport, box).deliver() == Delivery()
    assert len(transport.sent) == 6


def test_batch_size_bounds_one_run(tmp_path: Path, sqlite_url: str, clock: Clock) -> None:
    app = build_app(tmp_path, sqlite_url, clock, smtp={"batch_size": 3})
    for n in range(3):
        ingest(app, submission(body=article(n), sender=f"a{n}@qq.example"))
    transport = FakeTransport()
    assert sender(app, transport).deliver().sent == 3
    assert sender(app, transport).deliver().sent == 3
    assert transport.connections == 2


def test_temporary_failure_backs_off_then_succeeds(
    tmp_path: Path, sqlite_url: str, clock: Clock
) -> None:
    app = build_app(tmp_path, sqlite_url, clock, smtp={"backoff_base_seconds": 60.0})
    ingest(app, submission())
    busy = TemporaryDeliveryError("SMTP DATA at h:25: 451 4.3.0 try later", code=451)
    transport = FakeTransport(errors=[busy, None, busy])
    result = sender(app, transport).deliver()
    assert result.as_json() == {"sent": 1, "retried": 1, "failed": 0, "held": 0}
    ack = rows(app)[0]
    assert (ack.state, ack.attempts, ack.last_error) == ("pending", 1, str(busy))
    assert as_utc(ack.next_attempt_at) == clock() + timedelta(seconds=60)
    assert sender(app, transport).deliver() == Delivery()  # not due yet
    clock.advance(seconds=61)
    assert sender(app, transport).deliver().retried == 1  # second failure: 120 s now
    assert as_utc(rows(app)[0].next_attempt_at) == clock() + timedelta(seconds=120)
    clock.advance(seconds=121)
    assert sender(app, transport).deliver().sent == 1
    ack = rows(app)[0]
    assert (ack.state, ack.attempts, ack.last_error) == ("sent", 3, "")


def test_permanent_failure_is_failed_with_reason_and_event(app: App) -> None:
    ingest(app, submission())
    refused = PermanentDeliveryError("SMTP RCPT TO at h:25 refused: 550 5.1.1 no such user")
    transport = FakeTransport(errors=[refused])
    assert sender(app, transport).deliver() == Delivery(sent=1, failed=1)
    ack = rows(app)[0]
    assert (ack.state, ack.last_error) == ("failed", str(refused))
    (note,) = notes(app, "reply_failed")
    assert note == f"ack to {CONTRIBUTOR} (outbox #1): {refused}"
    # Staff put it back; it goes out once.
    outbox.retry_failed(app.sessions, 1, actor="editor", now=app.clock())
    assert (rows(app)[0].state, rows(app)[0].attempts) == ("pending", 0)
    assert notes(app, "reply_retry")[0].startswith("ack to zhangsan@qq.example (outbox #1) queued")
    assert sender(app, transport).deliver().sent == 1
    with pytest.raises(UsageError, match="is sent, not failed"):
        outbox.retry_failed(app.sessions, 1, actor="editor", now=app.clock())
    with pytest.raises(NotFound):
        outbox.retry_failed(app.sessions, 99, actor="editor", now=app.clock())


def test_gives_up_after_max_attempts(tmp_path: Path, sqlite_url: str, clock: Clock) -> None:
    app = build_app(tmp_path, sqlite_url, clock, smtp={"max_attempts": 3})
    ingest(app, submission())
    with app.sessions() as session, session.begin():  # one row is enough here
        session.execute(update(Outbox).where(Outbox.id == 2).values(state="sent"))
    down = TemporaryDeliveryError("SMTP connect at h:25: connection refused")
    transport = FakeTransport(connect_error=down)
    for _ in range(2):
        assert sender(app, transport).deliver().retried == 1
    assert sender(app, transport).deliver().failed == 1
    ack = rows(app)[0]
    assert ack.state == "failed" and ack.attempts == 3
    assert ack.last_error == f"{down} (gave up after 3 attempts)"


def test_smtp_down_then_up_drains_the_queue(app: App) -> None:
    ingest(app, submission())
    transport = FakeTransport(connect_error=TemporaryDeliveryError("connection refused"))
    assert sender(app, transport).deliver() == Delivery(retried=2)
    assert [r.state for r in rows(app)] == ["pending", "pending"]
    transport.connect_error = None
    assert sender(app, transport).deliver().sent == 2
    assert len(transport.sent) == 2


def _crashed(app: App, clock: Clock, pk: int, *, handed: bool = True) -> None:
    """Leave row ``pk`` as a sender that died mid-send leaves it: sending, claim expired, and
    (``handed``) marked as handed to SMTP."""
    with app.sessions() as session, session.begin():
        session.execute(
            update(Outbox)
            .where(Outbox.id == pk)
            .values(state="sending", claimed_by="dead", attempts=1,
                    claimed_until=clock() - timedelta(seconds=1),
                    handed_at=clock() - timedelta(minutes=20) if handed else None)
        )  # fmt: skip


def test_crash_recovery_consults_the_sent_folder(app: App, clock: Clock) -> None:
    ingest(app, submission())
    ack, request = rows(app)
    _crashed(app, clock, ack.id)
    _crashed(app, clock, request.id)
    box = FakeMailbox(folders={"Sent": [ack.raw]})  # the ack went out before the crash
    transport = FakeTransport()
    assert sender(app, transport, box).deliver().sent == 2
    assert transport.message_ids() == [request.message_id]  # only the other one is sent
    assert all(r.state == "sent" and r.in_sent_folder for r in rows(app))
    assert box.folders["Sent"] == [ack.raw, request.raw]


def test_crash_recovery_waits_while_sent_folder_unreadable(app: App, clock: Clock) -> None:
    ingest(app, submission())
    _crashed(app, clock, 1)
    box, transport = FakeMailbox(down=True), FakeTransport()
    with app.sessions() as session, session.begin():  # only the crashed row matters here
        session.execute(update(Outbox).where(Outbox.id == 2).values(state="sent"))
    assert sender(app, transport, box).deliver().retried == 1
    assert transport.sent == [] and rows(app)[0].state == "sending"
    box.down = False
    clock.advance(hours=1)
    assert sender(app, transport, box).deliver().sent == 1
    assert len(transport.sent) == 1


def test_live_claim_is_left_alone(app: App, clock: Clock) -> None:
    ingest(app, submission())
    with app.sessions() as session, session.begin():
        alive = {"claimed_by": "alive", "claimed_until": clock() + timedelta(minutes=5)}
        session.execute(update(Outbox).values(state="sending", **alive))
    transport = FakeTransport()
    assert sender(app, transport).deliver() == Delivery()
    assert transport.sent == []


def test_sent_copy_failure_is_retried_never_resent(app: App) -> None:
    ingest(app, submission())
    box, transport = FakeMailbox(fail_append=True), FakeTransport()
    assert sender(app, transport, box).deliver().sent == 2
    assert [(r.state, r.in_sent_folder) for r in rows(app)] == [("sent", False)] * 2
    box.fail_append = False
    box.down = True
    assert sender(app, transport, box).deliver() == Delivery()
    box.down = False
    assert sender(app, transport, box).deliver() == Delivery()
    assert [r.in_sent_folder for r in rows(app)] == [True, True]
    assert len(box.folders["Sent"]) == 2 and len(transport.sent) == 2


def test_claim_due_is_exclusive(app: App, clock: Clock) -> None:
    ingest(app, submission())
    now = clock()
    with app.sessions() as session, session.begin():
        first = sending.claim_due(
            session, me="a", now=now, until=now + timedelta(minutes=1), limit=10
        )
    with app.sessions() as session, session.begin():
        second = sending.claim_due(
            session, me="b", now=now, until=now + timedelta(minutes=1), limit=10
        )
    assert [c.id for c in first] == [1, 2] and second == []
    assert not any(c.recovered for c in first)
    later = now + timedelta(minutes=2)
    with app.sessions() as session, session.begin():
        taken = sending.claim_due(session, me="b", now=later, until=later, limit=10)
        assert not sending.renew(session, 1, me="a", until=later)
    assert [c.recovered for c in taken] == [True, True]
    assert [c.attempts for c in taken] == [2, 2]


def test_concurrent_claims_never_overlap_nor_wait(
    tmp_path: Path, db_url: str, clock: Clock
) -> None:
    app = build_app(tmp_path, db_url, clock)
    for n in range(2):
        ingest(app, submission(body=article(n), sender=f"a{n}@qq.example"))
    other = App(app.settings, clock=clock)  # another daemon with its own connections
    now, until = clock(), clock() + timedelta(minutes=5)
    theirs: list[outbox_store.Claimed] = []

    def claim_in_other() -> None:
        with other.sessions() as session, session.begin():
            theirs.extend(sending.claim_due(session, me="b", now=now, until=until, limit=10))

    thread = threading.Thread(target=claim_in_other)
    with app.sessions() as session, session.begin():
        mine = sending.claim_due(session, me="a", now=now, until=until, limit=2)
        thread.start()
        if db_url.startswith("postgresql"):
            # SKIP LOCKED: the other sender takes the rest at once, without waiting for us.
            thread.join(60)
            assert not thread.is_alive()
        # SQLite: the other sender waits for our write lock (BEGIN IMMEDIATE) until we commit.
    thread.join(60)
    assert [c.id for c in mine] == [1, 2]
    assert [c.id for c in theirs] == [3, 4]
    other.close()
    app.close()
