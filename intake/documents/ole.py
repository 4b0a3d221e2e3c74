"""Text of OLE compound files: Word 97-2003 .doc and WPS .wps; the only importer of olefile.

Word 6.0/95 files (another FIB and 8-bit text) are read by :mod:`intake.documents.word6`.
The Word reader follows [MS-DOC]: the FIB at the start of the WordDocument stream names the
table stream and the Clx, whose piece table maps character positions to byte ranges that are
either "compressed" (one cp1252 byte per character) or UTF-16LE, which is where Chinese text
lives. Formatting is ignored; field codes are dropped and field results kept.
"""

from __future__ import annotations

import re
import struct

import olefile

from intake.core.errors import ExtractionError
from intake.documents import Document

_WORD_IDENT = 0xA5EC
_WORD6_IDENT = 0xA5DC  # Word 6.0 and Word 95
_NFIB_WORD97 = 0x00C1  # Word 6/95 files have 0x0065-0x0068 and another text layout
_F_ENCRYPTED = 0x0100
_F_WHICH_TABLE = 0x0200
_F_OBFUSCATED = 0x8000
_FC_CLX_INDEX = 33  # fcClx is the 34th (fc, lcb) pair of FibRgFcLcb97

# Streams that tell other OLE documents apart, so a mislabelled one gets a useful format.
_OTHER_OLE = (
    ("Workbook", "xls"),
    ("Book", "xls"),
    ("PowerPoint Document", "ppt"),
    ("MN0", "works"),  # Microsoft Works word processor, which also uses the .wps extension
    ("CONTENTS", "works"),
)

_FIELD_MARKS = re.compile("([\x13\x14\x15])")
# Word's in-text marks: cell/row ends, line, page and column breaks, special hyphens.
_CONTROLS = str.maketrans(
    {
        "\r": "\n",
        "\x0b": "\n",
        "\x0c": "\n",
        "\x0e": "\n",
        "\x07": "\t",
        "\x1e": "-",
        "\x1f": None,
        **{chr(c): None for c in (0, 1, 2, 3, 4, 5, 6, 8, 0x10, 0x11, 0x12, 0x16, 0x17, 0x18)},
        **{chr(c): None for c in (0x13, 0x14, 0x15, 0x19, 0x1A, 0x1B, 0x1C, 0x1D)},
    }
)


def read_ole(payload: bytes, max_chars: int) -> Document:
    """Read an OLE compound file; Word documents give text, others only their format."""
    try:
        ole = olefile.OleFileIO(payload)
    except OSError as exc:  # olefile reports every malformed container as OSError
        raise ExtractionError(f"not a readable OLE file: {exc}") from None
    with ole:
        if ole.exists("EncryptedPackage"):
            # Office 2007+ documents saved with a password become an OLE file holding the
            # encrypted zip: a .docx that sniffs as OLE.
            return Document(
                format="docx",
                encrypted=True,
                note="encrypted: password-protected Office document (EncryptedPackage)",
            )
        if ole.exists("WordDocument"):
            word = _stream(ole, "WordDocument")
            return _read_word(ole, word, max_chars)
        for stream, fmt in _OTHER_OLE:
            if ole.exists(stream):
                return Document(format=fmt, note=f"no text extraction for {fmt} files")
        return Document(format="ole", note="OLE file without a Word document in it")


def _stream(ole: olefile.OleFileIO, name: str) -> bytes:
    try:
        with ole.openstream(name) as stream:
            data: bytes = stream.read()
    except OSError as exc:
        raise ExtractionError(f"cannot read the {name} stream: {exc}") from None
    return data


def _read_word(ole: olefile.OleFileIO, word: bytes, max_chars: int) -> Document:
    if len(word) < 0x22:
        raise ExtractionError("WordDocument stream too short for a FIB")
    ident, nfib = struct.unpack_from("<HH", word, 0)
    (flags,) = struct.unpack_from("<H", word, 0x0A)
    if ident == _WORD6_IDENT and not flags & _F_ENCRYPTED:
        from intake.documents.word6 import read_word6

        return read_word6(word)
    if ident not in (_WORD_IDENT, _WORD6_IDENT):
        raise ExtractionError("not a Word document (bad FIB signature)")
    if flags & _F_ENCRYPTED:
        how = "XOR-obfuscated" if flags & _F_OBFUSCATED else "encrypted"
        return Document(
            format="doc", encrypted=True, note=f"encrypted: password-protected Word file ({how})"
        )
    if nfib < _NFIB_WORD97 - 1 or ident == _WORD6_IDENT:
        raise ExtractionError(f"Word 6.0/95 documents are not supported (nFib {nfib:#06x})")

    ccp, fc_clx, lcb_clx = _fib(word)
    table_name = "1Table" if flags & _F_WHICH_TABLE else "0Table"
    if not ole.exists(table_name):
        raise ExtractionError(f"the FIB names a {table_name} stream that is missing")
    table = _stream(ole, table_name)
    pieces = piece_table(table, fc_clx, lcb_clx)

    main_len, ftn_len, hdd_len, mcr_len, atn_len, edn_len, txbx_len = ccp
    # Main text, then footnotes; endnotes come after headers, macros and annotations, and
    # the main text's text boxes after the endnotes (a poem is often set in one).
    ranges = [(0, main_len), (main_len, main_len + ftn_len)]
    edn_start = main_len + ftn_len + hdd_len + mcr_len + atn_len
    ranges.append((edn_start, edn_start + edn_len))
    ranges.append((edn_start + edn_len, edn_start + edn_len + txbx_len))
    end = max(stop for _, stop in ranges)
    # A hostile piece table can point every piece at the same bytes; never build more text
    # than the document claims, nor much more than the caller will keep.
    budget = min(end, max_chars * 2 + 1024)
    chars, truncated = _assemble(word, pieces, budget)

    parts = [clean(chars[start:stop]) for start, stop in ranges]
    text = "\n\n".join(part for part in parts if part)
    meta: dict[str, object] = {"nfib": nfib}
    if truncated:
        meta["truncated_stream"] = True
    return Document(format="doc", text=text, meta=meta)


