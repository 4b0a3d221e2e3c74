"""Queries and writes for the outbox (queue, claim, deliver, retry, hold), the suppression list
and what the SMTP server offers.

Addresses are matched by their ``rate_key`` (:mod:`intake.text.addresses`): ``outbox.to_key``
and ``suppressions.key``, so every spelling of one mailbox (case, full width, IDNA, ``+tag``)
shares one limit and one suppression.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from intake.core.clock import as_utc
from intake.core.errors import NotFound, UsageError
from intake.core.mail import OutgoingMail
from intake.store import insert_row, is_postgres
from intake.store.models import Outbox, SmtpServer, Submission, Suppression
from intake.text.addresses import normalised_or_lower, rate_key_or_lower

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
STATES = (PENDING, SENDING, SENT, FAILED, HELD)
#: States a row leaves only by a staff action (``intake outbox retry``).
DONE_STATES = (SENT, FAILED, HELD)

# The lock that makes claiming automatic rows one at a time across PostgreSQL senders, so two
# daemons counting the hourly cap at once cannot both spend its last slots (SQLite's write
# lock does the same there). A fixed number: pg_advisory locks are named by a bigint.
_CAP_LOCK = zlib.crc32(b"intake outbox hourly cap")


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row this sender now holds: what to send, and whether an earlier sender crashed on it."""

    id: int
    to_addr: str
    message_id: str
    raw: bytes
    template: str
    attempts: int  # including the attempt this claim starts
    submission_id: int | None
    claim_id: int | None
    recovered: bool  # it was left ``sending`` by a sender whose claim expired
    to_key: str = ""
    automatic: bool = True
    #: Recovered after it was handed to SMTP: it may have gone out, so only the Sent folder
    #: may decide whether it is sent again.
    maybe_sent: bool = False


@dataclass(frozen=True, slots=True)
class Copy:
    """A sent reply whose copy is not in the Sent folder yet."""

    id: int
    message_id: str
    raw: bytes


@dataclass(frozen=True, slots=True)
class Held:
    """A row put on hold, for the history of its case."""

    id: int
    template: str
    to_addr: str
    submission_id: int | None
    claim_id: int | None


# --------------------------------------------------------------------------- queueing


def add(
    session: Session,
    mail: OutgoingMail,
    *,
    now: datetime,
    submission_id: int | None,
    claim_id: int | None,
    in_reply_to_pk: int | None,
    automatic: bool,
    terms_version: str = "",
) -> int:
    """Queue ``mail``: the new outbox row's id (a Core insert: every acknowledgment and
    copyright request of ingest passes here)."""
    return insert_row(
        session,
        Outbox,
        dict(
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=in_reply_to_pk,
            template=mail.template,
            to_addr=mail.to.addr[:320],
            to_key=rate_key_or_lower(mail.to.addr)[:320],
            subject=mail.subject,
            message_id=mail.message_id,
            raw=mail.raw,
            state=PENDING,
            attempts=0,
            next_attempt_at=now,
            last_error="",
            claimed_by="",
            claimed_until=None,
            terms_version=terms_version[:100],
            created_at=now,
            sent_at=None,
            automatic=automatic,
            in_sent_folder=False,
        ),
    )


