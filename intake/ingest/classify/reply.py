"""A message in a thread we know (the caller matched In-Reply-To/References or a token)."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    if ctx.thread_match:
        return Hit(f"refers to {ctx.thread_match}", refers_to=ctx.thread_match)
    return None


RULE = Rule(
    "reply",
    Kind.REPLY,
    "refers to one of our messages or carries one of our subject tokens",
    check,
)
