"""Read a contributor's answer to the copyright request: grant, refuse, or unclear (for staff).

Pure. Only the reply's *new* text is read (``quotes.new_text``): a quoted copy of our request
contains both "同意" and "不同意". The reader decides per sentence and never guesses:

1. the text is normalised (full-width, traditional characters, case, invisible characters,
   "同 意" and "同·意" spacing) and cut into sentences at 。！？；, line breaks and ". ";
2. in each sentence, courtesies are blanked ("不客气", "如有问题请联系"), then refusal phrases,
   then grant phrases (so the "同意" of "不同意" is no grant), from the tables in
   :mod:`intake.conversations.phrases` and the configured phrases;
3. what is left is searched for markers: questions, negations and inability, conditions
   (before or after the verb, near or far), reservations and partial grants, payment, word
   that the piece was published or sent elsewhere, hedges, agreement with another matter;
4. a grant needs a grant sentence with no marker at all, no refusal anywhere, and no
   condition, reservation, payment, hedge or negation in any other sentence (a plain
   question such as "什么时候发表？" may stand beside it); a refusal likewise. Anything else is
   ``unclear`` and an editor reads it.

The :class:`Reading` carries the sentence that decided, as the contributor wrote it.
docs/consent.md has the table of what is read how.
"""

from __future__ import annotations

import enum
import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from intake.conversations import phrases
from intake.conversations.phrases import Table


class Decision(enum.StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"
    UNCLEAR = "unclear"


@dataclass(frozen=True, slots=True)
class Reading:
    """What the new text says; the phrase that decided it (normalised: NFKC, simplified, lower
    case); why; and the sentence that decided, as written (the evidence)."""

    decision: Decision
    phrase: str = ""
    reason: str = ""
    clause: str = ""


#: Longer new text is not an answer to read by rule (a letter, a pasted article): staff read it.
MAX_ANSWER_CHARS = 600

_BLANK = "\u2063"  # stands in for a phrase once it has been read
_HAN = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Where a sentence ends: Chinese and English end marks, semicolons, line breaks; an English
# full stop only before a space (not in "3.5" or "nsnews.example").
_SENTENCE_END = re.compile(
    r"[。｡．！!？?；;\n\r\u2028\u2029\u2753\u2754\u2757]+|\.(?=\s|$)|…+|\.{3,}"
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "＇": "'"})
_SPACES = re.compile(r"\s+")
# Punctuation a human reads through when it is put between two characters ("前.提", "稿-费").
_KEEP_BETWEEN = frozenset(",!?;:、。，；：！？“”‘’\"'《》（）()")
_LETTER_SPACED = re.compile(r"(?<![a-z0-9])(?:[a-z][\s.\-_*·]+){2,}[a-z](?![a-z0-9])")
_STANDALONE_THANKS = r"(?:谢谢|谢了|多谢|感谢|抱歉|对不起|不好意思|thanks|thank you|sorry)"


def read(
    text: str, grant_phrases: Sequence[str] = (), refuse_phrases: Sequence[str] = ()
) -> Reading:
    """Decide what ``text`` (the new text of a reply) says about the copyright request.

    ``grant_phrases`` and ``refuse_phrases`` (``[copyright]`` settings) are read besides the
    built-in tables; the rules about negation, conditions and questions apply to them too.
    """
    stripped = text.strip()
    if not stripped:
        return Reading(Decision.UNCLEAR, reason="the reply has no new text")
    if len(stripped) > MAX_ANSWER_CHARS:
        return Reading(
            Decision.UNCLEAR,
            reason=f"the new text is {len(stripped)} characters long, more than an answer "
            f"read by rule ({MAX_ANSWER_CHARS}): an editor reads it",
        )
    rules = _rules(tuple(grant_phrases), tuple(refuse_phrases))
    sentences = [_Sentence.read(s, rules) for s in _sentences(stripped)]
    return _decide([s for s in sentences if s.normal])


# --------------------------------------------------------------------------- the decision


