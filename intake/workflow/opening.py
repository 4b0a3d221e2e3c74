"""What a new submission's row looks like: the article chosen from the body and the documents,
its counts, hashes, working title and decision deadline.

Ingest opens a submission from new mail, and rights opens one from a message reclassified
from claim to submission; both build the row here, so the two never differ.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from intake.documents import articles, extract
from intake.text.addresses import normalised_or_lower

_PREFIX = re.compile(r"^\s*((re|fw|fwd|回复|答复|转发|投稿|来稿|稿件)\s*[:：]\s*)+", re.IGNORECASE)
_BOOK_TITLE = re.compile(r"《([^》\n]{1,100})》")


def submission_row(
    *,
    sender: str,
    sender_name: str,
    subject: str,
    body_text: str,
    documents: Sequence[tuple[str, str]],
    attachment_hashes: Iterable[str],
    received_at: datetime,
    decision_days: int,
    message_pk: int,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new ``received`` submission: the article chosen from the body and the
    documents' texts (``(filename, text)``), its counts and hashes, and its decision deadline."""
    read = articles.read(body_text, documents)
    article, source = read.chosen.text, read.chosen.source
    chars, words = extract.count_words(article)
    hashes = sorted(attachment_hashes)
    return {
        "status": "received",
        "copyright_status": "not_requested",
        "sender": normalised_or_lower(sender)[:320],  # one spelling per mailbox
        "sender_name": sender_name[:500],
        "subject": subject,
        "title": title_from(subject, article),
        "received_at": received_at,
        "decision_due": received_at + timedelta(days=decision_days),
        "message_pk": message_pk,
        "body_text": body_text,
        "article_text": article,
        "article_source": source[:500],
        "author": read.author.as_json(),
        "char_count": chars,
        "word_count": words,
        "content_hash": content_hash(article),
        "attachments_hash": (
            hashlib.sha256(" ".join(hashes).encode()).hexdigest() if hashes else ""
        ),
        "updated_at": now,
    }


def title_from(subject: str, article: str) -> str:
    """A working title: 《…》 in the subject, else the subject without prefixes, else line one."""
    found = _BOOK_TITLE.search(subject)
    if found:
        return found.group(1).strip()
    cleaned = _PREFIX.sub("", subject).strip()
    if cleaned:
        return cleaned[:200]
    for line in article.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def content_hash(text: str) -> str:
    """Hash of the article text with whitespace and punctuation differences removed."""
    normal = re.sub(r"[\W_]+", "", text.casefold())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest() if normal else ""


__all__ = ["content_hash", "submission_row", "title_from"]
