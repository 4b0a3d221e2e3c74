"""Queries and writes for submissions, their attachments, versions and audit events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.core.errors import NotFound
from intake.core.events import ThreadMatch
from intake.store.models import Attachment, Event, Message, Outbox, Submission


def get_submission(session: Session, submission_id: int, *, for_update: bool = False) -> Submission:
    """The submission (from the session when it was loaded already: the ingest hooks ask for
    the same one several times in one transaction)."""
    if for_update:
        query = select(Submission).where(Submission.id == submission_id).with_for_update()
        submission = session.scalars(query).first()
    else:
        submission = session.get(Submission, submission_id)
    if submission is None:
        raise NotFound(f"no submission with id {submission_id}")
    return submission


def add_event(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    submission_id: int | None = None,
    claim_id: int | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
) -> Event:
    event = Event(
        submission_id=submission_id,
        claim_id=claim_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    session.add(event)
    return event


def attachments_for(session: Session, submission_id: int) -> list[Attachment]:
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.submission_id == submission_id)
            .order_by(Attachment.id)
        )
    )


def find_thread_by_ids(session: Session, message_ids: Sequence[str]) -> ThreadMatch | None:
    """The submission or claim that one of ``message_ids`` (nearest first) belongs to."""
    ids = [m for m in message_ids if m]
    if not ids:
        return None
    ours = {
        row.message_id: row
        for row in session.execute(
            select(Outbox.message_id, Outbox.submission_id, Outbox.claim_id).where(
                Outbox.message_id.in_(ids)
            )
        )
    }
    theirs = {
        row.message_id: row
        for row in session.execute(
            select(Message.message_id, Message.submission_id, Message.claim_id).where(
                Message.message_id.in_(ids),
                (Message.submission_id.is_not(None)) | (Message.claim_id.is_not(None)),
            )
        )
    }
    for mid in ids:
        if mid in ours:
            row = ours[mid]
            if row.submission_id or row.claim_id:
                return ThreadMatch(row.submission_id, row.claim_id, f"ours <{mid}>")
        if mid in theirs:
            row = theirs[mid]
            return ThreadMatch(row.submission_id, row.claim_id, f"message-id <{mid}>")
    return None


def submission_exists(session: Session, submission_id: int) -> bool:
    return session.get(Submission, submission_id) is not None