def _decide(sentences: list[_Sentence]) -> Reading:
    for s in sentences:
        if s.odd:
            return Reading(Decision.UNCLEAR, reason=s.odd, clause=s.text)
    for first, second in zip(sentences, sentences[1:], strict=False):
        # "前。提。署。名。": words cut into one character a sentence hide from the tables.
        if _one_character(first) and _one_character(second):
            return Reading(
                Decision.UNCLEAR,
                reason="words cut into single characters",
                clause=f"{first.text} … {second.text}",
            )
    grants = [s for s in sentences if s.grants]
    refusals = [s for s in sentences if s.refusals]
    if grants and refusals:
        grant, refusal = grants[0], refusals[0]
        return Reading(
            Decision.UNCLEAR,
            phrase=f"{grant.grants[0]} / {refusal.refusals[0]}",
            reason=f"both a grant ({grant.grants[0]!r}) and a refusal ({refusal.refusals[0]!r})",
            clause=refusal.text if refusal is grant else f"{grant.text} … {refusal.text}",
        )
    for s in grants:
        why = s.doubt(answer=True)
        if why:
            return Reading(Decision.UNCLEAR, s.grants[0], f"{s.grants[0]!r} {why}", s.text)
    for s in refusals:
        why = s.doubt(answer=True, refusal=True)
        if why:
            return Reading(Decision.UNCLEAR, s.refusals[0], f"{s.refusals[0]!r} {why}", s.text)
    refusing = bool(refusals) and not grants
    terms = next(
        ((s, why) for s in sentences if (why := s.doubt(answer=False, refusal=refusing))), None
    )
    found = grants or refusals
    if found:
        first = found[0]
        phrase = (first.grants or first.refusals)[0]
        if terms is not None:
            other, why = terms
            return Reading(
                Decision.UNCLEAR,
                phrase,
                f"{phrase!r}, but another sentence {why}",
                f"{first.text} … {other.text}",
            )
        decision = Decision.GRANT if grants else Decision.REFUSE
        return Reading(decision, phrase, f"{decision} phrase", first.text)
    if terms is not None:
        other, why = terms
        return Reading(
            Decision.UNCLEAR,
            reason=f"no grant or refusal phrase; a sentence {why}",
            clause=other.text,
        )
    return Reading(Decision.UNCLEAR, reason="no grant or refusal phrase")


# --------------------------------------------------------------------------- one sentence

# The marker classes in the order a doubt is reported, with the words that say why.
_WHY = {
    "question": "is in a question",
    "condition": "is conditional",
    "payment": "comes with payment terms",
    "reservation": "comes with a reservation",
    "elsewhere": "comes with word of publication elsewhere",
    "negation": "is negated",
    "hedge": "is hedged",
    "another matter": "is about another matter",
}
# What makes a sentence with neither grant nor refusal in it hold the answer back; a question
# ("什么时候发表？") only when it asks about terms.
_BARE_QUESTION = re.compile(r"[\W_吗嘛呢么啊呀吧]+")
_TERMS = (
    "negation", "condition", "payment", "reservation", "elsewhere", "hedge", "another matter",
)  # fmt: skip
_QUESTION_TERMS = ("payment", "reservation", "elsewhere", "another matter")


