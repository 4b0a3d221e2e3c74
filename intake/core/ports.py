"""The ports: what the use cases need from the world outside (mailbox, Sent folder, SMTP, blob
store, DNS, clock), each a small Protocol.

Production wires the real adapters (``intake.adapters.imap``, ``.smtp``, ``.blobstore``,
``.dkim``); ``intake.adapters.memory`` ships an in-memory implementation of each for fast tests,
and ``tests/adapters/test_*_contract.py`` runs one suite against both, so a fake cannot drift
from the server it stands in for. A use case names the port, never the adapter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from intake.core.errors import StorageError
from intake.core.mail import FolderInfo, MessageSize, RawMail

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Aware UTC "now" (``intake.core.clock.utcnow`` in production, a manual clock in tests).
Clock = Callable[[], datetime]


class MailSource(Protocol):
    """The IMAP operations ingest needs from a mailbox."""

    def select(self, folder: str) -> FolderInfo:
        """Open ``folder``; its UIDVALIDITY says whether UIDs remembered earlier still hold."""
        ...

    def uids(self, criteria: Sequence[str] = ...) -> list[int]:
        """UIDs in the selected folder, ascending (``ALL`` by default; never relies on \\Seen)."""
        ...

    def sizes(self, uids: Sequence[int]) -> list[MessageSize]:
        """RFC822.SIZE and INTERNALDATE of ``uids``, ascending; expunged UIDs are left out."""
        ...

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMail]:
        """The exact bytes of each message, in UID order, without setting \\Seen; a message
        expunged meanwhile is skipped."""
        ...

    def fetch_header(self, uid: int) -> bytes:
        """The header block of one message (for mail too large to fetch whole)."""
        ...

    def mark_processed(self, uids: Sequence[int], dest: str) -> str:
        """Take ``uids`` out of the selected folder into ``dest`` (or flag them when ``dest`` is
        "" or the server cannot move); returns how: "move", "copy", "flag" or "none"."""
        ...


class SentMailbox(Protocol):
    """The IMAP operations the copy of a sent reply needs."""

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` unless it exists."""
        ...

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ...) -> None:
        """Store ``raw`` in ``folder`` with ``flags`` (``\\Seen`` by default)."""
        ...

    def find_message_id(self, folder: str, message_id: str) -> bool:
        """Whether a message in ``folder`` has a Message-ID header containing ``message_id``
        (IMAP's ``SEARCH HEADER``: a case-insensitive substring, so brackets are optional)."""
        ...


class Transport(Protocol):
    """Sends one message over an open SMTP session.

    Raises :class:`~intake.core.errors.TemporaryDeliveryError` (4xx, timeouts, dropped
    connections: retry) or :class:`~intake.core.errors.PermanentDeliveryError` (5xx, unusable
    envelope: do not), each with the server's ``code`` when there was one. An envelope address
    with a non-ASCII local part is sent with SMTPUTF8 when the server offers it, and is a
    permanent error when it does not.
    """

    @property
    def extensions(self) -> frozenset[str]:
        """The EHLO keywords of the open session, lower case (empty before it is open)."""
        ...

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None: ...


#: What the blob store keeps: raw messages ("raw") and attachments ("att").
BLOB_KINDS = ("raw", "att")


def blob_address(kind: str, data: bytes) -> tuple[str, str]:
    """``(sha256, path)`` of ``data`` in every blob store: ``<kind>/<aa>/<bb>/<sha256>``, so the
    same bytes have the same path in each backend and rows name blobs the same way in all of
    them. An unknown ``kind`` raises StorageError."""
    if kind not in BLOB_KINDS:
        raise StorageError(f"unknown blob kind {kind!r}")
    digest = hashlib.sha256(data).hexdigest()
    return digest, f"{kind}/{digest[:2]}/{digest[2:4]}/{digest}"


class BlobReader(Protocol):
    """Where stored raw mail and attachments are read back from."""

    def get(self, path: str) -> bytes:
        """The bytes stored at a path :meth:`BlobStore.put` returned; StorageError if none."""
        ...

    def chunks(self, path: str) -> Iterator[bytes]:
        """The same bytes as :meth:`get`, in pieces of at most a few MiB, so a large blob can
        be hashed, copied or written out without being held whole; StorageError if none."""
        ...


class BlobStore(BlobReader, Protocol):
    """Content-addressed storage of raw messages ("raw") and attachments ("att").

    Two kinds of backend: one that writes at once (files: durable when ``put`` returns, before
    any row names the blob) and one that writes in the caller's database transaction
    (:attr:`transactional`: the blob commits, or rolls back, with the rows that name it).
    """

    @property
    def transactional(self) -> bool:
        """Whether ``put(..., session)`` writes in that session's transaction. A caller that
        records rows naming a blob then only computes its address ahead
        (:func:`blob_address`) and puts it in the transaction that writes the rows."""
        ...

    def put(self, kind: str, data: bytes, session: Session | None = None) -> tuple[str, str]:
        """Store ``data``; return ``(sha256, path)`` (:func:`blob_address`). The same bytes give
        the same path and are stored once; an unknown ``kind`` or a failed write raises
        StorageError. With ``session``, a transactional store writes in its transaction
        (visible to others once it commits); otherwise, and in a store that is not
        transactional, ``data`` is durable when ``put`` returns."""
        ...

    def exists(self, path: str) -> bool: ...

    def delete(self, path: str) -> None:
        """Remove the blob at ``path``; deleting a missing blob is not an error."""
        ...


class Resolver(Protocol):
    """DNS TXT lookups for DKIM keys, in the shape dkimpy calls its ``dnsfunc``.

    ``name`` is the query name (``b"selector._domainkey.example.com."``); the answer is the
    TXT record's text, or None when nothing is published there. A lookup that cannot be made
    (no network, a timeout) raises.
    """

    def __call__(self, name: bytes, timeout: float = ...) -> bytes | None: ...


__all__ = [
    "BLOB_KINDS",
    "BlobReader",
    "BlobStore",
    "Clock",
    "MailSource",
    "Resolver",
    "SentMailbox",
    "Transport",
    "blob_address",
]
