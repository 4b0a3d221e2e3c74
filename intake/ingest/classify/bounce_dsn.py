"""A delivery-status notification the parser read (RFC 3464, or a known non-DSN bounce)."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    if mail.bounce is None:
        return None
    who = ", ".join(mail.bounce.recipients) or "unknown recipients"
    how = f" ({mail.bounce.detector})" if mail.bounce.detector else ""
    return Hit(f"delivery-status notification{how} for {who}")


RULE = Rule(
    "bounce.dsn",
    Kind.BOUNCE,
    "the bounce parser found failed recipients (DSN or a known MTA's own format)",
    check,
)
