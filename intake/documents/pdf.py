"""Text layer of PDF documents; the only importer of pypdf."""

from __future__ import annotations

import io
import re
import unicodedata

import pypdf
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from intake.core.errors import ExtractionError
from intake.documents import Document

# PDF text comes out line by line as laid out, so a paragraph of Chinese is cut wherever the
# line was full, and Chinese has no space to mark the join. A line is taken as wrapped when it
# is (nearly) as wide as the widest line of its page and it ends, and the next line starts,
# with Chinese text, or it ends with the space at which a Western line was broken.
_CJK = "\u3400-\u9fff\uf900-\ufaff\u3001-\u303f\uff01-\uff60\u2014\u2018-\u201d\u2026"
_ENDS_CJK = re.compile(f"[{_CJK}]$")
_STARTS_CJK = re.compile(f"^[{_CJK}]")
_FULL_LINE = 0.85


def read_pdf(payload: bytes, max_chars: int) -> Document:
    """Read a PDF's text layer; a PDF that needs a password to open is flagged, not read."""
    try:
        reader = pypdf.PdfReader(io.BytesIO(payload))
        meta: dict[str, object] = {}
        if reader.is_encrypted:
            # Many PDFs are "encrypted" only to restrict printing or copying, with an empty
            # password to open them; those can be read like any other.
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                return Document(
                    format="pdf", encrypted=True, note=f"encrypted: cannot decrypt PDF: {exc}"
                )
            if opened == pypdf.PasswordType.NOT_DECRYPTED:
                return Document(
                    format="pdf", encrypted=True, note="encrypted: PDF needs a password to open"
                )
            meta["restrictions"] = True
        pages = reader.pages
        meta["pages"] = len(pages)
        texts: list[str] = []
        size = 0
        for page in pages:
            text = page.extract_text()
            texts.append(_unwrap(text.strip()))
            size += len(text)
            if size > max_chars:
                meta["pages_read"] = len(texts)
                break
    except FileNotDecryptedError:
        return Document(format="pdf", encrypted=True, note="encrypted: PDF needs a password")
    except (PdfReadError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        # pypdf reports a damaged file with whichever exception its parser tripped on.
        raise ExtractionError(f"damaged PDF: {type(exc).__name__}: {exc}") from None
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
