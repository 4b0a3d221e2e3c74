"""Read a contributor's answer to the copyright request: grant, refuse, or unclear (for staff).

Pure. Only the reply's *new* text is read (``quotes.new_text``): a quoted copy of our request
contains both "同意" and "不同意". The rule never guesses:

1. refusal phrases are found first and blanked out, so the "同意" inside "不同意" is not a grant;
2. a grant phrase that is negated ("不能同意", "not agreed"), conditional ("如同意") or asked
   about ("同意吗?", "是否同意") decides nothing;
3. a grant alone grants, a refusal alone refuses; both, or neither, is unclear.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


class Decision(enum.StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Reading:
    """What the new text says, the phrase that decided it (normalised: NFKC, lower case), and
    why."""

    decision: Decision
    phrase: str = ""
    reason: str = ""


# A clause ends at sentence punctuation or a line break; a question is judged per clause.
_TERMINATORS = "。！!？?；;\n"
_QUESTION = re.compile(
    r"[?？]|(?:吗|么|嘛|呢)\W*$|是否|能否|可否|要不要|是不是|可不可以|行不行|需不需要|\bwhether\b"
)
# Words just before a phrase that undo it ("不太同意", "并非不同意", "don't really agree").
_NEGATION = re.compile(
    r"(?:不|没|未|无法|不能|不会|不太|并不|并非|别|勿|难以|暂不|尚未|拒绝)\S{0,2}$"
    r"|(?:\b(?:not|never|cannot)|n't)\W+(?:\w+\W+)?$|\bno\W+$"
)
_CONDITION = re.compile(r"(?:如果|如|若|假如|要是|倘若|一旦)\S{0,3}$|\bif\W+(?:\w+\W+){0,3}$")
# A grant with strings attached ("同意，但请保留笔名") is for an editor to read.
_RESERVATION = re.compile(
    r"但是|但|不过|可是|除非|前提是|条件是|\bbut\b|\bunless\b|\bprovided\b|\bexcept\b"
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'"})
_BLANK = "\u2063"  # stands in for a phrase once it has been counted


def read(text: str, grant_phrases: Sequence[str], refuse_phrases: Sequence[str]) -> Reading:
    """Decide what ``text`` (the new text of a reply) says about the copyright request."""
    if not text.strip():
        return Reading(Decision.UNCLEAR, reason="the reply has no new text")
    normal = _normal(text)
    refusals, refusal_doubts, normal = _find(normal, refuse_phrases, reservations=False)
    grants, grant_doubts, normal = _find(normal, grant_phrases, reservations=True)
    doubts = refusal_doubts + grant_doubts
    if refusals and (grants or grant_doubts):
        grant = grants[0] if grants else grant_doubts[0]
        return Reading(
            Decision.UNCLEAR,
            phrase=" / ".join([*grants[:1], refusals[0]]),
            reason=f"both a grant ({grant}) and a refusal ({refusals[0]!r})",
        )
    found = grants or refusals
    if found and doubts:
        return Reading(Decision.UNCLEAR, found[0], f"{found[0]!r} but also {doubts[0]}")
    if grants:
        return Reading(Decision.GRANT, grants[0], "grant phrase")
    if refusals:
        return Reading(Decision.REFUSE, refusals[0], "refusal phrase")
    if doubts:
        return Reading(Decision.UNCLEAR, "", doubts[0])
    return Reading(Decision.UNCLEAR, reason="no grant or refusal phrase")


def _find(
    text: str, phrases: Sequence[str], *, reservations: bool
) -> tuple[list[str], list[str], str]:
    """The phrases that stand, why others do not, and ``text`` with all of them blanked."""
    found: list[str] = []
    doubts: list[str] = []
    for phrase in _longest_first(phrases):
        pattern = _pattern(phrase)
        for match in pattern.finditer(text):
            why = _doubt(text, match.start(), match.end(), reservations=reservations)
            if why:
                doubts.append(f"{match.group(0)!r} {why}")
            else:
                found.append(match.group(0))
        # Blank what was counted: "同意" must not be found again inside "不同意".
        text = pattern.sub(lambda m: _BLANK * len(m.group(0)), text)
    return found, doubts, text


def _normal(text: str) -> str:
    # NFKC folds full-width letters and punctuation (Ｉ ａｇｒｅｅ！) into what the phrases use.
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    return re.sub(r"[ \t\u3000]+", " ", text).casefold()


def _longest_first(phrases: Sequence[str]) -> list[str]:
    cleaned = {_normal(p).strip() for p in phrases if p.strip()}
    return sorted(cleaned, key=len, reverse=True)


def _pattern(phrase: str) -> re.Pattern[str]:
    body = r"\s*".join(re.escape(part) for part in phrase.split())
    # Latin phrases are words ("agree" is not in "agreement"); Chinese ones are substrings.
    left = r"(?<![a-z0-9'])" if phrase[:1].isascii() and phrase[:1].isalnum() else ""
    right = r"(?![a-z0-9])" if phrase[-1:].isascii() and phrase[-1:].isalnum() else ""
    return re.compile(left + body + right)


def _clause(text: str, start: int, end: int) -> tuple[str, str, str]:
    """The clause around ``text[start:end]``: what comes before, the clause, what follows."""
    begin = max(text.rfind(t, 0, start) for t in _TERMINATORS) + 1
    ends = [i for i in (text.find(t, end) for t in _TERMINATORS) if i >= 0]
    stop = min(ends) + 1 if ends else len(text)
    return text[begin:start], text[begin:stop], text[end:]


def _doubt(text: str, start: int, end: int, *, reservations: bool) -> str:
    """Why the phrase at ``text[start:end]`` decides nothing ("" when it stands)."""
    before, clause, after = _clause(text, start, end)
    if _NEGATION.search(before):
        return "is negated"
    if _CONDITION.search(before):
        return "is conditional"
    if _QUESTION.search(clause):
        return "is in a question"
    if reservations:
        found = _RESERVATION.search(after)
        if found:
            return f"comes with a reservation ({found.group(0)!r})"
    return ""
