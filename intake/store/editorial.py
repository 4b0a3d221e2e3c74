"""Writes of the editorial use case besides status moves (those are
:func:`intake.workflow.cases.move`'s): assignment, the published address, letters an editor
changed before sending; plus the lookups those decisions need."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from intake.core.errors import NotFound
from intake.store.models import Consent, Message, Outbox, Submission


def set_published_url(submission: Submission, url: str, *, now: datetime) -> None:
    submission.published_url = url
    submission.updated_at = now


def outbox_raw(session: Session, outbox_id: int) -> bytes:
    raw = session.scalars(select(Outbox.raw).where(Outbox.id == outbox_id)).first()
    if raw is None:
        raise NotFound(f"no outbox row with id {outbox_id}")
    return raw


def replace_outbox_raw(session: Session, outbox_id: int, raw: bytes) -> None:
    """Swap the bytes of a queued reply (the editor's edited text) before anyone sends it."""
    done = session.execute(
        update(Outbox)
        .where(Outbox.id == outbox_id, Outbox.state == "pending")
        .values(raw=raw)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 0) != 1:
        raise NotFound(f"no pending outbox row with id {outbox_id}")


def waiver_noted(session: Session, submission_id: int) -> bool:
    """Whether the latest copyright waiver recorded for a submission says why."""
    note = session.scalars(
        select(Consent.note)
        .where(Consent.submission_id == submission_id, Consent.decision == "waive")
        .order_by(Consent.at.desc(), Consent.id.desc())
        .limit(1)
    ).first()
    return bool(note and note.strip())


def latest_from_contributor(session: Session, submission: Submission) -> int:
    """The newest message the contributor sent about a submission (its original message when
    they sent nothing since): an answer threads under what they wrote last."""
    newest = session.scalars(
        select(Message.id)
        .where(Message.submission_id == submission.id, Message.kind.in_(("submission", "reply")))
        .order_by(Message.received_at.desc(), Message.id.desc())
        .limit(1)
    ).first()
    return newest if newest is not None else submission.message_pk