@dataclass(frozen=True, slots=True)
class _Sentence:
    text: str  # as written
    normal: str
    grants: tuple[str, ...]
    refusals: tuple[str, ...]
    markers: dict[str, str]  # marker class -> the first word of it found
    odd: str  # why the sentence cannot be read by rule at all

    @classmethod
    def read(cls, text: str, rules: _Rules) -> _Sentence:
        normal = _normal(text)
        odd = _oddity(normal)
        rest = rules.courtesy.sub(_BLANK, normal)
        rest = rules.question_compound.sub("?", rest)
        refusals: list[str] = []
        standalone = rules.standalone_refusal.fullmatch(rest.strip(f" {_BLANK}"))
        if standalone is not None:
            refusals.append(standalone.group("word"))
            rest = ""
        # "No, I don't agree", "不，我不同意": the leading word refuses too; it is no negation
        # of what follows (that would make a double negative of a plain refusal).
        rest = _take(rules.leading_refusal, rest, refusals)
        rest = _take(rules.refuse, rest, refusals)
        grants: list[str] = []
        rest = _take(rules.grant, rest, grants)
        markers: dict[str, str] = {}
        for name, pattern in rules.markers:
            match = pattern.search(rest)
            if match is not None:
                markers.setdefault(name, match.group(0).strip())
        start = rules.question_start.match(rest.lstrip(f" {_BLANK},，.-—"))
        if start is not None:
            markers.setdefault("question", start.group(0).strip())
        return cls(text.strip(), normal, tuple(grants), tuple(refusals), markers, odd)

    @property
    def question(self) -> bool:
        return "question" in self.markers

    def doubt(self, *, answer: bool, refusal: bool = False) -> str:
        """Why this sentence holds the answer back ("" when it does not). ``answer``: the
        sentence holds the grant or refusal itself, so any marker counts. ``refusal``: the
        answer is a refusal, which word of publication elsewhere does not undo (it is often
        the reason)."""
        if answer:
            names: Iterable[str] = _WHY
        elif self.question and not _BARE_QUESTION.sub("", self.normal):
            # "同意。吗？": a question mark cut off from what it asks about.
            return f"is a question on its own ({self.text!r})"
        else:
            names = _QUESTION_TERMS if self.question else _TERMS
        for name in names:
            if name in self.markers and not (refusal and name == "elsewhere"):
                word = self.markers[name]
                if name == "negation" and self.refusals and not self.grants:
                    return f"is itself negated ({word!r}): a double negative"
                return f"{_WHY[name]} ({word!r})"
        return ""


def _one_character(sentence: _Sentence) -> bool:
    letters = [c for c in sentence.normal if c.isalnum()]
    return len(letters) == 1 and _is_han(letters[0])


def _take(pattern: re.Pattern[str], text: str, found: list[str]) -> str:
    """``text`` with every match of ``pattern`` blanked; the matches appended to ``found``."""

    def blank(match: re.Match[str]) -> str:
        found.append(match.group(0).strip())
        return _BLANK

    return pattern.sub(blank, text)


# --------------------------------------------------------------------------- normalising


def _sentences(text: str) -> list[str]:
    """``text`` cut after each sentence end, the end mark kept with its sentence."""
    out: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        out.append(text[start : match.end()])
        start = match.end()
    out.append(text[start:])
    return [s for s in out if s.strip()]


def _normal(sentence: str) -> str:
    """One sentence as the tables read it (see intake.conversations.phrases)."""
    text = unicodedata.normalize("NFKC", sentence).translate(_TRADITIONAL)
    text = text.casefold().translate(_APOSTROPHES)
    # Invisible characters (zero-width spaces, joiners, bidi marks) and combining marks that a
    # sender could put inside a word to split it ("i\u200bf"); Chinese has no combining marks.
    text = "".join(c for c in text if unicodedata.category(c) not in _DROPPED)
    text = _SPACES.sub(" ", text).strip()
    return _join_han(text)


_DROPPED = frozenset({"Cf", "Mn", "Me", "Cc", "Co", "Cs"})
_TRADITIONAL = str.maketrans(phrases.TRADITIONAL)


def _join_han(text: str) -> str:
    """Drop spaces and stray punctuation between two Chinese characters: "同 意" is "同意",
    "稿-费" is "稿费"."""
    if not any("\u3400" <= c <= "\ufaff" for c in text):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        out.append(c)
        i += 1
        if not _is_han(c):
            continue
        j = i
        while j < len(text) and j - i < 5 and _joiner(text[j]):
            j += 1
        if j > i and j < len(text) and _is_han(text[j]):
            i = j  # the run between two characters is dropped
    return "".join(out)


def _is_han(c: str) -> bool:
    return "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff"


def _joiner(c: str) -> bool:
    if c in _KEEP_BETWEEN:
        return False
    return c == " " or unicodedata.category(c) in ("Pd", "Pc", "Po", "Sm", "Sk", "Zs")


