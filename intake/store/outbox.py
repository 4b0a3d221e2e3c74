"""The outbox's rows and what decides them: queueing a letter, the counts the loop and flood
rules take, the suppression list, what the SMTP server offers, and staff's listing and retry.
The sender's claim-and-send steps are in :mod:`intake.store.sending`.

Addresses are matched by their ``rate_key`` (:mod:`intake.text.addresses`): ``outbox.to_key``
and ``suppressions.key``, so every spelling of one mailbox (case, full width, IDNA, ``+tag``)
shares one limit and one suppression.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from intake.core.clock import as_utc
from intake.core.errors import NotFound, UsageError
from intake.core.mail import OutgoingMail
from intake.store import insert_row
from intake.store.models import Outbox, SmtpServer, Submission, Suppression
from intake.text.addresses import normalised_or_lower, rate_key_or_lower

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
STATES = (PENDING, SENDING, SENT, FAILED, HELD)
#: States a row leaves only by a staff action (``intake outbox retry``).
DONE_STATES = (SENT, FAILED, HELD)


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
