"""The claims hook: a claim that arrives is opened and acknowledged; a claimant's reply is filed on
its claim (new links, and evidence we asked for reopens the investigation)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.core.config import Settings
from intake.core.events import Ingested
from intake.core.mail import Kind
from intake.replies.letters import Letters
from intake.replies.queue import reply_target
from intake.rights.opening import claim_letter, link_article, open_claim
from intake.store import claims as claim_store
from intake.text import claims
from intake.workflow import cases
from intake.workflow import claim as claimflow
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.claim import ClaimStatus, Role

if TYPE_CHECKING:
    from intake.store import Session


class ClaimArrivals:
    """The ingest hook for claims and claimants' replies."""

    def __init__(self, settings: Settings, letters: Letters) -> None:
        self.settings = settings
        self.letters = letters

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """Open a claim for a claim; follow up a claimant's reply."""
        if item.verdict.kind is Kind.CLAIM:
            self._claim_arrived(session, item)
        elif item.verdict.kind is Kind.REPLY and item.claim_id is not None:
            self._claimant_replied(session, item, item.claim_id)

    def _claim_arrived(self, session: Session, item: Ingested) -> None:
        message = claim_store.message(session, item.message_pk)
        texts = tuple(a.text for a in item.attachments if a.text.strip())
        claim = open_claim(
            session,
            self.settings,
            message,
            item.parsed,
            texts,
            received_at=item.received_at,
            now=item.now,
            actor=SYSTEM_ACTOR,
            note=f"message {message.id}: {item.verdict.reason}",
        )
        if not item.auto_reply_allowed:
            note = f"no {claimflow.ACK_TEMPLATE}: {item.auto_reply_reason}"
            cases.record(session, claim, "reply", actor=SYSTEM_ACTOR, now=item.now, note=note)
            return
        letter = claim_letter(
            self.settings, claim, claimflow.ACK_TEMPLATE, to=reply_target(item.parsed),
            in_reply_to_pk=message.id, automatic=True,
        )  # fmt: skip
        self.letters.send(session, claim, letter, actor=SYSTEM_ACTOR, now=item.now)

    def _claimant_replied(self, session: Session, item: Ingested, claim_id: int) -> None:
        claim = claim_store.get_claim(session, claim_id, for_update=True)
        parsed = item.parsed
        sender = parsed.sender.addr if parsed.sender else "?"
        files = len([a for a in item.attachments if a.size])
        note = f"message {item.message_pk} from {sender}: {parsed.subject}".strip()
        if files:
            note += f" ({files} attachment{'s' if files > 1 else ''})"
        texts = tuple(a.text for a in item.attachments if a.text.strip())
        found = claims.assess(parsed, self.settings.site.domains, texts)
        new_urls = [u for u in found.urls if u not in claim.urls]
        if new_urls:
            claim.urls = [*claim.urls, *new_urls]
            note += "; new links: " + " ".join(new_urls)
        # Evidence we asked for, or new evidence after a rejection (its letter invites it):
        # the claim is ours to answer again, with a fresh response period.
        if claimflow.can_move(claim.status, ClaimStatus.INVESTIGATING, Role.CLAIMANT):
            claim.deadline = claimflow.deadline_after_answer(
                claim.deadline, item.now, self.settings.site.claim_response_days
            )
            cases.move(
                session, claim, ClaimStatus.INVESTIGATING, actor=SYSTEM_ACTOR,
                role=Role.CLAIMANT, action="reply_received", now=item.now, note=note,
            )  # fmt: skip
        else:
            claim.updated_at = item.now
            cases.record(
                session, claim, "reply_received", actor=SYSTEM_ACTOR, now=item.now, note=note
            )
        if claim.submission_id is None and new_urls:
            link_article(session, claim, now=item.now, actor=SYSTEM_ACTOR)
