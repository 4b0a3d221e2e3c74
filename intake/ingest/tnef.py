"""Outlook's winmail.dat (TNEF, application/ms-tnef) unpacked; the only importer of tnefparse.

Outlook and Exchange send "rich text" mail as a TNEF blob that holds the real attachments
and the body. :func:`unpack` returns them so that ingest treats them as the mail's own; the
blob itself stays in the stored raw message. tnefparse is pure Python and only slices the
bytes it is given, except for the compressed RTF body, which is refused above a size.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import tnefparse

log = logging.getLogger(__name__)

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_MAX_RTF_BYTES = 20 * 1024 * 1024
_MAX_FILES = 500


@dataclass(frozen=True, slots=True)
class Unpacked:
    """What a TNEF blob held: its body (plain text, HTML, RTF) and its files."""

    text: str = ""
    html: str = ""
    rtf: bytes = b""
    files: tuple[tuple[str, bytes], ...] = ()


def is_tnef(filename: str, content_type: str, payload: bytes) -> bool:
    """Whether an attachment is a TNEF blob (by its signature, whatever it is called)."""
    return payload.startswith(TNEF_SIGNATURE) and (
        content_type.lower() in TNEF_TYPES
        or filename.lower().endswith((".dat", ".tnef"))
        or content_type.lower() == "application/octet-stream"
    )


def unpack(payload: bytes) -> Unpacked | None:
    """The body and files in ``payload``; None when it cannot be read (it stays as it is)."""
    try:
        blob = tnefparse.TNEF(payload, do_checksum=False)
        files = tuple(
            (str(a.long_filename() or a.name or "").strip("\x00"), bytes(a.data or b""))
            for a in blob.attachments[:_MAX_FILES]
        )
        rtf = b""
        compressed = getattr(blob, "_rtfbody", None)
        if compressed and len(compressed) < _MAX_RTF_BYTES // 4:
            found = blob.rtfbody
            if isinstance(found, bytes) and len(found) <= _MAX_RTF_BYTES:
                rtf = found
    except Exception as exc:  # noqa: BLE001 - a damaged blob is kept as it came
        log.warning("winmail.dat not unpacked: %s: %s", type(exc).__name__, exc)
        return None
    return Unpacked(text=_text(blob.body), html=_text(blob.htmlbody), rtf=rtf, files=files)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value).strip("\x00").strip() if value else ""
