"""The sender's side of the outbox: claiming due rows, each step of a claimed row towards SMTP
(renewed, handed, sent, retried, held, failed, given back) and the Sent folder copies.

Every step after the claim writes only while this sender still holds the row (``_if_mine``):
a sender whose claim ran out (it hung, or died and came back) can no longer change a row
another sender has taken over. Queueing, counting and staff actions are in
:mod:`intake.store.outbox`.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.orm import Session

from intake.store import is_postgres
from intake.store.models import Outbox
from intake.store.outbox import FAILED, HELD, PENDING, SENDING, SENT, Claimed
from intake.text.addresses import rate_key_or_lower

# The lock that makes claiming automatic rows one at a time across PostgreSQL senders, so two
# daemons counting the hourly cap at once cannot both spend its last slots (SQLite's write
# lock does the same there). A fixed number: pg_advisory locks are named by a bigint.
_CAP_LOCK = zlib.crc32(b"intake outbox hourly cap")


@dataclass(frozen=True, slots=True)
class Copy:
    """A sent reply whose copy is not in the Sent folder yet."""

    id: int
    message_id: str
    raw: bytes


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
    return _if_mine(session, pk, me, claimed_until=until, handed_at=now)


def renew(session: Session, pk: int, *, me: str, until: datetime) -> bool:
    """Extend ``me``'s claim on a row; False when another sender has taken it over."""
    return _if_mine(session, pk, me, claimed_until=until)


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
    return _if_mine(
        session,
        pk,
        me,
        state=SENT,
        sent_at=now,
        handed_at=func.coalesce(Outbox.handed_at, now),
        last_error="",
        claimed_by="",
        claimed_until=None,
        in_sent_folder=copied,
    )


def mark_retry(
    session: Session, pk: int, *, me: str, error: str, next_attempt_at: datetime
) -> bool:
    # The server refused it or never took it: it was not sent, so nothing is "maybe" about it.
    return _if_mine(
        session,
        pk,
        me,
        state=PENDING,
        last_error=error[:4000],
        next_attempt_at=next_attempt_at,
        claimed_by="",
        claimed_until=None,
        handed_at=None,
    )


def wait_for_sent_folder(
    session: Session, pk: int, *, me: str, error: str, until: datetime
) -> bool:
    """Keep a row that may have been sent ``sending`` (unclaimed after ``until``), to be
    checked again then: the Sent folder cannot be searched now, and sending it might send it
    twice."""
    return _if_mine(
        session, pk, me, last_error=error, claimed_by="", claimed_until=until, next_attempt_at=until
    )


def hold(session: Session, pk: int, *, me: str, reason: str, now: datetime) -> bool:
    """Take a claimed row out of the queue, ``held`` with ``reason``, until staff send it
    again (``intake outbox retry``). The attempt it was charged is returned."""
    return _if_mine(
        session,
        pk,
        me,
        state=HELD,
        last_error=reason[:4000],
        next_attempt_at=now,
        claimed_by="",
        claimed_until=None,
    )


def mark_failed(session: Session, pk: int, *, me: str, error: str, now: datetime) -> bool:
    # next_attempt_at becomes the time it gave up: the health report counts recent failures by
    # it. handed_at stays: a row whose answer was never known keeps saying it may have gone.
    return _if_mine(
        session,
        pk,
        me,
        state=FAILED,
        last_error=error[:4000],
        next_attempt_at=now,
        claimed_by="",
        claimed_until=None,
    )


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


def _if_mine(session: Session, pk: int, me: str, **values: object) -> bool:
    """Write ``values`` on row ``pk`` if ``me`` still holds it ``sending``; False when another
    sender has taken it over (its claim ran out), and then nothing is written."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(**values)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None
