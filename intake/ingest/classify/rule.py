"""What every classification rule is made of: the context it reads, its hit, and the rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from intake.core.mail import Kind, ParsedMail


def _never(message_id: str) -> bool:
    """The default Message-ID check: without the reply secret nothing is provably ours."""
    return False


@dataclass(frozen=True, slots=True)
class ClassifyContext:
    """What the rules need to know beyond the message itself."""

    own_addresses: frozenset[str]
    loop_header: str = "X-Intake-Loop"
    is_own_message_id: Callable[[str], bool] = _never  # verifies the HMAC in our Message-IDs
    thread_match: str = ""  # the stored Message-ID or subject token this message refers to
    site_domains: tuple[str, ...] = ()
    claim_threshold: float = 3.0
    #: Text of the attachments a claim may be read from: short, letter-like documents only
    #: (:func:`intake.text.claims.letter_like`); a book's licence page is no complaint.
    claim_attachment_texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """A rule matched: why, and what it found for the verdict."""

    reason: str
    refers_to: str = ""
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Rule:
    """One named rule: the kind it assigns, what it looks for, and the check that returns a
    hit or None. ``name`` is "family.detail" ("bounce.subject"); the family is the kind."""

    name: str
    kind: Kind
    description: str
    check: Callable[[ParsedMail, ClassifyContext], Hit | None]

    @property
    def family(self) -> str:
        return self.name.partition(".")[0]
