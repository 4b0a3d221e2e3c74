"""Queries and writes for the outbox (queue, claim, deliver, retry) and the suppression list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from intake.core.errors import NotFound, UsageError
from intake.core.mail import OutgoingMail
from intake.store import is_postgres
from intake.store.models import Outbox, Submission, Suppression

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
STATES = (PENDING, SENDING, SENT, FAILED)


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


@dataclass(frozen=True, slots=True)
class Copy:
    """A sent reply whose copy is not in the Sent folder yet."""

    id: int
    message_id: str
    raw: bytes


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
) -> Outbox:
    row = Outbox(
        submission_id=submission_id,
        claim_id=claim_id,
        in_reply_to_pk=in_reply_to_pk,
        template=mail.template,
        to_addr=mail.to.addr.lower()[:320],
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
    )
    session.add(row)
    session.flush()
    return row


def automatic_replies_since(session: Session, addr: str, since: datetime) -> int:
    """Automatic replies queued to ``addr`` at or after ``since``, whatever became of them."""
    query = select(func.count()).where(
        Outbox.to_addr == addr.lower(), Outbox.automatic.is_(True), Outbox.created_at >= since
    )
    return int(session.scalar(query) or 0)


def same_piece_since(
    session: Session, submission: Submission, since: datetime
) -> Submission | None:
    """An earlier submission from the same sender with the same text or attachments."""
    same = []
    if submission.content_hash:
        same.append(Submission.content_hash == submission.content_hash)
    if submission.attachments_hash:
        same.append(Submission.attachments_hash == submission.attachments_hash)
    if not same or not submission.sender:
        return None
    return session.scalars(
        select(Submission)
        .where(
            Submission.sender == submission.sender,
            Submission.id < submission.id,
            Submission.received_at >= since,
            or_(*same),
        )
        .order_by(Submission.id)
        .limit(1)
    ).first()


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
    return session.scalars(
        select(Suppression).where(Suppression.address == addr.lower(), Suppression.until > now)
    ).first()


def suppressions(session: Session) -> list[Suppression]:
    return list(session.scalars(select(Suppression).order_by(Suppression.address)))


def suppress(
    session: Session, addr: str, *, reason: str, now: datetime, until: datetime
) -> Suppression:
    """Put ``addr`` on the list until ``until`` (replacing an earlier entry)."""
    row = session.get(Suppression, addr.lower())
    if row is None:
        row = Suppression(address=addr.lower()[:320], reason=reason, created_at=now, until=until)
        session.add(row)
    else:
        row.reason, row.created_at, row.until = reason, now, until
    return row


def unsuppress(session: Session, addr: str) -> bool:
    done = session.execute(
        delete(Suppression)
        .where(Suppression.address == addr.lower())
        .returning(Suppression.address)
    )
    return done.first() is not None


# --------------------------------------------------------------------------- claiming


def _due(now: datetime) -> ColumnElement[bool]:
    # Pending and due, or left ``sending`` by a sender whose claim has run out (a crash).
    return or_(
        and_(Outbox.state == PENDING, Outbox.next_attempt_at <= now),
        and_(Outbox.state == SENDING, Outbox.claimed_until < now),
    )


def claim_due(
    session: Session, *, me: str, now: datetime, until: datetime, limit: int
) -> list[Claimed]:
    """Mark up to ``limit`` due rows ``sending`` for ``me`` until ``until`` and return them.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` hands rows another sender is claiming to nobody
    else. SQLite: the transaction holds the write lock (BEGIN IMMEDIATE). On both the UPDATE
    repeats the due condition, so a row taken meanwhile is not taken twice.
    """
    due = _due(now)
    query = (
        select(Outbox.id, Outbox.state)
        .where(due)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    candidates = list(session.execute(query))
    claimed: list[Claimed] = []
    for candidate, state in candidates:
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
            )
            .execution_options(synchronize_session=False)
        ).first()
        if row is not None:
            pk, to_addr, message_id, raw, template, attempts, submission_id, claim_id = row
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
                    recovered=state == SENDING,
                )
            )
    return claimed


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


def mark_sent(session: Session, pk: int, *, me: str, now: datetime, copied: bool = False) -> bool:
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=SENT,
            sent_at=now,
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
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=PENDING,
            last_error=error,
            next_attempt_at=next_attempt_at,
            claimed_by="",
            claimed_until=None,
        )
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def hold(session: Session, pk: int, *, me: str, error: str, until: datetime) -> bool:
    """Keep a recovered row ``sending`` (unclaimed after ``until``), to be checked again then.

    Used when the Sent folder cannot be searched: sending now might send it twice.
    """
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(last_error=error, claimed_by="", claimed_until=until, next_attempt_at=until)
        .returning(Outbox.id)
        .execution_options(synchronize_session=False)
    )
    return done.first() is not None


def mark_failed(session: Session, pk: int, *, me: str, error: str, now: datetime) -> bool:
    # next_attempt_at becomes the time it gave up: the health report counts recent failures by it.
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == pk, Outbox.state == SENDING, Outbox.claimed_by == me)
        .values(
            state=FAILED,
            last_error=error,
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
    """Put a failed row back in the queue with its attempts reset."""
    row = session.scalars(select(Outbox).where(Outbox.id == pk).with_for_update()).first()
    if row is None:
        raise NotFound(f"no outbox row with id {pk}")
    if row.state != FAILED:
        raise UsageError(f"outbox row {pk} is {row.state}, not failed: nothing to retry")
    row.state = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_by = ""
    row.claimed_until = None
    return row
