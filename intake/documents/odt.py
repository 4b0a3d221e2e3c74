"""Text of OpenDocument text files (.odt, .ott: LibreOffice, WPS, Google Docs exports).

The text is in ``content.xml``: paragraphs and headings (``text:p``, ``text:h``), spaces
compressed as ``text:s``, tabs, line breaks, tables, and notes, which are gathered after the
body as in a printed page. Deleted tracked changes and comments are not the text. Read with
the standard library's expat parser, which refuses entity-expansion bombs; it runs in the
extraction child like every binary reader, after the zip census has bounded what unpacks.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile

from intake.core.errors import ExtractionError
from intake.documents import Document

_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
_BLOCKS = frozenset({f"{_TEXT}p", f"{_TEXT}h"})
_SKIP = frozenset({f"{_TEXT}tracked-changes", f"{_OFFICE}annotation", f"{_TEXT}note-citation"})


def read_odt(payload: bytes) -> Document:
    """Read an .odt/.ott: body text in reading order (tables as tab-separated rows), then notes."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            content = archive.read("content.xml")
        root = ET.fromstring(content)
    except KeyError:
        raise ExtractionError("not an OpenDocument text (no content.xml)") from None
    except (zipfile.BadZipFile, ET.ParseError, EOFError, ValueError) as exc:
        raise ExtractionError(f"damaged odt: {type(exc).__name__}: {exc}") from None
    body = root.find(f"{_OFFICE}body")
    if body is None:
        raise ExtractionError("damaged odt: no office:body")
    notes: list[str] = []
    lines = _blocks(body, notes)
    text = "\n".join(lines).strip("\n")
    meta: dict[str, object] = {}
    if notes:
        meta["notes"] = len(notes)
        text = f"{text}\n\n" + "\n".join(notes)
    return Document(format="odt", text=text, meta=meta)


def _blocks(root: ET.Element, notes: list[str]) -> list[str]:
    """Lines of ``root``: one per paragraph or heading, one per table row; without recursion,
    as nesting depth is the sender's to choose."""
    lines: list[str] = []
    stack: list[ET.Element] = [root]
    while stack:
        element = stack.pop()
        if element.tag in _SKIP:
            continue
        if element.tag in _BLOCKS:
            lines.append(_inline(element, notes))
        elif element.tag == f"{_TABLE}table-row":
            cells = [
                " ".join(_inline(p, notes) for p in cell.iter() if p.tag in _BLOCKS).strip()
                for cell in element
                if cell.tag == f"{_TABLE}table-cell"
            ]
            lines.append("\t".join(cells).rstrip("\t"))
        else:
            stack.extend(reversed(list(element)))
    return lines


def _inline(paragraph: ET.Element, notes: list[str]) -> str:
    """The text of one paragraph: spans, links, spaces, tabs and breaks; notes set aside."""
    parts: list[str] = [paragraph.text or ""]
    stack: list[tuple[ET.Element, bool]] = [(child, False) for child in reversed(paragraph)]
    while stack:
        element, done = stack.pop()
        if done:
            parts.append(element.tail or "")
            continue
        tag = element.tag
        if tag == f"{_TEXT}s":
            count = element.get(f"{_TEXT}c", "1")
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif tag == f"{_TEXT}tab":
            parts.append("\t")
        elif tag == f"{_TEXT}line-break":
            parts.append("\n")
        elif tag == f"{_TEXT}note":
            note_body = element.find(f"{_TEXT}note-body")
            if note_body is not None:
                notes.append(" ".join(_blocks(note_body, notes)).strip())
        elif tag not in _SKIP:
            parts.append(element.text or "")
            stack.append((element, True))
            stack.extend((child, False) for child in reversed(element))
            continue
        parts.append(element.tail or "")
    return "".join(parts)