def automatic_replies_since(session: Session, addr: str, since: datetime) -> int:
    """Automatic replies queued to ``addr`` (any spelling of it) at or after ``since``,
    whatever became of them."""
    query = select(func.count()).where(
        Outbox.to_key == rate_key_or_lower(addr),
        Outbox.automatic.is_(True),
        Outbox.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def automatic_handed_since(
    session: Session, key: str, since: datetime, *, besides: int | None = None
) -> int:
    """Automatic replies to the mailbox ``key`` handed to SMTP at or after ``since`` (sent, or
    in the hands of a sender now), other than row ``besides``."""
    query = select(func.count()).where(
        Outbox.to_key == key, Outbox.automatic.is_(True), Outbox.handed_at >= since
    )
    if besides is not None:
        query = query.where(Outbox.id != besides)
    return int(session.scalar(query) or 0)


def same_piece_since(
    session: Session, submission: Submission, since: datetime
) -> Submission | None:
    """An earlier submission from the same sender (any spelling of the address) with the same
    text or attachments."""
    same = []
    if submission.content_hash:
        same.append(Submission.content_hash == submission.content_hash)
    if submission.attachments_hash:
        same.append(Submission.attachments_hash == submission.attachments_hash)
    sender = normalised_or_lower(submission.sender or "")
    if not same or not sender:
        return None
    candidates = session.scalars(
        select(Submission)
        .where(Submission.id < submission.id, Submission.received_at >= since, or_(*same))
        .order_by(Submission.id)
        .limit(200)
    )
    # Compared in Python: rows stored before addresses were normalised on write may differ in
    # case or width, and NFKC is not something SQL can do.
    return next((c for c in candidates if normalised_or_lower(c.sender) == sender), None)


def note_copyright_request(
    session: Session, submission: Submission, *, terms_version: str, now: datetime
) -> None:
    """Record on the submission which terms a queued copyright request asks it to agree to
    (its rights were moved to ``requested`` by whoever asked: ``intake.workflow.cases.move``)."""
    submission.terms_version = terms_version[:100]
    if submission.copyright_requested_at is None:
        submission.copyright_requested_at = now
    submission.updated_at = now


# --------------------------------------------------------------------------- suppression


def active_suppression(session: Session, addr: str, now: datetime) -> Suppression | None:
    """The suppression in force for ``addr``'s mailbox (any of its spellings), if any."""
    return session.scalars(
        select(Suppression)
        .where(Suppression.key == rate_key_or_lower(addr), Suppression.until > now)
        .order_by(Suppression.until.desc())
    ).first()


def suppressions(session: Session) -> list[Suppression]:
    return list(session.scalars(select(Suppression).order_by(Suppression.address)))


def suppress(
    session: Session,
    addr: str,
    *,
    reason: str,
    now: datetime,
    until: datetime,
    extend: bool = False,
) -> Suppression:
    """Put ``addr`` (stored normalised) on the list until ``until``, replacing an earlier entry
    for it; with ``extend`` an earlier entry is only ever lengthened (a bounce)."""
    address = normalised_or_lower(addr)[:320]
    row = session.get(Suppression, address)
    if row is None:
        row = Suppression(
            address=address,
            key=rate_key_or_lower(address)[:320],
            reason=reason,
            created_at=now,
            until=until,
        )
        session.add(row)
        session.flush()
        return row
    row.reason, row.created_at = reason, now
    if not extend or as_utc(row.until) < as_utc(until):
        row.until = until
    return row


def unsuppress(session: Session, addr: str) -> list[str]:
    """Take every entry for ``addr``'s mailbox off the list; the addresses that were on it."""
    done = session.execute(
        delete(Suppression)
        .where(Suppression.key == rate_key_or_lower(addr))
        .returning(Suppression.address)
    )
    return sorted(address for (address,) in done)


def hold_pending(session: Session, addr: str, *, reason: str) -> list[Held]:
    """Hold every row waiting to go to ``addr``'s mailbox (a permanent bounce): ``held`` with
    ``reason``, until staff send one again (``intake outbox retry``)."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.to_key == rate_key_or_lower(addr), Outbox.state == PENDING)
        .values(state=HELD, last_error=reason[:4000])
        .returning(
            Outbox.id, Outbox.template, Outbox.to_addr, Outbox.submission_id, Outbox.claim_id
        )
        .execution_options(synchronize_session=False)
    )
    return sorted((Held(*row) for row in done), key=lambda held: held.id)


def held_for(session: Session, addr: str) -> list[int]:
    """The held rows to ``addr``'s mailbox."""
    return list(
        session.scalars(
            select(Outbox.id)
            .where(Outbox.to_key == rate_key_or_lower(addr), Outbox.state == HELD)
            .order_by(Outbox.id)
        )
    )


# --------------------------------------------------------------------------- the SMTP server


def record_extensions(
    session: Session, host: str, port: int, extensions: Iterable[str], *, now: datetime
) -> None:
    """Remember what the SMTP server at ``host:port`` offered at its EHLO."""
    words = " ".join(sorted({word.lower() for word in extensions}))
    row = session.get(SmtpServer, (host[:255], port))
    if row is None:
        session.add(SmtpServer(host=host[:255], port=port, extensions=words, seen_at=now))
    else:
        row.extensions, row.seen_at = words, now


def offered_extensions(session: Session, host: str, port: int) -> frozenset[str] | None:
    """The EHLO keywords the server last offered; None when no session was recorded."""
    words = session.scalar(
        select(SmtpServer.extensions).where(SmtpServer.host == host[:255], SmtpServer.port == port)
    )
    return None if words is None else frozenset(words.split())


# --------------------------------------------------------------------------- claiming


def _due(now: datetime) -> ColumnElement[bool]:
    # Pending and due, or left ``sending`` by a sender whose claim has run out (a crash).
    return or_(
        and_(Outbox.state == PENDING, Outbox.next_attempt_at <= now),
        and_(Outbox.state == SENDING, Outbox.claimed_until < now),
    )


def automatic_in_flight(session: Session, now: datetime, since: datetime) -> int:
    """Automatic rows handed to SMTP at or after ``since``, or claimed by a live sender: what
    the hourly cap has spent."""
    query = select(func.count()).where(
        Outbox.automatic.is_(True),
        or_(
            Outbox.handed_at >= since,
            and_(Outbox.state == SENDING, Outbox.claimed_until >= now),
        ),
    )
    return int(session.scalar(query) or 0)


def claim_due(
    session: Session,
    *,
    me: str,
    now: datetime,
    until: datetime,
    limit: int,
    automatic_budget: int | None = None,
) -> list[Claimed]:
    """Mark up to ``limit`` due rows ``sending`` for ``me`` until ``until`` and return them,
    oldest first; at most ``automatic_budget`` of them automatic (None: no cap).

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` hands rows another sender is claiming to nobody
    else. SQLite: the transaction holds the write lock (BEGIN IMMEDIATE). On both the UPDATE
    repeats the due condition, so a row taken meanwhile is not taken twice.
    """
    due = _due(now)
    wanted: list[tuple[datetime, int, str]] = []
    budget = limit if automatic_budget is None else min(limit, automatic_budget)
    for automatic, most in ((False, limit), (True, budget)):
        if most <= 0:
            continue
        # One query per kind: staff letters never wait behind automatic ones the cap holds.
        query = (
            select(Outbox.next_attempt_at, Outbox.id, Outbox.state)
            .where(due, Outbox.automatic.is_(automatic))
            .order_by(Outbox.next_attempt_at, Outbox.id)
            .limit(most)
        )
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        wanted.extend((when, pk, state) for when, pk, state in session.execute(query))
    wanted.sort(key=lambda row: (row[0], row[1]))
    claimed: list[Claimed] = []
    for _when, candidate, state in wanted[:limit]:
        row = session.execute(
            update(Outbox)
            .where(Outbox.id == candidate, due)
            .values(
                state=SENDING,
                claimed_by=me,
                claimed_until=until,
                attempts=Outbox.attempts + 1,
            )
            .returning(
                Outbox.id,
                Outbox.to_addr,
                Outbox.message_id,
                Outbox.raw,
                Outbox.template,
                Outbox.attempts,
                Outbox.submission_id,
                Outbox.claim_id,
                Outbox.to_key,
                Outbox.automatic,
                Outbox.handed_at,
            )
            .execution_options(synchronize_session=False)
        ).first()
        if row is not None:
            pk, to_addr, message_id, raw, template, attempts, submission_id, claim_id = row[:8]
            to_key, automatic, handed_at = row[8:]
            recovered = state == SENDING
            claimed.append(
                Claimed(
                    id=pk,
                    to_addr=to_addr,
                    message_id=message_id,
                    raw=raw,
                    template=template,
                    attempts=attempts,
                    submission_id=submission_id,
                    claim_id=claim_id,
                    recovered=recovered,
                    to_key=to_key or rate_key_or_lower(to_addr),
                    automatic=bool(automatic),
                    maybe_sent=recovered and handed_at is not None,
                )
            )
    return claimed


def lock_automatic_claims(session: Session) -> bool:
    """Take the lock that serialises counting the hourly cap (PostgreSQL; SQLite's write lock
    already does); False when another sender holds it now: claim no automatic rows then."""
    if not is_postgres(session):
        return True
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _CAP_LOCK}))


