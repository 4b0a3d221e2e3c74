"""Outlook's winmail.dat (TNEF, application/ms-tnef) unpacked; the only importer of tnefparse.

Outlook and Exchange send "rich text" mail as a TNEF blob that holds the real attachments
and the body. :func:`unpack` returns them so that ingest treats them as the mail's own; the
blob itself stays in the stored raw message. tnefparse is pure Python and only slices the
bytes it is given, except for the compressed RTF body, which is refused above a size. It
trusts the counts a blob declares, though: a count of a few billion properties in 53 bytes
(Apache POI's ``oom.tnef``) makes it allocate until the process dies, and it copies the rest
of the blob for every attribute. :func:`implausible` walks the same structure first, within
bounds, and a blob whose counts or lengths do not fit in its bytes is never handed over.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass

import tnefparse

log = logging.getLogger(__name__)

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"
TNEF_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
_MAX_RTF_BYTES = 20 * 1024 * 1024
_MAX_FILES = 500
_MAX_OBJECTS = 20_000  # attributes in one blob; Outlook writes a few dozen per attachment
#: tnefparse copies the rest of the blob for each attribute it reads: bytes it may copy in all
#: (a couple of seconds at most), which bounds the attributes of a large blob more tightly.
_COPY_BUDGET = 8 * 1024 * 1024 * 1024
_MAX_VALUES = 100_000  # MAPI property values in one blob; real ones hold hundreds
_OBJECT_OVERHEAD = 11  # level (1), id (4), length (4), checksum (2)
_MIN_OBJECT = 12  # tnefparse stops reading when fewer bytes than this are left
_LEVEL_ATTACHMENT = 2
_ATT_MAPI_PROPS = 0x9003  # the message's MAPI properties (its body among them)
_ATT_RECIPIENTS = 0x9004  # a count of rows, each a block of MAPI properties
_ATT_ATTACHMENT = 0x9005  # an attachment's MAPI properties (its long file name)
_FIXED_SIZES = {0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4, 0x0005: 8, 0x0006: 8,
                0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16, 0x0001: 0}  # fmt: skip
_COUNTED_TYPES = frozenset({0x0000, 0x000D, 0x001E, 0x001F, 0x0102})  # length-prefixed values


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
    problem = implausible(payload)
    if problem:
        log.warning("winmail.dat not unpacked: %s", problem)
        return None
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


class _Implausible(Exception):
    """A count or a length in a TNEF blob that its bytes cannot hold."""


def implausible(payload: bytes) -> str:
    """Why tnefparse must not be given ``payload`` ("" when it may): a declared count or
    length that runs past the end of the blob or its attribute, or more attributes and
    property values than any mail client writes."""
    try:
        _walk_objects(payload)
    except _Implausible as exc:
        return f"damaged TNEF: {exc}"
    except struct.error:
        return "damaged TNEF: a count or length runs past the end of the blob"
    return ""


def _walk_objects(data: bytes) -> None:
    """Walk the attribute stream as tnefparse does, checking what it would trust."""
    offset, objects, values = 6, 0, [0]
    most = max(64, min(_MAX_OBJECTS, _COPY_BUDGET // max(len(data), 1)))
    while offset + _MIN_OBJECT < len(data):
        objects += 1
        if objects > most:
            raise _Implausible(f"more than {most} attributes in {len(data)} bytes")
        level, name, _kind, length = struct.unpack_from("<BHHI", data, offset)
        end = min(len(data), offset + _OBJECT_OVERHEAD + length)
        body = data[offset + 9 : end - 2]
        if name in (_ATT_MAPI_PROPS, _ATT_ATTACHMENT) and (
            level == _LEVEL_ATTACHMENT or name == _ATT_MAPI_PROPS
        ):
            _walk_mapi(body, 0, values)
        elif name == _ATT_RECIPIENTS and level != _LEVEL_ATTACHMENT:
            (rows,) = struct.unpack_from("<I", body, 0)
            _fits(rows, 4, len(body) - 4, "recipient rows")
            at = 4
            for _ in range(rows):
                at = _walk_mapi(body, at, values)
        offset = end


def _walk_mapi(data: bytes, offset: int, values: list[int]) -> int:
    """Walk one block of MAPI properties from ``offset``; the offset after it."""
    (count,) = struct.unpack_from("<I", data, offset)
    offset += 4
    _fits(count, 4, len(data) - offset, "MAPI properties")
    for _ in range(count):
        kind, name = struct.unpack_from("<HH", data, offset)
        offset += 4
        if name >= 0x8000:  # a named property: a GUID, then a number or a name
            (named_kind,) = struct.unpack_from("<I", data, offset + 16)
            offset += 20
            if named_kind == 0:
                offset += 4
            else:
                (size,) = struct.unpack_from("<I", data, offset)
                offset += 4 + _padded(size)
        several = None
        if kind & 0x1000:
            kind ^= 0x1000
            (several,) = struct.unpack_from("<I", data, offset)
            offset += 4
            _fits(several, 2, len(data) - offset, "multi-valued property values")
        for _ in range(several or 1):
            values[0] += 1
            if values[0] > _MAX_VALUES:
                raise _Implausible(f"more than {_MAX_VALUES} MAPI property values")
            if kind in _FIXED_SIZES:
                offset += _FIXED_SIZES[kind]
            elif kind in _COUNTED_TYPES:
                items = 1
                if several is None:
                    (items,) = struct.unpack_from("<I", data, offset)
                    offset += 4
                    _fits(items, 4, len(data) - offset, "property values")
                for _ in range(items):
                    (size,) = struct.unpack_from("<I", data, offset)
                    offset += 4 + _padded(size)
            else:
                return len(data)  # tnefparse stops at an unknown type, and so may we
            if offset > len(data):
                raise _Implausible("a property runs past the end of its attribute")
        if (several or 1) % 2 and kind in (0x0002, 0x000B):
            offset += 2
    return offset


def _fits(count: int, each: int, room: int, what: str) -> None:
    if count * each > max(room, 0):
        raise _Implausible(f"{count} {what} declared in {max(room, 0)} bytes")


def _padded(size: int) -> int:
    return size + (-size) % 4
