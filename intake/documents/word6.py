"""Text of Word 6.0 and Word 95 documents (FIB signature 0xA5DC), which Word 97's reader refuses.

Their text is 8-bit: one byte per character in the document's ANSI code page, two for the
Chinese, Japanese and Korean editions' double-byte code pages, and character positions count
bytes. A simple file keeps its text from ``fcMin``; a "complex" (fast-saved) one maps
positions to bytes through a piece table in the WordDocument stream, laid out as Word 97's.
The code page comes from the document's language where that names one; an English or
Western language id on bytes that are not ASCII is checked by charset detection, because
Russian, Czech and Chinese Word 95 documents often carry the English id.
"""

from __future__ import annotations

import re
import struct

from intake.core.errors import ExtractionError
from intake.documents import Document
from intake.documents.ole import clean, piece_table  # the same pieces, fields and marks
from intake.text.charsets import decode_text

WORD6_IDENT = 0xA5DC
_F_COMPLEX = 0x0004
_FC_CLX = 0x160  # fcClx, lcbClx: the 34th (fc, lcb) pair, from 0x58 as in Word 97's FIB
_CCP = 0x34  # ccpText, ccpFtn, ccpHdd, ccpMcr, ccpAtn, ccpEdn, ccpTxbx

# Code pages by the primary language of the FIB's lid (Windows language ids).
_CODEPAGES = {
    0x04: "gb18030",  # Chinese: 0x0404 Taiwan (Big5) is handled below
    0x11: "cp932",
    0x12: "cp949",
    0x19: "cp1251", 0x02: "cp1251", 0x22: "cp1251", 0x23: "cp1251", 0x1C: "cp1250",
    0x05: "cp1250", 0x0E: "cp1250", 0x15: "cp1250", 0x18: "cp1250", 0x1A: "cp1250",
    0x1B: "cp1250", 0x24: "cp1250",
    0x08: "cp1253", 0x1F: "cp1254", 0x0D: "cp1255", 0x01: "cp1256", 0x25: "cp1257",
    0x26: "cp1257", 0x27: "cp1257", 0x1E: "cp874", 0x2A: "cp1258",
}  # fmt: skip
_BIG5_LIDS = frozenset({0x0404, 0x0C04, 0x1404})  # Taiwan, Hong Kong, Macao


def read_word6(word: bytes) -> Document:
    """The main text of a Word 6/95 WordDocument stream (footnotes, endnotes and text
    boxes after it)."""
    try:
        nfib, lid, flags = struct.unpack_from("<H2xHxxH", word, 2)[0:3]
        fc_min = struct.unpack_from("<I", word, 0x18)[0]
        ccp = struct.unpack_from("<7I", word, _CCP)
    except struct.error:
        raise ExtractionError("Word 6/95 FIB is truncated") from None
    text_len, ftn_len, hdd_len, mcr_len, atn_len, edn_len, txbx_len = ccp
    edn_start = text_len + ftn_len + hdd_len + mcr_len + atn_len
    ranges = [
        (0, text_len),
        (text_len, text_len + ftn_len),
        (edn_start, edn_start + edn_len),
        (edn_start + edn_len, edn_start + edn_len + txbx_len),
    ]
    end = min(max(stop for _, stop in ranges), len(word))
    if flags & _F_COMPLEX:
        data = _pieces(word, end)
    else:
        data = word[fc_min : fc_min + end]
    parts = [clean(_decode(data[start:stop], lid)) for start, stop in ranges]
    text = "\n\n".join(part for part in parts if part)
    return Document(format="doc", text=text, meta={"nfib": nfib, "word_version": "6/95"})


def _pieces(word: bytes, budget: int) -> bytes:
    try:
        fc_clx, lcb_clx = struct.unpack_from("<II", word, _FC_CLX)
    except struct.error:
        raise ExtractionError("Word 6/95 FIB is truncated (no fcClx)") from None
    out = bytearray()
    for cp_start, cp_end, offset, _compressed in piece_table(word, fc_clx, lcb_clx):
        if len(out) >= budget:
            break
        if cp_start != len(out):
            raise ExtractionError("malformed piece table (pieces do not line up)")
        n = min(cp_end, budget) - cp_start
        chunk = word[offset : offset + n]
        out += chunk + b"?" * (n - len(chunk))
    return bytes(out)


# Word's in-text marks (fields, cells, pictures, breaks) are C0 control bytes, which charset
# detection takes for binary: the code page is found on the text with spaces in their place,
# then the bytes are decoded with it, marks and all (they are the same byte in every code
# page here, and never part of a double-byte character).
_MARKS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CODECS = (
    "utf-8", "gb18030", "big5hkscs", "cp950", "cp932", "cp949", "cp1252", "cp1250", "cp1251",
    "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "cp874", "koi8-r", "latin-1",
)  # fmt: skip


def _decode(data: bytes, lid: int) -> str:
    if data.isascii():
        return data.decode("ascii")
    label = "big5" if lid in _BIG5_LIDS else _CODEPAGES.get(lid & 0x3FF)
    spaced = _MARKS.sub(b" ", data)
    text = decode_text(spaced, label)[0]
    if spaced == data:
        return text
    for codec in ((label,) if label else ()) + _CODECS:
        try:
            if spaced.decode(codec) == text:
                return data.decode(codec)
        except UnicodeDecodeError:
            continue
    return text  # read as detected, with spaces for the marks
