"""Text layer of PDF documents; the only importer of pypdfium2 (PDFium's Python binding).

PDFium reads CID fonts through their ToUnicode maps and, where a map is missing or partial,
through the embedded font's own character map, so Chinese and Japanese PDFs come out as
text rather than strings of wrong characters (see docs/architecture.md for the measurement
against pypdf and pdfminer.six). It is C code: like every reader here it runs only in the
extraction child process, under its memory and CPU limits.
"""

from __future__ import annotations

import re
import unicodedata

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from intake.core.errors import ExtractionError
from intake.documents import Document

# PDF text comes out line by line as laid out, so a paragraph of Chinese is cut wherever the
# line was full, and Chinese has no space to mark the join. A line is taken as wrapped when it
# is (nearly) as wide as the widest line of its page and it ends, and the next line starts,
# with Chinese text, or it ends with the space at which a Western line was broken.
_CJK = "\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u3001-\u303f\uff01-\uff60\u2014\u2018-\u201d\u2026"
_ENDS_CJK = re.compile(f"[{_CJK}]$")
_STARTS_CJK = re.compile(f"^[{_CJK}]")
_FULL_LINE = 0.85
# PDFium marks a hyphen it inferred at a line break (U+FFFE) and soft hyphens (U+0002).
_BREAK_HYPHEN = re.compile("[\ufffe\x02]\r?\n?")


def read_pdf(payload: bytes, max_chars: int) -> Document:
    """Read a PDF's text layer; a PDF that needs a password to open is flagged, not read."""
    try:
        # PDFium opens a file whose owner password only restricts printing or copying (an
        # empty user password) like any other; one that needs a password fails here.
        document = pdfium.PdfDocument(payload)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            return Document(
                format="pdf", encrypted=True, note="encrypted: PDF needs a password to open"
            )
        raise ExtractionError(f"damaged PDF: {exc}") from None
    try:
        meta: dict[str, object] = {"pages": len(document)}
        if pdfium_c.FPDF_GetSecurityHandlerRevision(document.raw) != -1:
            meta["restrictions"] = True
        texts: list[str] = []
        size = 0
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                text = textpage.get_text_range()
            finally:
                textpage.close()
                page.close()
            text = _BREAK_HYPHEN.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
            texts.append(_unwrap(text.strip()))
            size += len(text)
            if size > max_chars:
                meta["pages_read"] = len(texts)
                break
    except pdfium.PdfiumError as exc:
        raise ExtractionError(f"damaged PDF: {exc}") from None
    finally:
        document.close()
    text = "\n\n".join(t for t in texts if t)
    if not text.strip():
        raise ExtractionError("PDF has no text layer (a scan or pictures of text?)")
    return Document(format="pdf", text=text, meta=meta)


def _unwrap(page: str) -> str:
    lines = page.split("\n")
    widths = [_width(line) for line in lines]
    full = max(widths, default=0) * _FULL_LINE
    out = [lines[0]]
    for i in range(1, len(lines)):
        before = lines[i - 1]
        wrapped = widths[i - 1] >= full and (
            # pypdf leaves the space at which a Western line was broken
            before.endswith(" ")
            or (_ENDS_CJK.search(before) is not None and _STARTS_CJK.search(lines[i]) is not None)
        )
        out.append(lines[i] if wrapped else "\n" + lines[i])
    return "".join(out)


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)
