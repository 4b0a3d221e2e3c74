"""A rights holder's copyright claim against a work the site published."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule
from intake.text.claims import assess


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    found = assess(mail, ctx.site_domains, ctx.claim_attachment_texts)
    if found.score < ctx.claim_threshold:
        return None
    reason = f"claim score {found.score:g} >= {ctx.claim_threshold:g}: {', '.join(found.signals)}"
    return Hit(reason, score=found.score)


RULE = Rule(
    "claim",
    Kind.CLAIM,
    "the claim score of the letter (body and short letter-like attachments) reaches the threshold",
    check,
)
