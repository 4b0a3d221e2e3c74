"""Text of RTF documents, Chinese code pages included; the only importer of striprtf."""

from __future__ import annotations

import re
from collections.abc import Callable

from striprtf.striprtf import rtf_to_text

from intake.core.errors import ExtractionError
from intake.documents import Document

_ANSICPG = re.compile(rb"\\ansicpg(\d+)")
_RAW_HIGH = re.compile(rb"[\x80-\xff]")
# In a double-byte code page a raw lead byte takes the next byte with it, even one that looks
# like ASCII: 镕 is E9 46 ("F") in GBK, and a trail byte can even be a backslash or a brace.
_RAW_DOUBLE = re.compile(rb"[\x81-\xfe][\x40-\x7e\x80-\xfe]|[\x80-\xff]")
_FCHARSET0 = re.compile(rb"\\fcharset0(?![0-9])")
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")

# \fcharset for each double-byte Windows code page (GB2312/GBK, Shift_JIS, Korean, Big5).
_DBCS_CHARSET = {932: b"128", 936: b"134", 949: b"129", 950: b"136"}

_to_text: Callable[..., str] = rtf_to_text  # striprtf is untyped; this is its signature


def read_rtf(payload: bytes) -> Document:
    """Read an RTF file; ``\\'hh`` bytes decode in the font's or document's code page."""
    head = payload.lstrip()[:5]
    if head != b"{\\rtf":
        raise ExtractionError("not an RTF file")
    data = payload
    match = _ANSICPG.search(data, 0, 4096)
    codepage = int(match.group(1)) if match else 0
    if codepage in _DBCS_CHARSET:
        # Some writers (older WPS, converters) tag Chinese fonts \fcharset0; in a \ansicpg936
        # file the "ANSI" charset means GBK, but striprtf would decode those bytes as cp1252.
        data = _FCHARSET0.sub(rb"\\fcharset" + _DBCS_CHARSET[codepage], data)
    # RTF is 7-bit by the spec, but some writers put the code page's bytes in raw; turning
    # them into \'hh escapes lets the code page decode them, whole multi-byte characters.
    raw = _RAW_DOUBLE if codepage in _DBCS_CHARSET else _RAW_HIGH
    data = raw.sub(lambda m: b"".join(b"\\'%02x" % byte for byte in m.group(0)), data)
    text = _to_text(data.decode("ascii"), errors="replace")
    # \uN gives UTF-16 code units, so characters beyond the BMP arrive as surrogate pairs.
    text = _SURROGATE_PAIR.sub(_join_pair, text)
    text = _LONE_SURROGATE.sub("\ufffd", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, object] = {"codepage": codepage} if codepage else {}
    return Document(format="rtf", text=text.strip(), meta=meta)


def _join_pair(match: re.Match[str]) -> str:
    return match.group(0).encode("utf-16-le", "surrogatepass").decode("utf-16-le")
