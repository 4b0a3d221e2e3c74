"""Vendors' fixed auto-reply texts at the very start of the body."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule

# Only the start of the body is looked at: a person quoting one further down is not a robot.
# QQ Mail (two variants), NetEase's default text, and the openings responders write when the
# owner set none (Exchange, Zimbra, cPanel, Sieve vacation).
_BODY = re.compile(
    r"\A\s*(?:这是来自QQ邮箱的?(?:假期)?自动回复邮件|这是一封自动回复邮件|此(?:邮件|信)为自动回复"
    r"|本邮件为(?:系统)?自动回复|這是一封自動回覆郵件)"
    r"|This is an automatic reply, confirming that your e-?mail was received"
    r"|\A\s*(?:This is an? (?:automatic|automated|auto-generated) (?:reply|response)"
    r"|(?:I am|I'm) (?:currently )?(?:out of (?:the )?office|away from (?:the|my) office"
    r"|on (?:annual )?leave|on vacation|on holiday) (?:until|from|and|with)\b)",
    re.IGNORECASE,
)
BODY_CHARS = 300


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    found = _BODY.search(mail.text[:BODY_CHARS])
    return Hit(f"auto-reply body {found.group(0).strip()!r}") if found else None


RULE = Rule(
    "autoreply.body",
    Kind.AUTOREPLY,
    "a responder's fixed opening at the start of the body (这是来自QQ邮箱的自动回复邮件, …)",
    check,
)
