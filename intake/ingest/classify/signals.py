"""Whether a message looks machine-generated at all: the auto-reply rules asked together."""

from __future__ import annotations

from intake.core.mail import ParsedMail
from intake.ingest.classify import (
    autoreply_body,
    autoreply_exchange,
    autoreply_headers,
    autoreply_report,
    autoreply_subject,
)
from intake.ingest.classify.rule import ClassifyContext, Rule

#: The automatic-reply rules, in the order the chain tries them.
AUTO_REPLY_RULES: tuple[Rule, ...] = (
    autoreply_headers.RULE,
    autoreply_subject.RULE,
    autoreply_body.RULE,
    autoreply_report.RULE,
    autoreply_exchange.RULE,
)

_NOBODY = ClassifyContext(own_addresses=frozenset())


def auto_reply_signal(mail: ParsedMail) -> str | None:
    """Why the message looks like an automatic reply, or None."""
    for rule in AUTO_REPLY_RULES:
        hit = rule.check(mail, _NOBODY)
        if hit is not None:
            return hit.reason
    return None
