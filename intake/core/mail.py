"""Frozen values that cross stage boundaries: raw mail with its IMAP identity, parsed mail,
attachments, classification verdicts and outgoing mail."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime


class Kind(enum.StrEnum):
    """What an incoming message is (the ``kind`` of ``intake messages``)."""

    SUBMISSION = "submission"
    REPLY = "reply"
    CLAIM = "claim"
    BOUNCE = "bounce"
    AUTOREPLY = "autoreply"
    LIST = "list"
    SPAM = "spam"
    OVERSIZE = "oversize"
    OWN = "own"
    QUARANTINED = "quarantined"


#: The rule of a quarantined oversize message: only its header is stored, so, like any
#: oversize message, it stays on the server.
OVERSIZE_RULE = "oversize"


@dataclass(frozen=True, slots=True)
class KindTraits:
    """What intake may do with a message of one kind."""

    #: a person wrote it to us: its body and attachments are kept and read, it counts as new
    genuine: bool
    #: an automatic reply may ever be sent to it (RFC 3834 and our loop rules say no for robots)
    auto_reply: bool
    #: its raw mail is deleted after ``daemon.retain_ignored_days`` (the row stays)
    purgeable: bool
    #: staff may turn it into a rights holder's claim (``intake reclassify --to claim``): a
    #: would-be submission, or mail a filter put aside (a lawyer's letter flagged as spam is
    #: still a legal risk)
    may_become_claim: bool


_T = KindTraits
#: THE table of message kinds: every property of a kind lives here and nowhere else. A new
#: kind gets its row here, and the type checker and tests/core/test_mail.py see that it has one.
KINDS: Mapping[Kind, KindTraits] = {
    Kind.SUBMISSION: _T(genuine=True, auto_reply=True, purgeable=False, may_become_claim=True),
    Kind.REPLY: _T(genuine=True, auto_reply=True, purgeable=False, may_become_claim=False),
    Kind.CLAIM: _T(genuine=True, auto_reply=True, purgeable=False, may_become_claim=False),
    Kind.BOUNCE: _T(genuine=False, auto_reply=False, purgeable=True, may_become_claim=False),
    Kind.AUTOREPLY: _T(genuine=False, auto_reply=False, purgeable=True, may_become_claim=True),
    Kind.LIST: _T(genuine=False, auto_reply=False, purgeable=True, may_become_claim=True),
    Kind.SPAM: _T(genuine=False, auto_reply=False, purgeable=True, may_become_claim=True),
    # Oversize mail is left on the server; its sender may be told so (the oversize letter).
    Kind.OVERSIZE: _T(genuine=False, auto_reply=True, purgeable=False, may_become_claim=False),
    Kind.OWN: _T(genuine=False, auto_reply=False, purgeable=True, may_become_claim=False),
    # Kept whole until staff reprocess it: it may be anything.
    Kind.QUARANTINED: _T(genuine=False, auto_reply=False, purgeable=False, may_become_claim=False),
}


def kinds_where(trait: str) -> frozenset[Kind]:
    """The kinds whose ``trait`` (a :class:`KindTraits` field) is true, from :data:`KINDS`."""
    return frozenset(kind for kind, traits in KINDS.items() if getattr(traits, trait))


#: Derived from :data:`KINDS`, for membership tests and SQL ``IN`` lists.
GENUINE_KINDS = kinds_where("genuine")
NO_AUTOREPLY_KINDS = frozenset(Kind) - kinds_where("auto_reply")
PURGEABLE_KINDS = kinds_where("purgeable")
TO_CLAIM_KINDS = kinds_where("may_become_claim")


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a message lives on the server: getmail6-style identity."""

    mailbox: str  # the configured mailbox name, not the host
    folder: str
    uidvalidity: int
    uid: int

    def __str__(self) -> str:
        return f"{self.mailbox}/{self.folder}/{self.uidvalidity}/{self.uid}"


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """What SELECT told us about a folder."""

    name: str
    uidvalidity: int
    exists: int


@dataclass(frozen=True, slots=True)
class MessageSize:
    """RFC822.SIZE and INTERNALDATE of one message, fetched before its body."""

    uid: int
    size: int
    internaldate: datetime | None


@dataclass(frozen=True, slots=True)
class RawMail:
    """The exact bytes of one message as fetched, with where they came from."""

    ref: MessageRef
    raw: bytes
    internaldate: datetime | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OversizeMail:
    """A message over ``max_message_bytes``: only its header block was fetched."""

    ref: MessageRef
    size: int
    header: bytes
    internaldate: datetime | None = None


@dataclass(frozen=True, slots=True)
class Address:
    """A display name and an address; either may be empty."""

    name: str
    addr: str

    def __str__(self) -> str:
        return f"{self.name} <{self.addr}>" if self.name else self.addr

    @property
    def domain(self) -> str:
        return self.addr.rpartition("@")[2].lower()


@dataclass(frozen=True, slots=True)
class ParsedAttachment:
    """One attachment (or inline image) with its decoded bytes."""

    filename: str  # as the sender named it, decoded (may be hostile)
    safe_name: str  # derived, safe to use as a file name
    content_type: str
    payload: bytes
    content_id: str = ""
    inline: bool = False
    charset: str = ""

    @property
    def size(self) -> int:
        return len(self.payload)


@dataclass(frozen=True, slots=True)
class BounceInfo:
    """What a delivery-status notification (or a non-DSN bounce) says failed."""

    permanent: bool
    recipients: tuple[str, ...] = ()
    original_message_ids: tuple[str, ...] = ()
    diagnostic: str = ""
    detector: str = ""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """A parsed message: decoded headers, chosen body text and attachments."""

    message_id: str  # without angle brackets; "" when absent
    subject: str
    sender: Address | None
    to: tuple[Address, ...] = ()
    cc: tuple[Address, ...] = ()
    reply_to: tuple[Address, ...] = ()
    date: datetime | None = None
    in_reply_to: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # decoded, in order, names as sent
    content_type: str = "text/plain"
    text: str = ""  # text/plain preferred, else HTML turned into text
    html: str = ""
    attachments: tuple[ParsedAttachment, ...] = ()
    defects: tuple[str, ...] = ()
    bounce: BounceInfo | None = None
    return_path: str | None = None  # None: no Return-Path header; "": the null sender <>
    #: Content-Type of every MIME part, in tree order, with its report-type when it has one
    #: ("multipart/report; report-type=delivery-status"): what the rules read of the structure.
    parts: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def header_all(self, name: str) -> Iterator[str]:
        lname = name.lower()
        return (value for key, value in self.headers if key.lower() == lname)

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """Message-IDs this message refers to, nearest first (In-Reply-To, then References)."""
        seen: dict[str, None] = {}
        for mid in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(mid, None)
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of classification: a kind, the rule that decided and why."""

    kind: Kind
    rule: str
    reason: str
    refers_to: str = ""  # for replies: the stored Message-ID or token that matched
    score: float = 0.0  # for claims: the signal score


@dataclass(frozen=True, slots=True)
class OutgoingMail:
    """A rendered reply ready for the outbox: the bytes are what SMTP will send."""

    template: str
    to: Address
    subject: str
    message_id: str  # ours, without angle brackets
    raw: bytes
    in_reply_to: str = ""
    references: tuple[str, ...] = field(default_factory=tuple)
