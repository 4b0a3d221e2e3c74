"""Staff actions on the outbox: retry a failed or held letter, suppress an address, lift it.

Suppression covers staff letters too: an editor who must write to an address that bounced
lifts the suppression first (``intake unsuppress``), then retries the held letter (the history
records who) or writes a new one. That keeps "this address bounced" from being overridden by
accident."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.core.errors import (
    NotFound,
    UsageError,
)
from intake.replies.queue import suppression_note
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.text.addresses import AddressError, normalise

log = logging.getLogger(__name__)


def retry_failed(
    sessions: sessionmaker[Session], outbox_id: int, *, actor: str, now: datetime
) -> None:
    """Put a failed or held reply back in the queue with its attempts reset (``intake outbox
    retry``). A reply to a suppressed address stays held: lift the suppression first."""
    with sessions() as session, session.begin():
        row = outbox_store.get(session, outbox_id)
        suppressed = outbox_store.active_suppression(session, row.to_addr, now)
        if suppressed is not None and row.state in (outbox_store.FAILED, outbox_store.HELD):
            why = suppression_note(row.to_addr, suppressed.until, suppressed.reason)
            raise UsageError(
                f"outbox row {outbox_id}: {why}; `intake unsuppress {suppressed.address}` first"
            )
        before = row.state
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
                + (f" after: {row.last_error}" if row.last_error else f" ({before})"),
            )


def suppress(
    sessions: sessionmaker[Session], address: str, *, days: float, reason: str, now: datetime
) -> tuple[str, datetime]:
    """No mail to ``address`` (any spelling of its mailbox) for ``days`` (``intake
    suppress``); returns the address as stored (normalised) and until when."""
    try:
        normal = normalise(address)
    except AddressError as exc:
        raise UsageError(f"not an email address: {exc}") from None
    if days <= 0:
        raise UsageError("--days must be positive")
    until = now + timedelta(days=days)
    with sessions() as session, session.begin():
        outbox_store.suppress(session, normal, reason=reason, now=now, until=until)
    return normal, until


def unsuppress(sessions: sessionmaker[Session], address: str) -> Lifted:
    """Take ``address``'s mailbox off the suppression list (``intake unsuppress``): every entry
    for any spelling of it. Letters held meanwhile stay held; they are named in the answer."""
    with sessions() as session, session.begin():
        lifted = outbox_store.unsuppress(session, address)
        if not lifted:
            raise NotFound(f"{address.strip()} is not on the suppression list")
        return Lifted(tuple(lifted), tuple(outbox_store.held_for(session, address)))


@dataclass(frozen=True, slots=True)
class Lifted:
    """What ``intake unsuppress`` did: the entries removed, and the letters still held."""

    addresses: tuple[str, ...]
    held: tuple[int, ...]
