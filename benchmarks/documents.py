"""Documents read per second: a process per document against the long-lived readers of
intake.documents.pool (run on demand, prints numbers).

    .venv/bin/python benchmarks/documents.py [--count 100]

1. Extraction alone: ``--count`` documents (the .docx, .doc, .odt, .pdf and .rtf test files in
   turn) through ``extract()``, each in a process of its own, then through the pool.
2. Ingest: ``--count`` submissions, each with one .docx, recorded by the Recorder on SQLite
   (the same path as a poll, without IMAP), with a process per document, then with the pool.
Prints documents/s for each and the interpreters the pool started (target >= 20 documents/s).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from intake.core.config import ExtractConfig  # noqa: E402
from intake.core.mail import MessageRef, RawMail  # noqa: E402
from intake.documents.extract import extract  # noqa: E402
from intake.documents.pool import Readers  # noqa: E402
from tests.helpers import make_app, settings_for, submission  # noqa: E402

DOCS = ROOT / "tests" / "data" / "docs"
FILES = ["article-zh-libreoffice.docx", "article-zh.doc", "article-zh.odt", "article-zh.pdf",
         "article-zh.rtf", "poem-zh.docx", "poem-zh.pdf", "article-en.pdf"]  # fmt: skip
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def extraction(count: int) -> None:
    limits = ExtractConfig()
    files = [(name, (DOCS / name).read_bytes()) for name in FILES]
    started = time.perf_counter()
    for i in range(count):
        name, data = files[i % len(files)]
        assert not extract(name, "application/octet-stream", data, limits).error
    alone = count / (time.perf_counter() - started)
    readers = Readers(limits, limits.worker_memory_bytes)
    started = time.perf_counter()
    for i in range(count):
        name, data = files[i % len(files)]
        assert not extract(name, "application/octet-stream", data, limits, readers=readers).error
    pooled = count / (time.perf_counter() - started)
    readers.close()
    print(f"extraction, {count} documents: a process each {alone:5.1f}/s; "
          f"pool {pooled:5.1f}/s ({readers.started} interpreters)")  # fmt: skip


def ingest(count: int, pooled: bool) -> float:
    docx = (DOCS / "article-zh-libreoffice.docx").read_bytes()
    with tempfile.TemporaryDirectory(prefix="intake-docs-") as tmp:
        work = Path(tmp)
        app = make_app(settings_for(work, f"sqlite:///{work}/intake.db"))
        recorder = app.ingestor.recorder
        if not pooled:
            recorder.readers = None
        raws = [
            submission(sender=f"作者{i} <w{i}@qq.example>", subject=f"稿件 {i}",
                       body="稿件见附件，请查收。", attachments=[(f"稿件{i}.docx", DOCX, docx)])
            for i in range(count)
        ]  # fmt: skip
        started = time.perf_counter()
        for uid, raw in enumerate(raws, start=1):
            app.ingestor.ingest(RawMail(MessageRef("bench", "INBOX", 1, uid), raw))
        rate = count / (time.perf_counter() - started)
        app.close()
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    args = parser.parse_args()
    extraction(args.count)
    alone, pooled = ingest(args.count, pooled=False), ingest(args.count, pooled=True)
    print(f"ingest, {args.count} submissions with a .docx: a process each {alone:5.1f}/s; "
          f"pool {pooled:5.1f}/s (target >= 20)")  # fmt: skip


if __name__ == "__main__":
    main()
