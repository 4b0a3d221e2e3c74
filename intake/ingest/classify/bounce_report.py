"""A delivery report the bounce parser could not read: malformed, nested, or flattened."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import report_type
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule

# MIME types that only delivery reports carry (RFC 3464, RFC 6533, RFC 6522).
_REPORT_PARTS = (
    "message/delivery-status",
    "message/global-delivery-status",
    "text/rfc822-headers",
    "message/global-headers",
)
_DELIVERY_REPORT = re.compile(r"report-type\s*=\s*\"?(?:delivery-status|global-delivery-status)")
# The per-recipient fields of RFC 3464, as they appear when a broken report's parts ended up
# in the body text (no boundary, a wrong one, or a relay that flattened the MIME tree). Two
# different fields at the start of lines are what a report writes; a person never does.
_DSN_FIELD = re.compile(
    r"^\s*(?:Final-Recipient|Original-Recipient|Reporting-MTA|Remote-MTA|Diagnostic-Code"
    r"|Action\s*:\s*(?:failed|delayed)|Status\s*:\s*[45]\.\d{1,3}\.\d{1,3})\b",
    re.IGNORECASE | re.MULTILINE,
)
_TEXT_CHARS = 20_000


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    if report_type(mail) in ("delivery-status", "global-delivery-status"):
        return Hit(f"multipart/report with report-type={report_type(mail)}")
    for part in mail.parts:
        kind = part.partition(";")[0].strip().lower()
        if kind in _REPORT_PARTS:
            return Hit(f"carries a {kind} part")
        if kind.startswith("multipart/report") and _DELIVERY_REPORT.search(part.lower()):
            return Hit("a delivery report inside the message")
    fields = {
        m.group(0).split(":")[0].strip().lower()
        for m in _DSN_FIELD.finditer(mail.text[:_TEXT_CHARS])
    }
    if len(fields) >= 2:
        return Hit(f"delivery-status fields in the text ({', '.join(sorted(fields))})")
    return None


RULE = Rule(
    "bounce.report",
    Kind.BOUNCE,
    "a delivery report the parser could not read: report-type=delivery-status, a"
    " delivery-status or returned-headers part anywhere, or RFC 3464 fields in the text",
    check,
)
