"""Staff actions on the outbox: retry a failed letter, suppress an address, lift it."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.core.errors import (
    NotFound,
    UsageError,
)
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store

log = logging.getLogger(__name__)


def retry_failed(
    sessions: sessionmaker[Session], outbox_id: int, *, actor: str, now: datetime
) -> None:
    """Put a failed reply back in the queue with its attempts reset (``intake outbox retry``)."""
    with sessions() as session, session.begin():
        row = outbox_store.retry(session, outbox_id, now=now)
        if row.submission_id is not None or row.claim_id is not None:
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="reply_retry",
                submission_id=row.submission_id,
                claim_id=row.claim_id,
                note=f"{row.template} to {row.to_addr} (outbox #{row.id}) queued again"
                + (f" after: {row.last_error}" if row.last_error else ""),
            )


def suppress(
    sessions: sessionmaker[Session], address: str, *, days: float, reason: str, now: datetime
) -> datetime:
    """No mail to ``address`` for ``days`` (``intake suppress``); returns until when."""
    address = address.strip()
    if "@" not in address:
        raise UsageError(f"not an email address: {address!r}")
    if days <= 0:
        raise UsageError("--days must be positive")
    until = now + timedelta(days=days)
    with sessions() as session, session.begin():
        outbox_store.suppress(session, address, reason=reason, now=now, until=until)
    return until


def unsuppress(sessions: sessionmaker[Session], address: str) -> None:
    """Take ``address`` off the suppression list (``intake unsuppress``)."""
    with sessions() as session, session.begin():
        if not outbox_store.unsuppress(session, address.strip()):
            raise NotFound(f"{address.strip()} is not on the suppression list")
