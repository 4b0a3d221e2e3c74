"""Small readers of header values that several rules share."""

from __future__ import annotations

import re
import unicodedata
from email.utils import getaddresses

from intake.core.mail import ParsedMail
from intake.ingest.classify.rule import ClassifyContext
from intake.text.addresses import local_part as local_part
from intake.text.addresses import normalised_or_empty

#: Local parts of the mail system's own senders (RFC 5321 postmaster, sendmail's daemon).
DAEMONS = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mailer_daemon",
        "mailer.daemon",
        "postmaster",
        "post-master",
        "post_master",
    }  # fmt: skip
)


def value(mail: ParsedMail, name: str) -> str:
    """The first value of header ``name``, whitespace collapsed ("" when absent)."""
    return " ".join((mail.header(name) or "").split())


def present(mail: ParsedMail, *names: str) -> str:
    """The first of ``names`` that the message carries, as "Name: value" ("" when none)."""
    for name in names:
        found = mail.header(name)
        if found is not None:
            found = " ".join(found.split())
            return f"{name}: {found}" if found else name
    return ""


def own(ctx: ClassifyContext) -> frozenset[str]:
    """Our own addresses, normalised (``intake.text.addresses``)."""
    return frozenset(normalised_or_empty(a) for a in ctx.own_addresses) - {""}


def addresses(text: str) -> list[str]:
    """The addresses in a header value, normalised; a full-width "＠" makes an address too."""
    text = unicodedata.normalize("NFKC", text)
    found = (normalised_or_empty(addr) for _, addr in getaddresses([text]) if "@" in addr)
    return [addr for addr in found if addr]


def subject_match(patterns: re.Pattern[str], subject: str) -> str:
    found = patterns.search(" ".join(subject.split()))
    return found.group(0).strip() if found else ""


def report_type(mail: ParsedMail) -> str:
    """The report-type of a multipart/report ("" for any other message; "unknown" when the
    report does not say)."""
    content_type = value(mail, "Content-Type")
    if not (
        mail.content_type.lower().startswith("multipart/report")
        or content_type.lower().startswith("multipart/report")
    ):
        return ""
    found = re.search(r'report-type\s*=\s*"?([\w.-]+)', content_type, re.IGNORECASE)
    return found.group(1).lower() if found else "unknown"


def list_header(mail: ParsedMail) -> str:
    found = present(
        mail, "List-Id", "List-Post", "List-Unsubscribe", "X-Mailing-List", "Mailing-List"
    )
    if found:
        return found
    return "Precedence: list" if value(mail, "Precedence").lower() == "list" else ""


def phrases(*openings: str) -> str:
    """A regex alternation of literal ``openings``, longest first, whitespace-tolerant."""
    ordered = sorted(dict.fromkeys(openings), key=len, reverse=True)
    return "|".join(r"\s+".join(re.escape(word) for word in o.split()) for o in ordered)
