"""Machine reports other than delivery reports: read receipts (MDN), feedback reports."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import report_type
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    report = report_type(mail)
    if report and report not in ("delivery-status", "global-delivery-status"):
        return Hit(f"automatic report ({report})")
    return None


RULE = Rule(
    "autoreply.report",
    Kind.AUTOREPLY,
    "a multipart/report that is not a delivery report (read receipt, feedback report)",
    check,
)
