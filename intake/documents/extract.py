"""Attachments to text and metadata, the article among body and documents, and its word count.

:func:`extract` decides a file's format from its bytes first and its name second (senders
mislabel files), refuses oversized input and zip bombs before opening anything, reads plain
text and HTML in-process, and hands every binary format to :mod:`intake.documents.worker` in a
child process with a wall-clock timeout and an address-space limit. Nothing it does raises:
every failure comes back as a one-line reason in :attr:`Extracted.error`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from intake.core.config import ExtractConfig
from intake.core.errors import ExtractionError
from intake.documents import eml, zips
from intake.documents import worker as extract_worker
from intake.documents.pool import Readers
from intake.documents.worker import EXIT_OUT_OF_MEMORY, MAX_LISTED
from intake.text.charsets import decode_text
from intake.text.htmltext import html_to_text

log = logging.getLogger(__name__)

#: Address-space limit of the extraction child. Python, lxml and PDFium take about 50 MiB of
#: it before reading anything; the rest bounds what one hostile document can allocate.
DEFAULT_MEMORY_BYTES = 1024 * 1024 * 1024

DOCUMENT_FORMATS = frozenset({"docx", "doc", "odt", "rtf", "pdf", "txt", "md", "html", "eml"})
IMAGE_FORMATS = frozenset({"jpeg", "png", "gif", "webp", "tiff", "bmp", "heic", "avif"})
#: Photos whose header Pillow parses in Python without decoding a pixel: read in-process,
#: which saves a child process (about 70 ms) per photo. The others go to the child, because
#: Pillow hands them to C decoders (libwebp, libtiff, libavif) just to read the header.
HEADER_ONLY_IMAGES = frozenset({"jpeg", "png", "gif", "bmp"})
ARCHIVE_FORMATS = frozenset({"zip", "rar", "7z"})
_WORKER_FORMATS = frozenset({"docx", "odt", "ole", "pdf", "rtf", "rar", "7z"})


@dataclass(frozen=True)
class Extracted:
    """What one attachment yielded.

    ``error`` is "" when the file was read as far as its kind allows (text for documents,
    header metadata for images, member names for archives); otherwise it says why not, and
    an encrypted file has ``encrypted=True`` with the reason there.
    """

    kind: str  # "document", "image", "archive" or "other"
    format: str  # "docx", "doc", "pdf", "jpeg", "zip", ... or the file's extension
    text: str = ""
    error: str = ""
    encrypted: bool = False
    meta: dict[str, object] = field(default_factory=dict)  # JSON-serialisable


def kind_of(fmt: str) -> str:
    """The kind of attachment a format is."""
    if fmt in DOCUMENT_FORMATS:
        return "document"
    if fmt in IMAGE_FORMATS:
        return "image"
    if fmt in ARCHIVE_FORMATS:
        return "archive"
    return "other"


def extract(
    filename: str,
    content_type: str,
    payload: bytes,
    limits: ExtractConfig,
    *,
    memory_bytes: int = DEFAULT_MEMORY_BYTES,
    readers: Readers | None = None,
) -> Extracted:
    """Read one attachment within ``limits``; never raises. ``readers``: long-lived reading
    processes to use (:mod:`intake.documents.pool`); without them each binary file gets a
    process of its own."""
    fmt, by_content = _detect(filename, content_type, payload)
    # What to call the file if its container turns out unreadable: a damaged .docx is still
    # a document to the editor who opens the queue.
    claimed = _CLAIMED.get((fmt, _extension(filename)), fmt)
    if len(payload) > limits.max_attachment_bytes:
        return Extracted(
            kind_of(claimed),
            claimed,
            error=f"too large to read: {len(payload)} bytes (limit {limits.max_attachment_bytes})",
        )
    if not by_content and kind_of(fmt) != "other":
        return Extracted(kind_of(fmt), fmt, error=f"not a {fmt} file: its content is unrecognised")
    try:
        result = _extract(
            fmt, content_type, payload, limits, memory_bytes, _extension(filename), readers
        )
    except ExtractionError as exc:
        return Extracted(kind_of(claimed), claimed, error=str(exc))
    except Exception as exc:  # a bug of ours must not lose the message being ingested
        log.exception("extracting %r (%s) failed", filename, fmt)
        return Extracted(kind_of(claimed), claimed, error=f"internal error: {type(exc).__name__}")
    if result.format == "ole" and claimed == "doc":
        # a .doc whose OLE container holds no Word stream: damaged, as far as the sender knows
        return Extracted("document", "doc", error=str(result.meta.get("note", "no Word text")))
    return result


def format_of(filename: str, content_type: str, payload: bytes) -> str:
    """The format :func:`extract` would read the attachment as ("docx", "jpeg", "txt", ...)."""
    return _detect(filename, content_type, payload)[0]


def needs_worker(filename: str, content_type: str, payload: bytes, limits: ExtractConfig) -> bool:
    """Whether :func:`extract` would hand this attachment to the worker process (tens of
    milliseconds or more, where the in-process readers take microseconds): ingest reads such
    attachments outside its write transaction."""
    fmt, by_content = _detect(filename, content_type, payload)
    if len(payload) > limits.max_attachment_bytes or (not by_content and kind_of(fmt) != "other"):
        return False
    if fmt in IMAGE_FORMATS:
        return fmt not in HEADER_ONLY_IMAGES and fmt != "heic"
    return fmt == "zip" or fmt in _WORKER_FORMATS


_CLAIMED = {
    **{("zip", ext): "docx" for ext in ("docx", "docm", "dotx", "dotm", "wps", "doc")},
    **{("zip", ext): "odt" for ext in ("odt", "ott")},
    **{("ole", ext): "doc" for ext in ("doc", "dot", "wps", "docx")},
}


def _extract(
    fmt: str,
    content_type: str,
    payload: bytes,
    limits: ExtractConfig,
    memory_bytes: int,
    extension: str = "",
    readers: Readers | None = None,
) -> Extracted:
    if fmt in ("txt", "md", "html"):
        return _read_text(fmt, content_type, payload, limits)
    if fmt == "eml":
        _subject, text = eml.read_eml(payload)
        return Extracted("document", "eml", text=_scrub(text)[: limits.max_text_chars])
    if fmt == "heic":
        return Extracted("image", fmt, error="no reader for HEIC images: size and EXIF not read")
    if fmt == "zip":
        census = zips.census(payload, limits.max_archive_members)
        fmt = _zip_format(census, payload, extension)
        if fmt == "zip":
            return _zip_listing(census)
        if fmt not in ("docx", "odt"):
            return Extracted(kind_of(fmt), fmt, meta={"note": f"no text extraction for {fmt}"})
        if census.unpacked_bytes > limits.max_unpacked_bytes:
            return Extracted(
                "document",
                fmt,
                error=f"{fmt} would unpack to {census.unpacked_bytes} bytes "
                f"(limit {limits.max_unpacked_bytes}); not opened",
            )
    if fmt in HEADER_ONLY_IMAGES:
        result = _read_image_header(payload, limits)
    elif fmt in IMAGE_FORMATS:
        result = _run_worker("image", payload, limits, memory_bytes, readers)
    elif fmt in _WORKER_FORMATS:
        result = _run_worker(fmt, payload, limits, memory_bytes, readers)
    else:
        return Extracted(kind_of(fmt), fmt)
    return _from_worker(fmt, result)


# --------------------------------------------------------------------------- format sniffing

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (_OLE_MAGIC, "ole"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # an empty zip
    (b"PK\x07\x08", "zip"),  # a split-archive marker before the first entry
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
)
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})
_TEXT_EXTENSIONS = {"txt": "txt", "text": "txt", "md": "md", "markdown": "md"}
_HTML_EXTENSIONS = frozenset({"html", "htm", "xhtml"})
# Extensions under which contributors send what turns out to be plain text.
_TEXTUAL_OK = frozenset({"", "doc", "docx", "wps", "rtf", "txt", "text", "md", "markdown"})
OCTET_STREAM = "application/octet-stream"
# Names for a format by its usual extensions, for files whose bytes do not bear the name out.
_EXTENSION_FORMATS = {
    **{ext: "doc" for ext in ("doc", "dot", "wps")},
    **{ext: "docx" for ext in ("docx", "docm", "dotx", "dotm")},
    **{ext: "odt" for ext in ("odt", "ott")},
    **{ext: "jpeg" for ext in ("jpg", "jpeg", "jpe", "jfif")},
    **{ext: "tiff" for ext in ("tif", "tiff")},
    **{ext: "html" for ext in ("htm", "html", "xhtml")},
    **{ext: "heic" for ext in ("heic", "heif")},
    **_TEXT_EXTENSIONS,
}
_HTML_START = (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta")
_WHITESPACE = b" \t\r\n\x0c"
_BOM = b"\xef\xbb\xbf"


def detect_format(filename: str, content_type: str, payload: bytes) -> str:
    """The file's format by its magic bytes, else by its name and declared type.

    Zip and OLE containers come back as "zip" and "ole"; :func:`extract` looks inside to tell
    a .docx from an archive and a .doc from a spreadsheet.
    """
    return _detect(filename, content_type, payload)[0]


def _detect(filename: str, content_type: str, payload: bytes) -> tuple[str, bool]:
    """The format, and whether the bytes bear it out (False: only the file name says so)."""
    fmt = _sniff(payload)
    if fmt:
        return fmt, True
    start = payload[:1024].removeprefix(_BOM).lstrip(_WHITESPACE)
    ext = _extension(filename)
    mime = content_type.partition(";")[0].strip().lower()
    if (ext == "eml" or mime in ("message/rfc822", "message/global")) and (
        eml.looks_like_message(payload)
    ):
        return "eml", True
    if not _looks_binary(payload):
        if (
            start.lower().startswith(_HTML_START)
            or ext in _HTML_EXTENSIONS
            or mime in ("text/html", "application/xhtml+xml")
        ):
            return "html", True
        if (
            ext in _TEXT_EXTENSIONS
            or mime in ("text/plain", "text/markdown")
            or (ext in _TEXTUAL_OK and mime in ("", OCTET_STREAM, "application/msword"))
        ):
            return _TEXT_EXTENSIONS.get(ext, "txt"), True
    return _EXTENSION_FORMATS.get(ext, ext) or "bin", False


def _sniff(payload: bytes) -> str:
    """The format that the magic bytes at the start of ``payload`` announce, or ""."""
    for magic, fmt in _MAGIC:
        if payload.startswith(magic):
            return fmt
    if b"%PDF-" in payload[:1024]:  # readers accept a header anywhere in the first KiB
        return "pdf"
    if payload[4:8] == b"ftyp":
        brand = payload[8:12]
        if brand in _AVIF_BRANDS or (brand == b"mif1" and b"avif" in payload[16:64]):
            return "avif"
        if brand in _HEIC_BRANDS:
            return "heic"
    if payload.startswith(b"RIFF") and payload[8:12] == b"WEBP":
        return "webp"
    if (
        payload.startswith(b"BM")
        and len(payload) >= 18
        and int.from_bytes(payload[14:18], "little") in _BMP_HEADER_SIZES
    ):
        return "bmp"
    if payload[:1024].removeprefix(_BOM).lstrip(_WHITESPACE).startswith(b"{\\rtf"):
        return "rtf"
    return ""


def _extension(filename: str) -> str:
    name = filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    stem, dot, ext = name.rpartition(".")
    return ext.strip().lower() if dot and stem and len(ext) <= 10 else ""


def _looks_binary(payload: bytes) -> bool:
    head = payload[:8192]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False  # UTF-16 text with a byte order mark
    return b"\x00" in head


def _zip_format(census: zips.Census, payload: bytes, extension: str = "") -> str:
    names = census.names
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
    if payload[30:38] == b"mimetype":
        # OpenDocument and EPUB store their media type uncompressed as the first member.
        mimetype = payload[38:120].split(b"PK", 1)[0]
        for marker, fmt in ((b"opendocument.text", "odt"), (b"epub", "epub")):
            if marker in mimetype:
                return fmt
        return "opendocument"
    if {"content.xml", "META-INF/manifest.xml"} <= set(names) and extension in ("odt", "ott"):
        # ODF written by a tool that did not store "mimetype" first: its name says text.
        return "odt"
    return "zip"


# --------------------------------------------------------------------------- in-process readers

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.I)
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.I)


def _read_text(fmt: str, content_type: str, payload: bytes, limits: ExtractConfig) -> Extracted:
    match = _CHARSET_PARAM.search(content_type)
    label = match.group(1) if match else None
    if fmt == "html" and label is None:
        found = _META_CHARSET.search(payload[:4096])
        label = found.group(1).decode("ascii") if found else None
    text, notes = decode_text(payload, label)
    if fmt == "html":
        text = html_to_text(text)
    meta: dict[str, object] = {"charset_notes": notes} if notes else {}
    text = _scrub(text).strip()
    if len(text) > limits.max_text_chars:
        text = text[: limits.max_text_chars]
        meta["truncated"] = True
    return Extracted("document", fmt, text=text, meta=meta)


def _zip_listing(census: zips.Census) -> Extracted:
    meta: dict[str, object] = {
        "member_count": len(census.members),
        "members": [m.name for m in census.members[:MAX_LISTED]],
        "unpacked_bytes": census.unpacked_bytes,
    }
    locked = sum(1 for m in census.members if m.encrypted)
    if locked:
        meta["encrypted_members"] = locked
        reason = f"encrypted: {locked} of {len(census.members)} members need a password"
        return Extracted("archive", "zip", error=reason, encrypted=True, meta=meta)
    return Extracted("archive", "zip", meta=meta)


# Characters a database or a reader cannot take: NUL (PostgreSQL text rejects it), other C0
# controls, and lone surrogates from damaged UTF-16.
_UNWANTED = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")


def _scrub(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n")
    return _UNWANTED.sub(lambda m: "" if m.group(0) < "\ud800" else "\ufffd", text)


# --------------------------------------------------------------------------- the child process


def _read_image_header(payload: bytes, limits: ExtractConfig) -> dict[str, object]:
    answer = extract_worker.answer(
        "image", payload, limits.max_text_chars, limits.max_archive_members
    )
    if answer is None:
        raise ExtractionError("ran out of memory reading the image header")
    return answer


def _run_worker(
    fmt: str,
    payload: bytes,
    limits: ExtractConfig,
    memory_bytes: int,
    readers: Readers | None = None,
) -> dict[str, object]:
    """Run the reader for ``fmt`` in a child process (one of ``readers``, else its own); its
    JSON answer, or ExtractionError."""
    if readers is not None:
        return readers.run(fmt, payload)
    cpu_seconds = max(1, math.ceil(limits.timeout_seconds)) + 1
    command = [
        sys.executable,
        "-m",
        "intake.documents.worker",
        fmt,
        str(limits.max_text_chars),
        str(limits.max_archive_members),
        str(memory_bytes),
        str(cpu_seconds),
    ]
    # A fresh, minimal environment: the child parses hostile files and has no business with
    # the daemon's passwords (password_env). It gets our import path instead, so it imports
    # the same intake and libraries however the daemon was installed or started.
    path = os.pathsep.join(entry for entry in sys.path if entry)
    env = {"PYTHONPATH": path, "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        done = subprocess.run(
            command,
            input=payload,
            capture_output=True,
            timeout=limits.timeout_seconds,
            env=env,
            cwd="/",  # python -m puts the working directory on sys.path
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ExtractionError(f"timed out after {limits.timeout_seconds:g} s") from None
    except OSError as exc:
        raise ExtractionError(f"could not start the extraction process: {exc}") from None
    code = done.returncode
    if code == EXIT_OUT_OF_MEMORY or (code != 0 and b"MemoryError" in done.stderr):
        raise ExtractionError(f"ran out of memory (limit {memory_bytes // (1024 * 1024)} MiB)")
    if code < 0:
        name = _signal_name(-code)
        if -code in (signal.SIGXCPU, signal.SIGKILL):
            raise ExtractionError(f"stopped by the CPU time limit ({name})")
        raise ExtractionError(f"the reader crashed ({name})")
    if code != 0:
        lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ExtractionError(f"extraction process failed: {lines[-1] if lines else code}")
    try:
        result = json.loads(done.stdout)
    except ValueError:
        raise ExtractionError("extraction process gave no answer") from None
    if not isinstance(result, dict):
        raise ExtractionError("extraction process gave a malformed answer")
    return result


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _from_worker(fmt: str, result: dict[str, object]) -> Extracted:
    """The child's answer for a file sniffed as ``fmt`` (an image format, "ole", "docx", ...)."""
    error = str(result.get("error") or "")
    if error:
        if fmt == "ole":
            raise ExtractionError(error)  # extract() names it by its extension: .doc or not
        return Extracted(kind_of(fmt), fmt, error=error)
    found = str(result.get("format") or fmt)
    kind = "image" if fmt in IMAGE_FORMATS else kind_of(found)
    meta = result.get("meta")
    meta = dict(meta) if isinstance(meta, dict) else {}
    encrypted = bool(result.get("encrypted"))
    note = str(result.get("note") or "")
    if note and (encrypted or kind != "other"):
        error = note
    elif note:
        meta["note"] = note  # e.g. a spreadsheet: nothing failed, there is just no text
    if result.get("truncated"):
        meta["truncated"] = True
    text = _scrub(str(result.get("text") or "")).strip()
    return Extracted(kind, found, text=text, error=error, encrypted=encrypted, meta=meta)


