"""Compare PDF text engines (pypdf, PDFium via pypdfium2, pdfminer.six) on PDFs: characters,
CJK characters, share of broken characters (private-use, unassigned, controls, U+FFFD,
"(cid:N)"), time. Engines that are not installed are skipped.

    .venv/bin/python benchmarks/pdf_engines.py tests/data/docs/*.pdf [more.pdf ...]
"""

from __future__ import annotations

import io
import logging
import sys
import time
import unicodedata
import warnings
from collections.abc import Callable


def _pypdf(data: bytes) -> str:
    import pypdf

    return "\n".join(p.extract_text() or "" for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def _pdfium(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))


def _pdfminer(data: bytes) -> str:
    from pdfminer.high_level import extract_text

    return str(extract_text(io.BytesIO(data)))


ENGINES: dict[str, Callable[[bytes], str]] = {
    "pypdf": _pypdf, "pypdfium2": _pdfium, "pdfminer.six": _pdfminer,
}  # fmt: skip


def broken(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 1.0
    bad = sum(1 for c in chars if unicodedata.category(c) in ("Co", "Cn", "Cc") or c == "\ufffd")
    return min(1.0, (bad + 5 * text.count("(cid:")) / len(chars))


def cjk(text: str) -> int:
    return sum(1 for c in text if "\u3040" <= c <= "\u9fff")


def main(paths: list[str]) -> None:
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    totals = {name: [0, 0.0, 0.0] for name in ENGINES}  # cjk chars, broken share sum, ms
    for path in paths:
        data = open(path, "rb").read()  # noqa: SIM115
        cells = [path.rsplit("/", 1)[-1][:30].ljust(30)]
        for name, engine in ENGINES.items():
            start = time.perf_counter()
            try:
                text = engine(data)
            except ImportError:
                cells.append(f"{name}: not installed")
                continue
            except Exception as exc:  # noqa: BLE001 - a failing engine is a result
                text = ""
                cells.append(f"{name}: {type(exc).__name__}")
            ms = (time.perf_counter() - start) * 1000
            totals[name][0] += cjk(text)
            totals[name][1] += broken(text)
            totals[name][2] += ms
            cells.append(f"{name}: {cjk(text):5d} CJK {broken(text):4.0%} broken {ms:6.0f} ms")
        print(" | ".join(cells))
    for name, (chars, bad, ms) in totals.items():
        print(f"{name:12s} CJK characters {chars:6d}  mean broken {bad / len(paths):5.1%}  "
              f"total {ms:7.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
