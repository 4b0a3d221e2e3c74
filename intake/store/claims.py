"""Queries and writes for rights holders' claims: the rows, their messages, attachments,
replies and history, the published articles they name, and the counts for status and stats."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, defer

from intake.core.errors import NotFound
from intake.store.models import Attachment, Claim, Event, Message, Outbox, Submission
from intake.workflow.claim import AWAITING_US, OPEN_STATUSES, ClaimStatus, title_key, url_key

#: Published articles whose title is compared with a claim's work title, newest first.
TITLE_CANDIDATES = 20


def get_claim(session: Session, claim_id: int, *, for_update: bool = False) -> Claim:
    query = select(Claim).where(Claim.id == claim_id)
    if for_update:
        query = query.with_for_update()
    claim = session.scalars(query).first()
    if claim is None:
        raise NotFound(f"no claim with id {claim_id}")
    return claim


def claim_exists(session: Session, claim_id: int) -> bool:
    return session.get(Claim, claim_id) is not None


def add_claim(session: Session, **fields: Any) -> Claim:
    claim = Claim(**fields)
    session.add(claim)
    session.flush()
    return claim


def list_claims(
    session: Session,
    *,
    statuses: Collection[str] = (),
    overdue_at: datetime | None = None,
    submission_id: int | None = None,
    assignee: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[Claim]:
    """Claims, the earliest deadline first (the most urgent on top), then the newest."""
    query = select(Claim).options(defer(Claim.body_text))
    if statuses:
        query = query.where(Claim.status.in_(list(statuses)))
    if overdue_at is not None:
        query = query.where(overdue_condition(overdue_at))
    if submission_id is not None:
        query = query.where(Claim.submission_id == submission_id)
    if assignee is not None:
        query = query.where(Claim.assignee == assignee)
    query = query.order_by(
        Claim.status.in_(sorted(OPEN_STATUSES)).desc(),
        Claim.deadline.asc().nulls_last(),
        Claim.id.desc(),
    )
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return list(session.scalars(query))


def overdue_condition(now: datetime) -> Any:
    """Waiting for our answer and past the deadline (:func:`intake.workflow.claim.is_overdue`)."""
    return and_(
        Claim.status.in_(sorted(AWAITING_US)),
        Claim.deadline.is_not(None),
        Claim.deadline < now,
    )


def overdue_claims_count(session: Session, now: datetime) -> int:
    """Claims still waiting for our answer past their deadline (``intake status``)."""
    query = select(func.count()).select_from(Claim).where(overdue_condition(now))
    return int(session.scalar(query) or 0)


def counts_by_status(session: Session) -> dict[str, int]:
    counts = {str(s): 0 for s in ClaimStatus}
    for key, n in session.execute(select(Claim.status, func.count()).group_by(Claim.status)):
        counts[key] = int(n)
    return counts


# --------------------------------------------------------------------------- history


def events_for(session: Session, claim_id: int) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.claim_id == claim_id).order_by(Event.id)))


def events_for_many(session: Session, claim_ids: Sequence[int]) -> dict[int, list[Event]]:
    found: dict[int, list[Event]] = {cid: [] for cid in claim_ids}
    if not claim_ids:
        return found
    query = select(Event).where(Event.claim_id.in_(list(claim_ids))).order_by(Event.id)
    for event in session.scalars(query):
        if event.claim_id is not None:
            found[event.claim_id].append(event)
    return found


# --------------------------------------------------------------------------- mail


def messages_for(session: Session, claim: Claim) -> list[Message]:
    """The claimant's letter and every later message in the claim's thread, oldest first."""
    return list(
        session.scalars(
            select(Message)
            .options(defer(Message.body_text), defer(Message.auth_results))
            .where(or_(Message.id == claim.message_pk, Message.claim_id == claim.id))
            .order_by(Message.received_at, Message.id)
        )
    )


def attachments_for(session: Session, claim: Claim) -> list[Attachment]:
    """Files that came with the claim or with later messages in its thread."""
    in_thread = select(Message.id).where(
        or_(Message.id == claim.message_pk, Message.claim_id == claim.id)
    )
    return list(
        session.scalars(
            select(Attachment).where(Attachment.message_pk.in_(in_thread)).order_by(Attachment.id)
        )
    )


def outbox_for(session: Session, claim_id: int, *, with_raw: bool = False) -> list[Outbox]:
    """Our letters about a claim (queued, sent or failed), oldest first; their bytes only
    ``with_raw``."""
    query = select(Outbox).where(Outbox.claim_id == claim_id).order_by(Outbox.id)
    return list(session.scalars(query if with_raw else query.options(defer(Outbox.raw))))


def attachment_file(session: Session, claim: Claim, number: int) -> Attachment:
    """The ``number``-th file of a claim's thread (1 is the first, in the order they came)."""
    files = attachments_for(session, claim)
    if not 1 <= number <= len(files):
        count = len(files)
        raise NotFound(
            f"claim {claim.id} has "
            + (f"{count} attachment{'' if count == 1 else 's'}" if count else "no attachments")
            + f": there is no number {number}"
        )
    return files[number - 1]


def message(session: Session, message_pk: int) -> Message:
    found = session.get(Message, message_pk)
    if found is None:
        raise NotFound(f"no message with id {message_pk}")
    return found


def message_attachments(session: Session, message_pk: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment).where(Attachment.message_pk == message_pk).order_by(Attachment.id)
        )
    )


def claim_of_message(session: Session, message_pk: int) -> Claim | None:
    """The claim opened from this message, if one was (reclassification keeps it)."""
    return session.scalars(
        select(Claim).where(Claim.message_pk == message_pk).order_by(Claim.id.desc())
    ).first()


def submission_of_message(session: Session, message_pk: int) -> Submission | None:
    """The submission made from this message, if one was."""
    return session.scalars(
        select(Submission).where(Submission.message_pk == message_pk).order_by(Submission.id.desc())
    ).first()


def get_submission(session: Session, submission_id: int) -> Submission:
    found = session.get(Submission, submission_id)
    if found is None:
        raise NotFound(f"no submission with id {submission_id}")
    return found


def add_submission(session: Session, **fields: Any) -> Submission:
    submission = Submission(**fields)
    session.add(submission)
    session.flush()
    return submission


# --------------------------------------------------------------------------- published articles


def published_by_url(session: Session, urls: Sequence[str]) -> Submission | None:
    """The published submission at one of ``urls`` (compared by :func:`url_key`)."""
    wanted = {key for key in map(url_key, urls) if key}
    if not wanted:
        return None
    # The last path segment narrows the search in SQL; the keys decide in Python.
    tails = {key.rstrip("/").rsplit("/", 1)[-1] for key in wanted}
    conditions = [Submission.published_url.contains(tail, autoescape=True) for tail in tails]
    query = (
        select(Submission)
        .where(Submission.published_url != "", or_(*conditions))
        .order_by(Submission.id.desc())
    )
    for found in session.scalars(query):
        if url_key(found.published_url) in wanted:
            return found
    return None


def published_by_title(session: Session, title: str) -> Submission | None:
    """The newest published submission whose title is ``title`` (compared by :func:`title_key`)."""
    key = title_key(title)
    if len(key) < 2:
        return None
    bare = title.strip().strip("《》").strip()
    query = (
        select(Submission)
        .where(
            or_(Submission.status == "published", Submission.published_url != ""),
            func.lower(Submission.title).in_({t.lower() for t in (bare, f"《{bare}》")}),
        )
        .order_by(Submission.id.desc())
        .limit(TITLE_CANDIDATES)
    )
    for found in session.scalars(query):
        if title_key(found.title) == key:
            return found
    return None