def _oddity(normal: str) -> str:
    """Why a sentence cannot be read by rule: letters of a script the tables do not cover
    (Cyrillic "а" looks like Latin "a" and hides "pаy"), or letter-spaced words ("p a y")."""
    for c in normal:
        if c.isalpha() and not (
            c.isascii()
            or "\u00c0" <= c <= "\u024f"
            or "\u1e00" <= c <= "\u1eff"
            or _is_han(c)
            or "\U00020000" <= c <= "\U0003134f"
            or c in "々〇"
        ):
            return f"letters the reader does not know ({c!r}, {unicodedata.name(c, '?')})"
    spaced = _LETTER_SPACED.search(normal)
    if spaced is not None:
        return f"letter-spaced words ({spaced.group(0)!r})"
    return ""


# --------------------------------------------------------------------------- the tables


@dataclass(frozen=True, slots=True)
class _Rules:
    courtesy: re.Pattern[str]
    question_compound: re.Pattern[str]
    standalone_refusal: re.Pattern[str]
    leading_refusal: re.Pattern[str]
    refuse: re.Pattern[str]
    grant: re.Pattern[str]
    markers: tuple[tuple[str, re.Pattern[str]], ...]
    question_start: re.Pattern[str]


_LATIN_LEFT = r"(?<![a-z0-9])"
_LATIN_RIGHT = r"(?![a-z0-9])"


def _alternatives(table: Table, extra: Iterable[str] = ()) -> list[str]:
    en = [f"{_LATIN_LEFT}(?:{p}){_LATIN_RIGHT}" for p in table.en]
    # Longest first: "do not agree" is tried before "agree", "不同意" before "同意".
    return sorted([*table.zh, *en, *extra], key=len, reverse=True)


def _compile(table: Table, extra: Iterable[str] = ()) -> re.Pattern[str]:
    return re.compile("|".join(_alternatives(table, extra)))


def _configured(phrases_: Sequence[str], builtin: re.Pattern[str]) -> list[str]:
    """Configured phrases as patterns, unless the built-in table already reads them (its
    pattern for "同意" knows that "同意书" is no grant)."""
    out: list[str] = []
    for phrase in phrases_:
        normal = _normal(phrase)
        if not normal or builtin.fullmatch(normal):
            continue
        body = r"\s*".join(re.escape(part) for part in normal.split())
        left = _LATIN_LEFT if normal[0].isascii() and normal[0].isalnum() else ""
        right = _LATIN_RIGHT if normal[-1].isascii() and normal[-1].isalnum() else ""
        out.append(left + body + right)
    return out


@functools.lru_cache(maxsize=8)
def _rules(grant_phrases: tuple[str, ...], refuse_phrases: tuple[str, ...]) -> _Rules:
    grant = _compile(phrases.GRANTS)
    refuse = _compile(phrases.REFUSALS)
    standalone = "|".join(_alternatives(phrases.STANDALONE_REFUSALS))
    return _Rules(
        courtesy=_compile(phrases.COURTESIES),
        question_compound=_compile(phrases.QUESTION_COMPOUNDS),
        standalone_refusal=re.compile(
            rf"(?:{_STANDALONE_THANKS}[\W_]*)*(?P<word>{standalone})[\W_]*"
            rf"(?:{_STANDALONE_THANKS}[\W_]*)*"
        ),
        leading_refusal=re.compile(rf"^\s*(?:{standalone})(?=\s*[,，])"),
        refuse=_compile(phrases.REFUSALS, _configured(refuse_phrases, refuse)),
        grant=_compile(phrases.GRANTS, _configured(grant_phrases, grant)),
        markers=tuple(
            (table.name, _compile(table))
            for table in (
                phrases.QUESTIONS,
                phrases.NEGATIONS,
                phrases.CONDITIONS,
                phrases.PAYMENT,
                phrases.RESERVATIONS,
                phrases.ELSEWHERE,
                phrases.HEDGES,
                phrases.OTHER_OBJECTS,
            )
        ),
        question_start=re.compile(
            "|".join(f"(?:{p}){_LATIN_RIGHT}" for p in phrases.QUESTION_STARTS)
        ),
    )
