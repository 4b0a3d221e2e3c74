"""A verdict an upstream filter wrote into the headers (SpamAssassin, Rspamd, EOP)."""

from __future__ import annotations

import re

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    for found in mail.header_all("X-Spam-Flag"):
        if found.strip().lower() == "yes":
            return Hit("X-Spam-Flag: YES")
    for found in mail.header_all("X-Spam-Status"):
        if found.strip().lower().startswith("yes"):
            return Hit(f"X-Spam-Status: {' '.join(found.split())[:60]}")
    for found in mail.header_all("X-Spam"):
        if found.strip().lower() in ("yes", "true"):
            return Hit(f"X-Spam: {found.strip()}")
    for found in mail.header_all("X-Forefront-Antispam-Report"):
        if re.search(r"(?:^|;)\s*SFV:SPM\s*(?:;|$)", found, re.IGNORECASE):
            return Hit("X-Forefront-Antispam-Report: SFV:SPM")
    return None


RULE = Rule(
    "spam",
    Kind.SPAM,
    "X-Spam-Flag/X-Spam-Status/X-Spam yes, or Exchange Online's SFV:SPM",
    check,
)
