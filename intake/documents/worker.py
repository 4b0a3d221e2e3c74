"""Child process that runs one document reader under memory and CPU limits and prints JSON.

Started by :mod:`intake.documents.extract` as ``python -m intake.documents.worker FORMAT MAX_CHARS
MAX_MEMBERS MEMORY_BYTES CPU_SECONDS`` with the attachment on stdin. It writes one JSON object
(``format``, ``text``, ``encrypted``, ``note``, ``meta``, ``error``) to stdout and exits 0, or
exits non-zero when it cannot even do that (killed, out of memory); the parent turns either
into a recorded reason.

With ``--serve`` in place of FORMAT it stays and reads one file after another
(:mod:`intake.documents.pool`): each request is a frame (4-byte length, the format; 8-byte
length, the file) on stdin, each answer a frame (4-byte length, the JSON) on stdout, under the
same address-space limit for its whole life and CPU_SECONDS more CPU time for each file.

Parsers of hostile files run here and not in the daemon because Python code stuck in a C
extension cannot be interrupted, and a memory limit is per process.
"""

from __future__ import annotations

import json
import resource
import struct
import sys
import traceback
from collections.abc import Sequence
from typing import BinaryIO

from intake.core.errors import ExtractionError
from intake.documents import Document

EXIT_OUT_OF_MEMORY = 3
EXIT_USAGE = 2
MAX_LISTED = 1000  # archive member names kept in meta; the count is always exact
# Under the address-space limit C code fails in its own words, not with MemoryError: zlib's
# Z_MEM_ERROR, the loader unable to map a shared library.
_OUT_OF_MEMORY_SIGNS = ("Error -4 ", "failed to map segment", "Cannot allocate memory")


def read(fmt: str, payload: bytes, max_chars: int, max_members: int) -> Document:
    """Run the reader for ``fmt``; imports only that reader, which keeps start-up short."""
    if fmt == "docx":
        from intake.documents.docx import read_docx

        return read_docx(payload)
    if fmt == "odt":
        from intake.documents.odt import read_odt

        return read_odt(payload)
    if fmt == "ole":
        from intake.documents.ole import read_ole

        return read_ole(payload, max_chars)
    if fmt == "pdf":
        from intake.documents.pdf import read_pdf

        return read_pdf(payload, max_chars)
    if fmt == "rtf":
        from intake.documents.rtf import read_rtf

        return read_rtf(payload)
    if fmt == "image":
        from intake.documents.images import read_image

        return read_image(payload)
    if fmt == "rar":
        try:
            from intake.documents.rar import list_rar
        except ImportError:
            raise ExtractionError("members not listed: rarfile is not installed") from None
        return list_rar(payload, max_members, MAX_LISTED)
    if fmt == "7z":
        try:
            from intake.documents.sevenzip import list_7z
        except ImportError:
            raise ExtractionError("members not listed: py7zr is not installed") from None
        return list_7z(payload, max_members, MAX_LISTED)
    raise ExtractionError(f"no reader for {fmt!r}")


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    # Address space rather than resident size: it is the limit Linux enforces at allocation,
    # so a bomb fails with MemoryError instead of drawing the OOM killer onto the machine.
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    # A backstop for the parent's wall-clock timeout in case the parent itself is gone.
    hard = cpu_seconds if cpu_seconds == resource.RLIM_INFINITY else cpu_seconds + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core files full of contributors' text


def answer(fmt: str, payload: bytes, max_chars: int, max_members: int) -> dict[str, object] | None:
    """The JSON-ready answer for one file (None: the reader ran out of memory)."""
    try:
        doc = read(fmt, payload, max_chars, max_members)
    except ExtractionError as exc:
        return {"format": fmt, "error": str(exc)}
    except MemoryError:
        raise
    except Exception as exc:  # the reader's library failed on hostile input: record it
        if any(sign in str(exc) for sign in _OUT_OF_MEMORY_SIGNS):
            return None
        traceback.print_exc(file=sys.stderr)
        return {"format": fmt, "error": f"cannot read {fmt}: {type(exc).__name__}: {exc}"}
    return {
        "format": doc.format,
        "text": doc.text[:max_chars],
        "truncated": len(doc.text) > max_chars,
        "encrypted": doc.encrypted,
        "note": doc.note,
        "meta": doc.meta,
    }


def _read_exactly(stream: BinaryIO, size: int) -> bytes | None:
    data = stream.read(size)
    return data if len(data) == size else None


def serve(max_chars: int, max_members: int, cpu_seconds: int) -> int:
    """Answer files until stdin ends; each gets ``cpu_seconds`` more CPU time than spent so far
    (the soft limit moves; the parent's wall clock is the first guard)."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exactly(stdin, 4)
        if head is None:
            return 0
        fmt_bytes = _read_exactly(stdin, struct.unpack(">I", head)[0])
        size = _read_exactly(stdin, 8)
        if fmt_bytes is None or size is None:
            return 0
        payload = _read_exactly(stdin, struct.unpack(">Q", size)[0])
        if payload is None:
            return 0
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime) + 1
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, hard))
        try:
            result = answer(fmt_bytes.decode("ascii"), payload, max_chars, max_members)
            if result is None:
                return EXIT_OUT_OF_MEMORY
            out = json.dumps(result).encode()
        except MemoryError:
            return EXIT_OUT_OF_MEMORY
        del payload
        stdout.write(struct.pack(">I", len(out)) + out)
        stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 5:
        sys.stderr.write(__doc__ or "")
        return EXIT_USAGE
    fmt = args[0]
    max_chars, max_members, memory_bytes, cpu_seconds = (int(a) for a in args[1:])
    if fmt == "--serve":
        _limit(memory_bytes, resource.RLIM_INFINITY)
        return serve(max_chars, max_members, cpu_seconds)
    _limit(memory_bytes, cpu_seconds)
    try:
        payload = sys.stdin.buffer.read()
        result = answer(fmt, payload, max_chars, max_members)
        if result is None:
            return EXIT_OUT_OF_MEMORY
        out = json.dumps(result)
    except MemoryError:
        return EXIT_OUT_OF_MEMORY
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
