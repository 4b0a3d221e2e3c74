"""The bounce hook: a delivery-status notification about one of our letters marks that outbox row
failed and, when the failure is permanent, suppresses the address for a while and holds every
letter still waiting to go there (``held``, visible in ``intake outbox``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from intake.core.events import Ingested
from intake.core.mail import Kind
from intake.replies import render
from intake.store import conversations as conversation_store
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.workflow.cases import SYSTEM_ACTOR

if TYPE_CHECKING:
    from intake.store import Session

log = logging.getLogger(__name__)


class Bounces:
    """The ingest hook for bounces; ``reply_secret`` recognises our Message-IDs."""

    def __init__(self, reply_secret: bytes, suppression_days: int) -> None:
        self.reply_secret = reply_secret
        self.suppression_days = suppression_days

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """A delivery-status notification about one of our replies: the reply failed."""
        bounce = item.parsed.bounce
        if item.verdict.kind is not Kind.BOUNCE or bounce is None:
            return
        ids = [self._our_id(mid) for mid in bounce.original_message_ids]
        rows = conversation_store.outbox_by_message_ids(session, [i for i in ids if i])
        if not rows:
            log.info("bounce %d names none of our replies", item.message_pk)
            return
        diagnostic = bounce.diagnostic or ("permanent failure" if bounce.permanent else "delayed")
        for row in rows:
            what = f"{row.template} to {row.to_addr} (outbox #{row.id})"
            if bounce.permanent:
                row.state = "failed"
                row.last_error = f"bounced (message {item.message_pk}): {diagnostic}"[:4000]
                # The letter's own address, and only it: the report's recipients may be a
                # forwarder's final address, or forged by anyone who saw one of our
                # Message-IDs, and must not silence strangers.
                self._suppress(session, item, row.to_addr, diagnostic)
            action, verb = ("bounce", "bounced") if bounce.permanent else ("delayed", "delayed")
            if row.submission_id is not None or row.claim_id is not None:
                # The letter's case, by id: this records the outbox's news, it moves nothing.
                submission_store.add_event(
                    session,
                    at=item.now,
                    actor=SYSTEM_ACTOR,
                    action=action,
                    submission_id=row.submission_id,
                    claim_id=row.claim_id,
                    note=f"{what} {verb}: {diagnostic}",
                )

    def _suppress(self, session: Session, item: Ingested, address: str, diagnostic: str) -> None:
        """No more mail to ``address`` for a while, and nothing that waits to go there."""
        reason = f"bounced: {diagnostic}"
        outbox_store.suppress(
            session,
            address,
            reason=reason[:500],
            now=item.now,
            until=item.now + timedelta(days=self.suppression_days),
            extend=True,
        )
        for held in outbox_store.hold_pending(session, address, reason=f"not sent: {reason}"):
            if held.submission_id is None and held.claim_id is None:
                continue
            submission_store.add_event(
                session,
                at=item.now,
                actor=SYSTEM_ACTOR,
                action="reply_held",
                submission_id=held.submission_id,
                claim_id=held.claim_id,
                note=f"{held.template} to {held.to_addr} (outbox #{held.id}): held: the "
                f"address bounced permanently (message {item.message_pk}): {diagnostic}",
            )

    def _our_id(self, message_id: str) -> str:
        mid = message_id.strip().strip("<>")
        # Gateways change the case of Message-IDs; ours are lower case, and the HMAC says so.
        if self.reply_secret and render.verify_message_id(self.reply_secret, mid):
            return mid.lower()
        return mid
