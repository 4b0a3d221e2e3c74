"""Our own mail coming back (a copy, a forward, a loop): never process it twice."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import addresses, own
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule
from intake.text.addresses import normalised_or_empty


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    ours = own(ctx)
    if mail.sender is not None and normalised_or_empty(mail.sender.addr) in ours:
        return Hit(f"From is our own address {mail.sender.addr}")
    if mail.header(ctx.loop_header) is not None:
        return Hit(f"carries our loop header {ctx.loop_header}")
    for header in mail.header_all("X-Loop"):
        named = [a for a in addresses(header) if a in ours]
        if named:
            return Hit(f"X-Loop names our address {named[0]}")
    if mail.message_id and ctx.is_own_message_id(mail.message_id):
        return Hit(f"Message-ID {mail.message_id} is one of ours")
    return None


RULE = Rule(
    "own",
    Kind.OWN,
    "From is us, our loop header or an X-Loop naming us, or a Message-ID we signed",
    check,
)
