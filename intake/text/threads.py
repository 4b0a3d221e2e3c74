"""Which conversation a message continues, by its subject: the last-resort threading rule.

Pure. Headers (In-Reply-To, References) and the subject token ``[投稿 #123]`` are tried first
(``intake.ingest.record``); when a client dropped both, a message whose subject says it is a reply
("Re:", "回复:", "答复:", "转发:", "Fwd:", "FW:", full-width colons too) and whose subject,
without those prefixes, equals a recent submission's from the same sender continues it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import timedelta

#: How far back the last-resort rule looks for the submission a reply belongs to.
SUBJECT_WINDOW = timedelta(days=30)

# Reply and forward prefixes, also stacked and numbered ("Re[2]:", "RE: 回复：").
_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|sv|vs|回复|回覆|答复|答覆|转发|轉寄|转寄)\s*(?:\[\d+\]|\(\d+\))?\s*[:：]\s*)+",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


def strip_prefixes(subject: str) -> tuple[str, bool]:
    """``subject`` without leading reply/forward prefixes, and whether it had any."""
    text = unicodedata.normalize("NFKC", subject)
    found = _PREFIX.match(text)
    return (text[found.end() :] if found else text), found is not None


def normalise_subject(subject: str) -> str:
    """A subject as the last-resort rule compares it: prefixes gone, spaces and case folded."""
    rest, _ = strip_prefixes(subject)
    return _SPACE.sub(" ", rest).strip().casefold()


def looks_like_reply(subject: str, has_thread_headers: bool) -> bool:
    """Whether a message may continue an earlier one by subject alone.

    A second mail titled just like the first but without "Re:" and without threading headers
    is a new submission (a resend, which duplicate detection then links), not a reply: a
    contributor who sends two pieces both titled "投稿" must not have the second one filed
    under the first.
    """
    _, prefixed = strip_prefixes(subject)
    return prefixed or has_thread_headers


def canonical_ids(message_ids: Sequence[str], is_ours: Callable[[str], bool]) -> tuple[str, ...]:
    """``message_ids`` with ours (their HMAC verifies) in the lower case we wrote them in:
    some gateways change the case of Message-IDs."""
    return tuple(mid.lower() if is_ours(mid) else mid for mid in message_ids)