def due_pending_automatic(session: Session, now: datetime) -> int:
    """Automatic rows due now and waiting (what the hourly cap keeps back)."""
    query = select(func.count()).where(
        Outbox.state == PENDING, Outbox.automatic.is_(True), Outbox.next_attempt_at <= now
    )
    return int(session.scalar(query) or 0)


def note_waiting(session: Session, now: datetime, note: str) -> int:
    """Say on the due automatic rows the cap keeps back why they wait (rows that carry an
    earlier error keep it)."""
    done = session.execute(
        update(Outbox)
        .where(
            Outbox.state == PENDING,
            Outbox.automatic.is_(True),
            Outbox.next_attempt_at <= now,
            Outbox.last_error == "",
        )
        .values(last_error=note[:4000])
        .execution_options(synchronize_session=False)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def start_sending(session: Session, pk: int, *, me: str, until: datetime, now: datetime) -> bool:
    """Extend ``me``'s claim and mark the row handed to SMTP (committed before DATA); False
    when another sender has taken it over."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(claimed_until=until, handed_at=now)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def renew(session: Session, pk: int, *, me: str, until: datetime) -> bool:
    """Extend ``me``'s claim on a row; False when another sender has taken it over."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(claimed_until=until)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def release(session: Session, pks: Sequence[int], *, me: str) -> int:
    """Give back rows ``me`` claimed but never handed to SMTP (a sender stopping, a batch cut
    short): pending again at once, the attempt they were charged returned."""
    if not pks:
        return 0
    done = session.execute(
        update(Outbox)
        .where(
            Outbox.id.in_(list(pks)),
            Outbox.state == SENDING,
            Outbox.claimed_by == me,
            Outbox.handed_at.is_(None),
        )
        .values(
            state=PENDING,
            claimed_by="",
            claimed_until=None,
            attempts=Outbox.attempts - 1,  # the claim charged it
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return len(done.all())


def mark_sent(session: Session, pk: int, *, me: str, now: datetime, copied: bool = False) -> bool:
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=SENT,
            sent_at=now,
            handed_at=func.coalesce(Outbox.handed_at, now),
            last_error="",
            claimed_by="",
            claimed_until=None,
            in_sent_folder=copied,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def mark_retry(
    session: Session, pk: int, *, me: str, error: str, next_attempt_at: datetime
) -> bool:
    # The server refused it or never took it: it was not sent, so nothing is "maybe" about it.
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=PENDING,
            last_error=error[:4000],
            next_attempt_at=next_attempt_at,
            claimed_by="",
            claimed_until=None,
            handed_at=None,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def wait_for_sent_folder(
    session: Session, pk: int, *, me: str, error: str, until: datetime
) -> bool:
    """Keep a row that may have been sent ``sending`` (unclaimed after ``until``), to be
    checked again then: the Sent folder cannot be searched now, and sending it might send it
    twice."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(last_error=error, claimed_by="", claimed_until=until, next_attempt_at=until)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def hold(session: Session, pk: int, *, me: str, reason: str, now: datetime) -> bool:
    """Take a claimed row out of the queue, ``held`` with ``reason``, until staff send it
    again (``intake outbox retry``). The attempt it was charged is returned."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=HELD,
            last_error=reason[:4000],
            next_attempt_at=now,
            claimed_by="",
            claimed_until=None,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def mark_failed(session: Session, pk: int, *, me: str, error: str, now: datetime) -> bool:
    # next_attempt_at becomes the time it gave up: the health report counts recent failures by
    # it. handed_at stays: a row whose answer was never known keeps saying it may have gone.
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=FAILED,
            last_error=error[:4000],
            next_attempt_at=now,
            claimed_by="",
            claimed_until=None,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


# --------------------------------------------------------------------------- Sent folder copies


def uncopied(session: Session, limit: int) -> list[Copy]:
    """Sent replies whose copy has not reached the Sent folder, oldest first."""
    rows = session.execute(
        select(Outbox.id, Outbox.message_id, Outbox.raw)
        .where(Outbox.state == SENT, Outbox.in_sent_folder.is_(False))
        .order_by(Outbox.sent_at, Outbox.id)
        .limit(limit)
    )
    return [Copy(int(pk), mid, raw) for pk, mid, raw in rows]


def mark_copied(session: Session, pk: int) -> None:
    session.execute(
        update(Outbox)
        .where(Outbox.id == pk)
        .values(in_sent_folder=True)
        .execution_options(synchronize_session=False)
    )


# --------------------------------------------------------------------------- staff


def get(session: Session, pk: int) -> Outbox:
    row = session.get(Outbox, pk)
    if row is None:
        raise NotFound(f"no outbox row with id {pk}")
    return row


def rows(session: Session, *, state: str | None = None, limit: int | None = None) -> list[Outbox]:
    query = select(Outbox).order_by(Outbox.id.desc())
    if state:
        query = query.where(Outbox.state == state)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def retry(session: Session, pk: int, *, now: datetime) -> Outbox:
    """Put a failed or held row back in the queue with its attempts reset."""
    row = session.scalars(select(Outbox).where(Outbox.id == pk).with_for_update()).first()
    if row is None:
        raise NotFound(f"no outbox row with id {pk}")
    if row.state not in (FAILED, HELD):
        raise UsageError(f"outbox row {pk} is {row.state}, not failed or held: nothing to retry")
    row.state = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_by = ""
    row.claimed_until = None
    row.handed_at = None
    return row
