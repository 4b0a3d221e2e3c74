"""What one message may cost to keep and to read: the decoded bytes of its attachments that
are stored (``[ingest] max_decoded_bytes``), and the attachments read within a total time and
count (``[extract] message_timeout_seconds``, ``max_attachments_read``).

Each attachment has its own limits in ``documents.extract``; these bound their sum, so that
3,000 attachments, or a message whose parts decode to many times its size, cost what one
message may. Past a limit the rest are listed, with the reason, never dropped: the raw message
is kept whole either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from intake.core.config import ExtractConfig
from intake.core.mail import ParsedAttachment
from intake.documents import extract
from intake.documents.pool import Readers

#: ``max_decoded_bytes`` 0 means this many times the raw message's size.
DEFAULT_DECODED_FACTOR = 3


def decoded_limit(max_decoded_bytes: int, raw_size: int) -> int:
    """The decoded bytes one message's attachments may store."""
    return max_decoded_bytes or DEFAULT_DECODED_FACTOR * raw_size


def kept(attachments: Sequence[ParsedAttachment], limit: int) -> tuple[bool, ...]:
    """Which attachments are stored, in order, while their decoded bytes stay within
    ``limit``; once one would pass it, it and every later one are omitted."""
    total = 0
    result: list[bool] = []
    for attachment in attachments:
        total += attachment.size
        result.append(total <= limit and (not result or result[-1]))
    return tuple(result)


def omitted_note(limit: int) -> str:
    return (
        f"omitted: the message's attachments decode to more than {limit} bytes "
        "(ingest.max_decoded_bytes); it is in the raw message"
    )


def read_all(
    attachments: Sequence[ParsedAttachment],
    skipped: Mapping[int, str],
    limits: ExtractConfig,
    *,
    content_type: Callable[[ParsedAttachment], str],
    monotonic: Callable[[], float] = time.monotonic,
    readers: Readers | None = None,
) -> dict[int, extract.Extracted]:
    """What each attachment yields, read in order within the message's budget: at most
    ``max_attachments_read`` of them, in ``message_timeout_seconds`` in all (each document's
    own time limit is cut to what is left). Those in ``skipped`` (index: why) and those past
    the budget are listed with the reason. ``readers``: the long-lived reading processes
    (:mod:`intake.documents.pool`); without them each binary file gets a process of its own."""
    start = monotonic()
    found: dict[int, extract.Extracted] = {}
    read = 0
    for index, attachment in enumerate(attachments):
        if index in skipped:
            found[index] = _unread(attachment, skipped[index])
            continue
        left = limits.message_timeout_seconds - (monotonic() - start)
        if read >= limits.max_attachments_read or left <= 0:
            spent = (
                f"{limits.max_attachments_read} attachments"
                if read >= limits.max_attachments_read
                else f"{limits.message_timeout_seconds:g} seconds"
            )
            found[index] = _unread(attachment, f"not read: the message's budget ({spent}) is spent")
            continue
        within = replace(limits, timeout_seconds=min(limits.timeout_seconds, left))
        found[index] = extract.extract(
            attachment.filename,
            content_type(attachment),
            attachment.payload,
            within,
            memory_bytes=limits.worker_memory_bytes,
            readers=readers,
        )
        read += 1
    return found


def _unread(attachment: ParsedAttachment, reason: str) -> extract.Extracted:
    fmt = extract.format_of(attachment.filename, attachment.content_type, attachment.payload)
    return extract.Extracted(extract.kind_of(fmt), fmt, error=reason)
