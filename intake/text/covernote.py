"""The cover note: the body of a mail whose article came as a document, and a body's own words.

Kept apart from :mod:`intake.documents.articles` (which reads documents' word counts) so
that ``intake show`` can print a cover note without loading the document readers.
"""

from __future__ import annotations

import re

# Where a reply's quoted original starts: Outlook, QQ Mail/Foxmail, NetEase (163), Gmail.
_QUOTE_START = re.compile(
    r"^(?:-{2,}\s*(?:Original Message|原始邮件|原始郵件|Forwarded message|转发邮件)\s*-{2,}"
    r"|On .{4,200} wrote:|在 .{4,200} 写道[:：]|发件人[:：]|From: .+@.+)\s*$",
    re.M | re.I,
)
_SIGNATURE = re.compile(r"^-- ?$", re.M)


def cover_note(body_text: str, article_source: str) -> str:
    """The body, signature included but without a quoted earlier message, when the article
    came from a document ("" when the article is the body)."""
    if article_source in ("", "body"):
        return ""
    return without_quote(body_text).strip()


def without_quote(body: str) -> str:
    """``body`` up to the quoted message it replies to or forwards."""
    body = body.replace("\r\n", "\n")
    quote = _QUOTE_START.search(body)
    return body[: quote.start()] if quote else body


def own_words(body: str) -> str:
    """The body without the quoted message it replies to and without the signature."""
    body = without_quote(body)
    signature = _SIGNATURE.search(body)
    if signature:
        body = body[: signature.start()]
    lines = [line for line in body.split("\n") if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()
