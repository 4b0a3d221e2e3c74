"""Frozen events that cross domains: what ingest recorded for one message (``Ingested``), handed
to the hooks other domains register (``IngestHook``), and the conversation it joined.

Ingest produces these; conversations, rights and replies consume them, so neither side imports
the other's use cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from intake.core.mail import Kind, ParsedMail, Verdict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: The actor of every event intake records by itself (staff actions name the editor).
SYSTEM_ACTOR = "intake"


@dataclass(frozen=True, slots=True)
class ThreadMatch:
    """An earlier conversation an incoming message belongs to, and what matched."""

    submission_id: int | None
    claim_id: int | None
    matched: str  # "message-id <id>", "ours <id>", "token #N"


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment as stored, with what extraction made of it."""

    attachment_id: int
    filename: str
    safe_name: str
    content_type: str
    size: int
    sha256: str
    kind: str
    text: str
    error: str


@dataclass(frozen=True, slots=True)
class DkimCheck:
    """A reply's DKIM signatures as checked before its transaction: the result recorded as
    evidence (``pass``, ``fail``, ``none``, ``error: …``; "" when not checked) and the domain
    (``d=``) of every signature that verified, for alignment with the From domain."""

    result: str = ""
    passed: tuple[str, ...] = ()


#: Checks the DKIM signatures of a message's raw bytes (``intake.adapters.dkim`` behind it).
DkimVerifier = Callable[[bytes], DkimCheck]


@dataclass(frozen=True, slots=True)
class Ingested:
    """What the core recorded for one message; handed to every ingest hook."""

    message_pk: int
    parsed: ParsedMail
    verdict: Verdict
    classified_as: Kind  # the verdict before oversize overrode it
    sha256: str
    raw_path: str
    received_at: datetime
    now: datetime
    submission_id: int | None = None
    claim_id: int | None = None
    thread: ThreadMatch | None = None
    attachments: tuple[StoredAttachment, ...] = ()
    auto_reply_allowed: bool = False
    auto_reply_reason: str = ""
    dkim: DkimCheck = DkimCheck()  # a reply's signatures, checked before the transaction


class IngestHook(Protocol):
    """Runs inside the message's transaction after ingest has recorded it; what it writes
    commits (or rolls back) with the message."""

    def __call__(self, session: Session, item: Ingested) -> None: ...


__all__ = [
    "SYSTEM_ACTOR",
    "DkimCheck",
    "DkimVerifier",
    "IngestHook",
    "Ingested",
    "StoredAttachment",
    "ThreadMatch",
]