def _fib(word: bytes) -> tuple[tuple[int, int, int, int, int, int, int], int, int]:
    """The subdocument lengths (ccpText .. ccpTxbx) and where the Clx is, from the FIB."""
    try:
        pos = 0x20
        (csw,) = struct.unpack_from("<H", word, pos)
        pos += 2 + csw * 2
        (cslw,) = struct.unpack_from("<H", word, pos)
        lw = pos + 2
        if cslw < 12:
            raise ExtractionError("FIB too short (FibRgLw97)")
        # FibRgLw97: cbMac, 2 reserved, ccpText, ccpFtn, ccpHdd, reserved (ccpMcr), ccpAtn,
        # ccpEdn, ccpTxbx, ...
        values = struct.unpack_from("<9I", word, lw + 12)
        ccp = (values[0], values[1], values[2], values[3], values[4], values[5], values[6])
        pos = lw + cslw * 4
        (cb_fclcb,) = struct.unpack_from("<H", word, pos)
        if cb_fclcb <= _FC_CLX_INDEX:
            raise ExtractionError("FIB too short (no fcClx)")
        fc_clx, lcb_clx = struct.unpack_from("<II", word, pos + 2 + _FC_CLX_INDEX * 8)
    except struct.error:
        raise ExtractionError("FIB is truncated") from None
    if any(n > 0x7FFFFFFF for n in ccp):
        raise ExtractionError("FIB has impossible text lengths")
    return ccp, fc_clx, lcb_clx


def piece_table(table: bytes, fc_clx: int, lcb_clx: int) -> list[tuple[int, int, int, bool]]:
    """The pieces as (cp_start, cp_end, byte offset, compressed), from the Clx."""
    if lcb_clx == 0 or fc_clx + lcb_clx > len(table):
        raise ExtractionError("no piece table (Clx outside the table stream)")
    clx = table[fc_clx : fc_clx + lcb_clx]
    pos = 0
    try:
        while clx[pos] == 0x01:  # Prc: property modifiers we skip
            (cb,) = struct.unpack_from("<h", clx, pos + 1)
            pos += 3 + max(cb, 0)
        if clx[pos] != 0x02:
            raise ExtractionError("malformed piece table (no Pcdt)")
        (lcb,) = struct.unpack_from("<I", clx, pos + 1)
        plc = clx[pos + 5 : pos + 5 + lcb]
    except (IndexError, struct.error):
        raise ExtractionError("malformed piece table (truncated Clx)") from None
    if len(plc) != lcb or lcb < 16 or (lcb - 4) % 12:
        raise ExtractionError("malformed piece table (bad PlcPcd size)")
    count = (lcb - 4) // 12
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for i in range(count):
        (fc_raw,) = struct.unpack_from("<I", plc, 4 * (count + 1) + 8 * i + 2)
        if cps[i + 1] < cps[i]:
            raise ExtractionError("malformed piece table (positions go backwards)")
        compressed = bool(fc_raw & 0x40000000)
        offset = fc_raw & 0x3FFFFFFF
        pieces.append((cps[i], cps[i + 1], offset // 2 if compressed else offset, compressed))
    return pieces


def _assemble(
    word: bytes, pieces: list[tuple[int, int, int, bool]], budget: int
) -> tuple[str, bool]:
    """The document's characters from position 0 up to ``budget``, and whether any piece
    pointed past the end of the stream."""
    out: list[str] = []
    have = 0
    truncated = False
    for cp_start, cp_end, offset, compressed in pieces:
        if have >= budget:
            break
        if cp_start != have:
            # Pieces must tile the text; a gap or overlap means the table is corrupt.
            raise ExtractionError("malformed piece table (pieces do not line up)")
        n = min(cp_end, budget) - cp_start
        if compressed:
            raw = word[offset : offset + n]
            piece = raw.decode("cp1252", errors="replace")
        else:
            raw = word[offset : offset + 2 * n]
            piece = raw.decode("utf-16-le", errors="replace")
        if len(piece) < n:
            truncated = True
            piece += "\ufffd" * (n - len(piece))
        out.append(piece)
        have += n
    return "".join(out), truncated


def clean(chars: str) -> str:
    """Plain text from Word's character stream: field results kept, codes and marks dropped."""
    if "\x13" in chars:
        kept: list[str] = []
        in_code: list[bool] = []  # one entry per open field: still in its code part?
        for token in _FIELD_MARKS.split(chars):
            if token == "\x13":
                in_code.append(True)
            elif token == "\x14":
                if in_code:
                    in_code[-1] = False
            elif token == "\x15":
                if in_code:
                    in_code.pop()
            elif not any(in_code):
                kept.append(token)
        chars = "".join(kept)
    # A table row ends with a cell mark followed by a row mark.
    text = chars.replace("\x07\x07", "\n").translate(_CONTROLS)
    lines = [line.rstrip("\t ") for line in text.split("\n")]
    return "\n".join(lines).strip("\n")