# --------------------------------------------------------------------------- counting

# Characters Word and WPS count one by one in 字数: Han ideographs, kana, Hangul, bopomofo,
# CJK punctuation and full-width forms (U+3000, the ideographic space, is not counted).
_CJK = (
    "\u1100-\u11ff\u2e80-\u2fdf\u3001-\u303f\u3040-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\ua960-\ua97f\uac00-\ud7af\uf900-\ufaff\ufe10-\ufe1f\ufe30-\ufe4f\uff01-\uffdc"
    "\U00020000-\U0003134f"
)
# Punctuation shared with Western text (quotes, ellipsis, dashes, middle dot): counted as
# Chinese characters when it touches Chinese text, as it is then set in a Chinese font.
_SHARED = "\u00b7\u2014\u2015\u2018\u2019\u201c\u201d\u2026"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_SHARED_RUN = re.compile(f"(?<=[{_CJK}])[{_SHARED}]+|[{_SHARED}]+(?=[{_CJK}])")
_WORD = re.compile(r"[^\W_]+(?:['’.,\-][^\W_]+)*")


def count_words(text: str) -> tuple[int, int]:
    """``(char_count, word_count)`` as Word and WPS count 字数 and non-Chinese words.

    char_count is every CJK character (full-width punctuation included) plus every word of
    non-CJK text; word_count is the non-CJK words alone.
    """
    cjk = len(_CJK_CHAR.findall(text))
    shared = sum(len(m.group(0)) for m in _SHARED_RUN.finditer(text))
    words = len(_WORD.findall(_CJK_CHAR.sub(" ", text)))
    return cjk + shared + words, words
