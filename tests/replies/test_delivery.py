"""Exactly-once delivery, the rules checked again at send time, the hourly cap and stopping
mid-batch, on the in-memory SMTP transport and Sent folder (``intake.adapters.memory``) with a
real SQLite database whose commits fail, or whose process "dies", on cue.

A crash is a ``Crash`` (a BaseException, as a kill is to the code: nothing catches it) raised
at one point of the sender's work; another sender then takes over once the claim has run out.
"""

from __future__ import annotations

import email
import email.policy
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Self

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.memory.mailbox import MemoryMailbox
from intake.adapters.memory.transport import MemoryTransport
from intake.app import App
from intake.replies import staff
from intake.replies.delivery import Delivery, OutboxSender
from intake.service import health
from intake.store import outbox as outbox_store
from intake.store import sending
from intake.store.models import Event, Outbox
from tests.helpers import submission
from tests.replies.test_outbox import T0, Clock, acks, article, build_app, ingest, notes, rows

CONTRIBUTOR = "zhangsan@qq.example"


class Crash(BaseException):
    """The process dies here: nothing in intake catches it, as nothing survives a kill."""


def once(error: BaseException) -> Callable[[], None]:
    def fail() -> None:
        raise error

    return fail


class Smtp:
    """The in-memory SMTP transport with cues just before a message is handed over and just
    after the server took it (its "250" is then on the wire)."""

    def __init__(self, *, smtputf8: bool = False) -> None:
        self.server = MemoryTransport(smtputf8=smtputf8)
        self.on_connect: list[Callable[[], None]] = []
        self.before_data: list[Callable[[], None]] = []
        self.after_250: list[Callable[[], None]] = []

    def __call__(self) -> Self:
        return self

    def __enter__(self) -> Self:
        if self.on_connect:
            self.on_connect.pop(0)()
        self.server.__enter__()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.__exit__(*exc_info)

    @property
    def extensions(self) -> frozenset[str]:
        return self.server.extensions

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        if self.before_data:
            self.before_data.pop(0)()
        self.server.send(raw, mail_from, rcpt_to)
        if self.after_250:
            self.after_250.pop(0)()

    def message_ids(self) -> list[str]:
        return [parse(m.data)["Message-ID"].strip("<>") for m in self.server.messages]


