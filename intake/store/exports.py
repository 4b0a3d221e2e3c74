"""Queries for exports: the rows of the fee ledger, without the (long) article texts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store.models import Submission


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One submission as the fee ledger lists it."""

    id: int
    sender: str
    subject: str
    received_at: datetime
    status: str
    copyright_status: str
    char_count: int
    sender_name: str
    title: str
    word_count: int
    published_url: str
    author: dict[str, str]  # the contributor's details, in full: the ledger pays them


def ledger_rows(
    session: Session,
    *,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LedgerRow]:
    """Submissions in ``statuses`` (all when empty) received in [since, until), oldest first."""
    query = select(
        Submission.id,
        Submission.sender,
        Submission.subject,
        Submission.received_at,
        Submission.status,
        Submission.copyright_status,
        Submission.char_count,
        Submission.sender_name,
        Submission.title,
        Submission.word_count,
        Submission.published_url,
        Submission.author,
    ).order_by(Submission.received_at, Submission.id)
    if statuses:
        query = query.where(Submission.status.in_(list(statuses)))
    if since is not None:
        query = query.where(Submission.received_at >= since)
    if until is not None:
        query = query.where(Submission.received_at < until)
    return [LedgerRow(*tuple(row)) for row in session.execute(query)]
