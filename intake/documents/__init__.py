"""Readers for hostile attachment formats, one third-party library per module, run in a child.

Each reader takes the attachment's bytes and returns a :class:`Document`, or raises
:class:`~intake.core.errors.ExtractionError` with a reason a person can read. They are called only
from :mod:`intake.documents.worker`, inside a child process with memory and time limits, because
a parser stuck in C code or a decompression bomb cannot be stopped from inside the process.
:mod:`intake.documents.zips` is one exception: it only reads a zip's central directory, so
:mod:`intake.documents.extract` may call it in-process to refuse zip bombs before any child starts.
:mod:`intake.documents.images` is the other, for JPEG, PNG, GIF and BMP only, whose headers
Pillow parses in Python without decoding a pixel.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Document:
    """What a reader got out of one file."""

    format: str  # the format the reader found, which can refine the sniffed one ("ole" -> "doc")
    text: str = ""
    encrypted: bool = False
    note: str = ""  # why there is no text although nothing failed: encrypted, unsupported
    meta: dict[str, object] = field(default_factory=dict)  # JSON-serialisable