class Commits:
    """The commits of one session factory, with a failure or a crash injected at the next
    commit that meets a condition (by default: the next one)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.plans: list[tuple[Callable[[], bool], BaseException]] = []
        event.listen(sessions, "before_commit", self._before)
        self._sessions = sessions

    def fail_next(self, error: BaseException, when: Callable[[], bool] = lambda: True) -> None:
        self.plans.append((when, error))

    def _before(self, session: Session) -> None:
        if self.plans and self.plans[0][0]():
            _, error = self.plans.pop(0)
            raise error

    def close(self) -> None:
        event.remove(self._sessions, "before_commit", self._before)


LOCKED = OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(minutes=1))


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build_app(tmp_path, sqlite_url, clock, replies={"copyright_request": "manual"})
    yield made
    made.close()


@pytest.fixture
def commits(app: App) -> Iterator[Commits]:
    made = Commits(app.sessions)
    yield made
    made.close()


def outbox_sender(
    app: App, smtp: Smtp, box: MemoryMailbox | None = None, *, name: str = "sender-1"
) -> OutboxSender:
    return OutboxSender(
        app.settings,
        app.sessions,
        app.clock,
        transport=smtp,
        mailbox=box.connection if box is not None else None,
        sent_folder="Sent" if box is not None else "",
        name=name,
        rand=lambda: 0.5,
    )


def queue_acks(app: App, count: int) -> None:
    for n in range(count):
        ingest(app, submission(body=article(n), sender=f"a{n} <a{n}@qq.example>"))


def state(app: App, pk: int = 1) -> Outbox:
    with app.sessions() as session:
        row = session.get(Outbox, pk)
        assert row is not None
        return row


def expire_claims(app: App, clock: Clock, sender: OutboxSender) -> None:
    clock.advance(seconds=sender.claim_seconds + 1)


# =========================================================================== exactly once


def test_a_failed_sent_commit_never_sends_twice_and_is_recorded_next_run(
    app: App, clock: Clock, commits: Commits
) -> None:
    """SMTP said 250, then committing "sent" failed (SQLite: database is locked)."""
    queue_acks(app, 2)
    smtp, box = Smtp(), MemoryMailbox()
    sender = outbox_sender(app, smtp, box)
    smtp.after_250.append(lambda: commits.fail_next(LOCKED))
    result = sender.deliver()
    assert result == Delivery(sent=2)  # both went out; the first could not be recorded
    first = state(app, 1)
    assert (first.state, first.claimed_by) == ("sending", "sender-1") and first.handed_at
    assert sender.unrecorded == {1}
    # However often it runs now, and however long that takes, row 1 is not handed over again.
    for _ in range(3):
        clock.advance(seconds=sender.claim_seconds + 1)
        assert sender.deliver() == Delivery()
    assert smtp.message_ids() == [state(app, 1).message_id, state(app, 2).message_id]
    assert [(r.state, r.in_sent_folder) for r in rows(app)] == [("sent", True)] * 2
    assert len(box.messages("Sent")) == 2


def test_a_failed_sent_commit_then_death_is_settled_by_the_sent_folder(
    app: App, clock: Clock, commits: Commits
) -> None:
    queue_acks(app, 1)
    smtp, box = Smtp(), MemoryMailbox()
    dying = outbox_sender(app, smtp, box, name="dies")
    smtp.after_250.append(lambda: commits.fail_next(LOCKED))
    assert dying.deliver().sent == 1
    # That process is gone (its memory of the row with it); another takes over later.
    other = outbox_sender(app, smtp, box, name="other")
    assert other.deliver() == Delivery()  # the claim is still live: left alone
    expire_claims(app, clock, other)
    searches = sum(1 for name, _ in box.calls if name == "select")
    assert other.deliver() == Delivery(sent=1)
    assert sum(1 for name, _ in box.calls if name == "select") > searches  # it asked
    assert len(smtp.server.messages) == 1
    row = state(app)
    assert (row.state, row.in_sent_folder) == ("sent", True)


@pytest.mark.parametrize(
    ("crash_at", "copies", "searched"),
    [
        # claimed, not handed over: sent by the next sender without asking anyone
        ("connect", 1, False),
        # handed over (committed), not yet sent: the Sent folder lacks it, so it is sent
        ("before DATA", 1, True),
        # the server took it, the "250" never reached us: nothing can know, and it is sent
        # again (RFC 1047's window: milliseconds, and only a kill can land in it)
        ("after 250", 2, True),
        # the server took it, the copy was not filed yet: the same window
        ("APPEND", 2, True),
        # copy filed, "sent" not committed: the Sent folder settles it
        ("commit", 1, True),
    ],
)
def test_a_sender_killed_at_each_point(
    app: App, clock: Clock, commits: Commits, crash_at: str, copies: int, searched: bool
) -> None:
    queue_acks(app, 1)
    smtp, box = Smtp(), MemoryMailbox()
    dying = outbox_sender(app, smtp, box, name="dies")
    kill = once(Crash(crash_at))
    if crash_at == "connect":
        smtp.on_connect.append(kill)
    elif crash_at == "before DATA":
        smtp.before_data.append(kill)
    elif crash_at == "after 250":
        smtp.after_250.append(kill)
    elif crash_at == "APPEND":
        box.on_next("append", kill)
    else:
        smtp.after_250.append(lambda: commits.fail_next(Crash("commit")))
    with pytest.raises(Crash):
        dying.deliver()
    row = state(app)
    assert row.state == "sending" and row.claimed_by == "dies"
    assert (row.handed_at is not None) == (crash_at != "connect")
    other = outbox_sender(app, smtp, box, name="other")
    expire_claims(app, clock, other)
    before = len(box.calls)
    assert other.deliver().sent == 1
    # Searching the Sent folder selects it; filing the copy does not.
    assert ("select" in [name for name, _ in box.calls[before:]]) == searched
    assert len(smtp.server.messages) == copies
    assert other.deliver() == Delivery()
    row = state(app)
    assert (row.state, row.in_sent_folder) == ("sent", True)
    assert len(box.messages("Sent")) == 1


def test_without_a_sent_folder_a_maybe_sent_row_is_held_for_staff(app: App, clock: Clock) -> None:
    queue_acks(app, 1)
    smtp = Smtp()
    dying = outbox_sender(app, smtp, name="dies")
    smtp.after_250.append(once(Crash("after 250")))
    with pytest.raises(Crash):
        dying.deliver()
    other = outbox_sender(app, smtp, name="other")
    expire_claims(app, clock, other)
    assert other.deliver() == Delivery(held=1)
    row = state(app)
    assert row.state == "held" and "may have been sent" in row.last_error
    assert len(smtp.server.messages) == 1
    assert other.deliver() == Delivery()  # held: nobody sends it by themselves
    (note,) = notes(app, "reply_held")
    assert note.startswith("ack to a0@qq.example (outbox #1): held: may have been sent")
    # An editor who knows it never arrived sends it again, once.
    staff.retry_failed(app.sessions, 1, actor="li", now=clock())
    assert other.deliver() == Delivery(sent=1)
    assert len(smtp.server.messages) == 2


def test_a_crash_before_handing_over_needs_no_sent_folder(app: App, clock: Clock) -> None:
    queue_acks(app, 1)
    smtp = Smtp()
    smtp.on_connect.append(once(Crash("connect")))
    with pytest.raises(Crash):
        outbox_sender(app, smtp, name="dies").deliver()
    other = outbox_sender(app, smtp, name="other")
    expire_claims(app, clock, other)
    assert other.deliver() == Delivery(sent=1)  # nothing could have gone: no hold
    assert len(smtp.server.messages) == 1


def test_a_failed_commit_before_data_sends_nothing(
    app: App, clock: Clock, commits: Commits
) -> None:
    queue_acks(app, 2)
    smtp = Smtp()
    sender = outbox_sender(app, smtp)
    # The claim commits; the commit that would mark row 1 handed over fails.
    smtp.on_connect.append(lambda: commits.fail_next(LOCKED))
    with pytest.raises(OperationalError):
        sender.deliver()
    assert smtp.server.messages == []
    # Both rows went back to the queue at once, their attempt returned.
    assert [(r.state, r.attempts, r.handed_at) for r in rows(app)] == [("pending", 0, None)] * 2
    assert sender.deliver() == Delivery(sent=2)


# =========================================================================== send-time rules


def test_suppressed_after_queueing_is_held_not_sent(app: App, clock: Clock) -> None:
    ingest(app, submission())  # the ack to zhangsan@qq.example waits in the outbox
    staff.suppress(app.sessions, "ZhangSan@ＱＱ.example", days=30, reason="asked", now=clock())
    smtp = Smtp()
    assert outbox_sender(app, smtp).deliver() == Delivery(held=1)
    assert smtp.server.messages == []
    row = state(app)
    assert row.state == "held"
    why = "not sent: zhangsan@qq.example is suppressed until 2026-12-20: asked"
    assert row.last_error == why
    (note,) = notes(app, "reply_held")
    assert note.endswith(f"held: {why}")
    # Lifting the suppression does not send it by itself; a retry by staff does.
    lifted = staff.unsuppress(app.sessions, "zhangsan@qq.example")
    assert lifted.held == (1,)
    assert outbox_sender(app, smtp).deliver() == Delivery()
    staff.retry_failed(app.sessions, 1, actor="li", now=clock())
    assert outbox_sender(app, smtp).deliver() == Delivery(sent=1)


def test_retrying_a_held_letter_while_suppressed_is_refused(app: App, clock: Clock) -> None:
    ingest(app, submission())
    staff.suppress(app.sessions, CONTRIBUTOR, days=30, reason="bounced", now=clock())
    outbox_sender(app, Smtp()).deliver()
    with pytest.raises(Exception, match="`intake unsuppress zhangsan@qq.example` first"):
        staff.retry_failed(app.sessions, 1, actor="li", now=clock())
    assert state(app).state == "held"


def test_staff_letters_queued_before_a_suppression_are_held_too(app: App, clock: Clock) -> None:
    """Suppression covers staff letters (docs/cli.md): an editor lifts it to write."""
    ingest(app, submission())
    with app.sessions() as session, session.begin():
        session.execute(update(Outbox).values(state="sent"))  # the ack went long ago
        queued = app.replier.queue(
            session, template="accepted", to=outbox_store_address(), context={},
            submission_id=1, automatic=False,
        )  # fmt: skip
    assert queued.outbox_id == 2
    staff.suppress(app.sessions, CONTRIBUTOR, days=1, reason="", now=clock())
    smtp = Smtp()
    assert outbox_sender(app, smtp).deliver() == Delivery(held=1)
    assert state(app, 2).state == "held" and smtp.server.messages == []


def outbox_store_address() -> Any:
    from intake.core.mail import Address

    return Address("张三", CONTRIBUTOR)


def test_the_daily_limit_counts_what_was_really_sent(
    tmp_path: Path, sqlite_url: str, clock: Clock
) -> None:
    app = build_app(tmp_path, sqlite_url, clock, replies={"copyright_request": "manual"})
    app._hooks = [acks(app)]  # article(n) texts are near-duplicates of each other
    for n in range(4):  # four pieces, four acks queued while SMTP was down
        ingest(app, submission(body=article(n)))
    assert len(rows(app)) == 4
    # The limit was lowered meanwhile (or rows were queued under another spelling, before
    # addresses were normalised): at send time only what the limit allows goes out.
    lowered = build_app(
        tmp_path, sqlite_url, clock,
        replies={"copyright_request": "manual", "max_auto_replies_per_day": 2},
    )  # fmt: skip
    smtp = Smtp()
    assert outbox_sender(lowered, smtp).deliver() == Delivery(sent=2, held=2)
    assert [r.state for r in rows(app)] == ["sent", "sent", "held", "held"]
    assert rows(app)[2].last_error == (
        "not sent: daily limit: 2 automatic replies to zhangsan@qq.example sent in 24 h (limit 2)"
    )
    lowered.close()
    app.close()


# =========================================================================== the hourly cap


def test_the_hourly_cap_makes_automatic_replies_wait_in_order(
    tmp_path: Path, sqlite_url: str, clock: Clock
) -> None:
    app = build_app(
        tmp_path, sqlite_url, clock,
        replies={"copyright_request": "manual", "max_auto_replies_per_hour": 3},
    )  # fmt: skip
    queue_acks(app, 5)
    with app.sessions() as session, session.begin():  # and one staff letter, queued last
        app.replier.queue(
            session, template="accepted", to=outbox_store_address(), context={},
            submission_id=1, automatic=False,
        )  # fmt: skip
    smtp = Smtp()
    sender = outbox_sender(app, smtp)
    assert sender.deliver() == Delivery(sent=4)  # three automatic, and the staff letter
    assert [r.state for r in rows(app)] == ["sent"] * 3 + ["pending"] * 2 + ["sent"]
    waiting = rows(app)[3]
    assert waiting.attempts == 0 and waiting.last_error.startswith(
        "waiting: the hourly cap of automatic replies (replies.max_auto_replies_per_hour = 3)"
    )
    clock.advance(minutes=30)
    assert sender.deliver() == Delivery()  # still within the hour: nothing, nothing failed
    report = health.status(app.sessions, app.settings, clock())
    assert (report.outbox.capped, report.outbox.stuck, report.outbox.pending) == (2, 0, 2)
    assert report.problems == (
        "outbox: 2 automatic repl(ies) wait: the hourly cap of 3 is spent "
        "(replies.max_auto_replies_per_hour); a flood of mail to the submissions address?",
    )
    clock.advance(minutes=31)
    assert sender.deliver() == Delivery(sent=2)
    sent_to = [m.rcpt_tos[0] for m in smtp.server.messages]
    assert sent_to == ["a0@qq.example", "a1@qq.example", "a2@qq.example", CONTRIBUTOR,
                       "a3@qq.example", "a4@qq.example"]  # fmt: skip
    assert all(r.state == "sent" and r.last_error == "" for r in rows(app))
    app.close()


def test_the_cap_is_shared_by_two_senders(tmp_path: Path, sqlite_url: str, clock: Clock) -> None:
    app = build_app(
        tmp_path, sqlite_url, clock,
        replies={"copyright_request": "manual", "max_auto_replies_per_hour": 4},
        smtp={"batch_size": 3},
    )  # fmt: skip
    queue_acks(app, 9)
    smtp = Smtp()
    first, second = outbox_sender(app, smtp, name="a"), outbox_sender(app, smtp, name="b")
    for _ in range(3):
        first.deliver()
        second.deliver()
    assert len(smtp.server.messages) == 4


def test_two_senders_at_once_never_both_spend_the_cap(
    tmp_path: Path, db_url: str, clock: Clock
) -> None:
    """PostgreSQL: one sender's claim of automatic rows holds an advisory lock; another that
    claims at the same moment takes only staff letters, without waiting. SQLite: the write
    lock makes the second wait, and it then counts what the first took."""
    replies = {"copyright_request": "manual", "max_auto_replies_per_hour": 3}
    app = build_app(tmp_path, db_url, clock, replies=replies)
    queue_acks(app, 4)
    other = App(app.settings, clock=clock)
    now, until = clock(), clock() + timedelta(minutes=5)
    theirs: list[int] = []

    def claim(app_: App, me: str) -> list[int]:
        with app_.sessions() as session, session.begin():
            budget = 0  # as OutboxSender counts the cap: under the lock, or not at all
            if sending.lock_automatic_claims(session):
                spent = sending.automatic_in_flight(session, now, now - timedelta(hours=1))
                budget = 3 - spent
            got = sending.claim_due(
                session, me=me, now=now, until=until, limit=10, automatic_budget=budget
            )
            return [c.id for c in got]

    with app.sessions() as session, session.begin():
        assert sending.lock_automatic_claims(session)
        mine = sending.claim_due(
            session, me="a", now=now, until=until, limit=10, automatic_budget=2
        )
        thread = threading.Thread(target=lambda: theirs.extend(claim(other, "b")))
        thread.start()
        if db_url.startswith("postgresql"):
            thread.join(60)
            assert not thread.is_alive() and theirs == []  # did not wait, took nothing
    thread.join(60)
    assert [c.id for c in mine] == [1, 2]
    if not db_url.startswith("postgresql"):
        assert theirs == [3]  # waited, then counted the two claimed: one slot left
    other.close()
    app.close()


# =========================================================================== stopping


def test_stopping_finishes_the_message_in_hand_and_gives_the_rest_back(
    app: App, clock: Clock
) -> None:
    queue_acks(app, 4)
    smtp = Smtp()
    stop = False

    def stop_now() -> None:
        nonlocal stop
        stop = True  # as SIGTERM sets the daemon's flag while the first message is out

    smtp.after_250.append(stop_now)
    result = outbox_sender(app, smtp).deliver(should_stop=lambda: stop)
    assert result == Delivery(sent=1)
    assert [(r.state, r.attempts, r.claimed_by) for r in rows(app)] == [
        ("sent", 1, ""), *[("pending", 0, "")] * 3,
    ]  # fmt: skip
    stop = False
    assert outbox_sender(app, smtp, name="next").deliver() == Delivery(sent=3)


# =========================================================================== SMTPUTF8


def test_smtputf8_is_recorded_from_the_session_and_decides_queueing(app: App, clock: Clock) -> None:
    ingest(app, submission(sender="张三 <张三@qq.example>", body=article(1), utf8=True))
    # Nothing known about the server yet: queued, and the sender finds out.
    (first,) = rows(app)
    assert first.to_addr == "张三@qq.example"
    assert parse_utf8(first.raw)["To"] == "张三 <张三@qq.example>"
    plain = Smtp(smtputf8=False)
    assert outbox_sender(app, plain).deliver() == Delivery(failed=1)
    assert "does not offer SMTPUTF8" in state(app).last_error
    (failed,) = notes(app, "reply_failed")
    assert "SMTPUTF8" in failed
    with app.sessions() as session:
        assert "smtputf8" not in (outbox_store.offered_extensions(session, "127.0.0.1", 2525) or {})
    # Now intake knows: the next such contributor's piece is recorded, with a note instead.
    ingest(app, submission(sender="李四 <李四@qq.example>", body=article(2), utf8=True))
    assert len(rows(app)) == 1
    assert notes(app)[-1] == (
        "ack not sent: 李四@qq.example needs SMTPUTF8 (its local part is not ASCII), which the "
        "SMTP server 127.0.0.1:2525 does not offer"
    )
    # A server that offers it: recorded at its first session, and the letter goes.
    able = Smtp(smtputf8=True)
    staff.retry_failed(app.sessions, 1, actor="li", now=clock())
    assert outbox_sender(app, able).deliver() == Delivery(sent=1)
    (sent,) = able.server.messages
    assert sent.rcpt_tos == ("张三@qq.example",)
    ingest(app, submission(sender="李四 <李四@qq.example>", body=article(3), utf8=True))
    assert rows(app)[-1].to_addr == "李四@qq.example"


def parse_utf8(raw: bytes) -> EmailMessage:
    msg = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_held_and_failed_rows_are_listed_with_their_reason(app: App, clock: Clock) -> None:
    ingest(app, submission())
    staff.suppress(app.sessions, CONTRIBUTOR, days=30, reason="asked", now=clock())
    outbox_sender(app, Smtp()).deliver()
    with app.sessions() as session, session.begin():
        (row,) = outbox_store.rows(session, state="held")
        assert row.id == 1
    with app.sessions() as session:
        events = list(session.scalars(select(Event.action).order_by(Event.id)))
    assert events[-1] == "reply_held"
