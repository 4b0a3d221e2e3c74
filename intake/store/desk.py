"""Queries and writes for the desk's notices: what new mail the desk has not been told about,
and the record that it was (one row per submission or claim, one per digest period)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.store.models import Attachment, Claim, DeskDigest, DeskNotice, Submission


@dataclass(frozen=True, slots=True)
class NewItem:
    """One new submission or claim as the desk hears of it."""

    kind: str  # "submission" or "claim"
    id: int
    subject: str
    sender: str
    sender_name: str
    received_at: datetime
    chars: int  # the article's length (a claim's letter's)
    attachments: int
    status: str
    duplicate_of: int | None = None


def _submission_item(session: Session, row: Submission) -> NewItem:
    count = session.scalar(
        select(func.count()).select_from(Attachment).where(Attachment.submission_id == row.id)
    )
    return NewItem(
        "submission", row.id, row.subject, row.sender, row.sender_name, row.received_at,
        row.char_count, int(count or 0), row.status, row.duplicate_of,
    )  # fmt: skip


def _claim_item(row: Claim) -> NewItem:
    return NewItem(
        "claim", row.id, row.subject, row.claimant, row.claimant_name, row.received_at,
        len(row.body_text), 0, row.status,
    )  # fmt: skip


def made_from(session: Session, message_pk: int) -> list[NewItem]:
    """The submissions and claims a message opened that the desk was not told about."""
    submissions = session.scalars(
        select(Submission)
        .outerjoin(DeskNotice, DeskNotice.submission_id == Submission.id)
        .where(Submission.message_pk == message_pk, DeskNotice.id.is_(None))
        .order_by(Submission.id)
    )
    claims = session.scalars(
        select(Claim)
        .outerjoin(DeskNotice, DeskNotice.claim_id == Claim.id)
        .where(Claim.message_pk == message_pk, DeskNotice.id.is_(None))
        .order_by(Claim.id)
    )
    return [*(_submission_item(session, s) for s in submissions), *map(_claim_item, claims)]


def unannounced(session: Session) -> list[NewItem]:
    """Every submission and claim the desk was not told about, oldest first."""
    submissions = session.scalars(
        select(Submission)
        .outerjoin(DeskNotice, DeskNotice.submission_id == Submission.id)
        .where(DeskNotice.id.is_(None))
        .order_by(Submission.id)
    )
    claims = session.scalars(
        select(Claim)
        .outerjoin(DeskNotice, DeskNotice.claim_id == Claim.id)
        .where(DeskNotice.id.is_(None))
        .order_by(Claim.id)
    )
    items = [*(_submission_item(session, s) for s in submissions), *map(_claim_item, claims)]
    return sorted(items, key=lambda item: (item.received_at, item.kind, item.id))


def add_notice(session: Session, item: NewItem, *, digest: str, note: str, now: datetime) -> None:
    """Record that the desk was told about ``item`` (unique: a second time fails the flush)."""
    session.add(
        DeskNotice(
            submission_id=item.id if item.kind == "submission" else None,
            claim_id=item.id if item.kind == "claim" else None,
            digest=digest,
            note=note,
            at=now,
        )
    )
    session.flush()


def digest_sent(session: Session, period: str) -> bool:
    return session.get(DeskDigest, period) is not None


def add_digest(session: Session, period: str, *, items: int, note: str, now: datetime) -> None:
    """Record the digest of ``period`` (its primary key: a second one fails the flush)."""
    session.add(DeskDigest(period=period, items=items, note=note, at=now))
    session.flush()


def last_digest(session: Session) -> DeskDigest | None:
    return session.scalars(select(DeskDigest).order_by(DeskDigest.at.desc()).limit(1)).first()
