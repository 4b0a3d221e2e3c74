"""Text of Word 2007+ .docx documents, footnotes included; the only importer of python-docx."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import docx
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.exceptions import PackageNotFoundError
from docx.oxml import parse_xml

from intake.core.errors import ExtractionError
from intake.documents import Document

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"

# Elements whose text is not part of what the reader sees: field codes, deleted revisions,
# properties, and the Fallback copy of a text box that mc:Choice already holds.
_SKIP = frozenset(
    {
        f"{_W}instrText",
        f"{_W}delText",
        f"{_W}delInstrText",
        f"{_W}rPr",
        f"{_W}pPr",
        f"{_W}tblPr",
        f"{_W}sectPr",
        f"{_W}footnoteReference",
        f"{_W}endnoteReference",
        f"{_MC}Fallback",
    }
)
_INLINE = {f"{_W}tab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}
_P, _T, _TC, _TR = f"{_W}p", f"{_W}t", f"{_W}tc", f"{_W}tr"
_NOTE_TYPES = frozenset({"separator", "continuationSeparator", "continuationNotice"})


# Macro-enabled documents and templates (.docm, .dotx, .dotm) are the same WordprocessingML
# under another content type, which python-docx refuses; renamed, it reads them.
_DOCUMENT_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_VARIANTS = {
    b"application/vnd.ms-word.document.macroEnabled.main+xml": "docm",
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "dotx",
    b"application/vnd.ms-word.template.macroEnabledTemplate.main+xml": "dotm",
}


def read_docx(payload: bytes) -> Document:
    """Read a .docx (or .docm, .dotx, .dotm): body text in reading order (tables as
    tab-separated rows), then notes."""
    variant = ""
    try:
        payload, variant = _as_document(payload)
        document = docx.Document(io.BytesIO(payload))
        body = _walk(document.element.body)
        notes: list[str] = []
        for rel in document.part.rels.values():
            if rel.is_external or rel.reltype not in (RT.FOOTNOTES, RT.ENDNOTES):
                continue
            root = parse_xml(rel.target_part.blob)
            for note in root:
                if note.get(f"{_W}type") not in _NOTE_TYPES:
                    notes.append(_walk(note))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError, EOFError) as exc:
        # python-docx loads the whole package and fails on any part it cannot resolve (a
        # missing picture, a damaged theme, ISO Strict's namespaces), although the text is
        # one part: read that part alone before calling the document damaged.
        body, notes = _main_part_only(payload, exc)
    text = _tidy(body)
    note_text = "\n".join(_tidy(n) for n in notes if n.strip())
    meta: dict[str, object] = {"notes": len(notes)} if notes else {}
    if variant:
        meta["variant"] = variant  # macros are never run: only the text is read
    return Document(format="docx", text=f"{text}\n\n{note_text}" if note_text else text, meta=meta)


_STRICT = b"http://purl.oclc.org/ooxml/wordprocessingml/main"
_TRANSITIONAL = _W[1:-1].encode()
_MAIN_PART = re.compile(
    rb'PartName="/?([^"]+)"\s+ContentType="[^"]*(?:wordprocessingml|ms-word)[^"]*main\+xml"'
)


def _main_part_only(payload: bytes, failure: Exception) -> tuple[str, list[str]]:
    """The body text of the main document part alone (notes are not looked for)."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            names = set(archive.namelist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
            found = _MAIN_PART.search(types)
            name = found.group(1).decode("utf-8", "replace") if found else "word/document.xml"
            if name not in names:
                raise KeyError(name)
            xml = archive.read(name).replace(_STRICT, _TRANSITIONAL)
        return _walk(parse_xml(xml)), []
    except Exception:  # noqa: BLE001 - the first failure is the one worth reporting
        if isinstance(failure, PackageNotFoundError):
            raise ExtractionError("not a Word document (no main document part)") from None
        raise ExtractionError(f"damaged docx: {type(failure).__name__}: {failure}") from None


def _as_document(payload: bytes) -> tuple[bytes, str]:
    """``payload`` with a .docm/.dotx/.dotm main part relabelled as a document's, and which
    variant it was ("" for a plain .docx, returned as it is)."""
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        types = archive.read("[Content_Types].xml")
        found = next((v for k, v in _VARIANTS.items() if k in types), "")
        if not found:
            return payload, ""
        for kind in _VARIANTS:
            types = types.replace(kind, _DOCUMENT_MAIN)
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as copy:
            for info in archive.infolist():
                data = types if info.filename == "[Content_Types].xml" else archive.read(info)
                copy.writestr(info.filename, data)
    return out.getvalue(), found


def _walk(root: Any) -> str:
    """The text of ``root`` in document order, without recursion (hostile nesting depth).

    A table cell's paragraphs are joined on one line and a row's cells by tabs, so each row
    stays one line of text.
    """
    buffers: list[list[str]] = [[]]  # one per open table row and cell
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, done = stack.pop()
        tag = element.tag
        if done:
            if tag == _P:
                buffers[-1].append("\n")
            elif tag == _TC:
                lines = "".join(buffers.pop()).split("\n")
                buffers[-1].append(" ".join(s.strip() for s in lines if s.strip()) + "\t")
            else:  # _TR
                row = "".join(buffers.pop()).rstrip("\t")
                buffers[-1].append(row + "\n")
            continue
        if not isinstance(tag, str) or tag in _SKIP:
            continue  # comments and processing instructions have a non-string tag
        if tag == _T:
            buffers[-1].append(element.text or "")
            continue
        if tag in _INLINE:
            buffers[-1].append(_INLINE[tag])
            continue
        if tag in (_TC, _TR):
            buffers.append([])
        if tag in (_P, _TC, _TR):
            stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))
    return "".join(buffers[0])


def _tidy(text: str) -> str:
    lines = [line.rstrip("\t ") for line in text.split("\n")]
    return "\n".join(lines).strip("\n")
