"""Exchange's rule-generated replies: suppression and inbox-rule loop headers together."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import value
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    # Exchange writes X-Auto-Response-Suppress on much ordinary mail (distribution lists) and
    # X-MS-Exchange-Inbox-Rules-Loop on rule forwards, so each alone would drop real
    # submissions; the two together are what its rule-generated replies carry (Zammad's
    # out-of-office check reads them the same way).
    suppress = value(mail, "X-Auto-Response-Suppress")
    rules_loop = value(mail, "X-MS-Exchange-Inbox-Rules-Loop")
    if suppress and rules_loop:
        return Hit(f"X-Auto-Response-Suppress: {suppress} with X-MS-Exchange-Inbox-Rules-Loop")
    return None


RULE = Rule(
    "autoreply.exchange",
    Kind.AUTOREPLY,
    "X-Auto-Response-Suppress together with X-MS-Exchange-Inbox-Rules-Loop",
    check,
)
