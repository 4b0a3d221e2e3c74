"""Queries and writes for copyright consent: decisions with their evidence, and the requests
that are due for a reminder or have expired."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.store.models import Consent, Outbox, Submission


def add_consent(
    session: Session,
    *,
    submission_id: int,
    decision: str,
    at: datetime,
    terms_version: str = "",
    phrase: str = "",
    message_pk: int | None = None,
    message_id: str = "",
    in_reply_to: str = "",
    sha256: str = "",
    raw_path: str = "",
    sender: str = "",
    auth_results: str = "",
    dkim: str = "",
    actor: str = "",
    note: str = "",
) -> Consent:
    row = Consent(
        submission_id=submission_id,
        decision=decision,
        terms_version=terms_version[:100],
        phrase=phrase,
        message_pk=message_pk,
        message_id=message_id[:998],
        in_reply_to=in_reply_to,
        sha256=sha256,
        raw_path=raw_path[:255],
        sender=sender[:320],
        auth_results=auth_results,
        dkim=dkim[:50],
        actor=actor[:100],
        note=note,
        at=at,
    )
    session.add(row)
    session.flush()
    return row


def last_request(session: Session, submission_id: int) -> Outbox | None:
    """The newest copyright request queued for a submission (its terms version, its time)."""
    return session.scalars(
        select(Outbox)
        .where(Outbox.submission_id == submission_id, Outbox.template == "copyright_request")
        .order_by(Outbox.id.desc())
        .limit(1)
    ).first()


def requested_before(
    session: Session, statuses: Sequence[str], before: datetime, *, limit: int = 500
) -> list[Submission]:
    """Submissions whose copyright status is one of ``statuses`` and whose request was sent
    before ``before``, oldest request first; locked (skipping rows another worker holds) on
    PostgreSQL, so that two maintenance runs never remind twice."""
    return list(
        session.scalars(
            select(Submission)
            .where(
                Submission.copyright_status.in_(list(statuses)),
                Submission.copyright_requested_at.is_not(None),
                Submission.copyright_requested_at <= before,
            )
            .order_by(Submission.copyright_requested_at, Submission.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
