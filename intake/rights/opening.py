"""What every way of opening a claim shares: the claim row with its scored signals, the link to
the published article it names, and the letters to its claimant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from intake.core.clock import as_utc
from intake.core.config import Settings
from intake.core.mail import Address, ParsedMail
from intake.replies.letters import Letter, recipient
from intake.store import claims as claim_store
from intake.store.models import Claim, Message
from intake.text import claims
from intake.text.addresses import normalised_or_lower
from intake.workflow import cases
from intake.workflow import claim as claimflow
from intake.workflow.claim import ClaimStatus, Outcome

if TYPE_CHECKING:
    from intake.store import Session


def open_claim(
    session: Session,
    settings: Settings,
    message: Message,
    parsed: ParsedMail,
    attachment_texts: Sequence[str],
    *,
    received_at: datetime,
    now: datetime,
    actor: str,
    note: str,
) -> Claim:
    """A new ``received`` claim from ``message``, with its "received" event, linked to the
    published article it names if there is one."""
    site = settings.site
    found = claims.assess(parsed, site.domains, attachment_texts)
    sender = parsed.sender
    claim = claim_store.add_claim(
        session,
        status=ClaimStatus.RECEIVED.value,
        claimant=normalised_or_lower(sender.addr if sender else message.sender)[:320],
        claimant_name=(sender.name if sender else message.sender_name)[:500],
        subject=parsed.subject or message.subject,
        received_at=received_at,
        message_pk=message.id,
        urls=list(found.urls),
        work_title=found.work_title,
        demand=found.demand,
        deadline=claimflow.deadline_for(received_at, site.claim_response_days),
        score=found.score,
        signals=list(found.signals),
        body_text=parsed.text or message.body_text,
        updated_at=now,
    )
    message.claim_id = claim.id
    cases.record(
        session, claim, "received", actor=actor, now=now, note=note, after=ClaimStatus.RECEIVED
    )
    link_article(session, claim, now=now, actor=actor)
    return claim


def link_article(session: Session, claim: Claim, *, now: datetime, actor: str) -> None:
    """Link the published article the claim names, by its address or else by its title."""
    how = "its address"
    found = claim_store.published_by_url(session, claim.urls)
    if found is None and claim.work_title:
        how = f"its title {claim.work_title}"
        found = claim_store.published_by_title(session, claim.work_title)
    if found is None:
        return
    claim.submission_id = found.id
    # One event for both cases: it shows in the claim's history and in the article's.
    cases.record(
        session, claim, "claim_linked", actor=actor, now=now, also=found,
        note=f"copyright claim #{claim.id} from {claim.claimant} names submission "
        f"#{found.id} by {how}",
    )  # fmt: skip


def claim_letter(
    settings: Settings,
    claim: Claim,
    template: str,
    message: str = "",
    *,
    amount: str = "",
    to: Address | None = None,
    in_reply_to_pk: int | None = None,
    automatic: bool = False,
) -> Letter:
    """The letter ``template`` to the claimant (or ``to``), with what claim letters say."""
    replies = settings.replies
    rejected = template == claimflow.OUTCOME_TEMPLATE[Outcome.REJECTED]
    received_at = as_utc(claim.received_at)
    deadline = claim.deadline or claimflow.deadline_for(
        received_at, settings.site.claim_response_days
    )
    context: dict[str, object] = {
        "site_name": replies.site_name or settings.site.name,
        "contact": replies.contact,
        "name": claim.claimant_name,
        "number": claim.id,
        "work_title": claim.work_title,
        "urls": list(claim.urls),
        "received_at": received_at,
        "response_days": settings.site.claim_response_days,
        "respond_by": as_utc(deadline),
        "amount": amount or claim.amount,
        # A rejection's letter states the staff's words as its reason, not again as a note.
        "reason": message.strip(),
        "note": "" if rejected else message.strip(),
    }
    return Letter(
        template,
        to or recipient(claim),
        context,
        in_reply_to_pk=in_reply_to_pk if in_reply_to_pk is not None else claim.message_pk,
        automatic=automatic,
    )
