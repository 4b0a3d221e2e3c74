"""For each format, the share of documents that yield their text, and that become the article
under the usual cover note ("编辑老师您好：稿件见附件，请查收。谢谢！").

    .venv/bin/python benchmarks/format_yield.py DIR_OR_FILE [...]

Files are read by intake's real extraction (child processes, limits); the format is what
extraction found, grouped by the file's extension. Empty documents count as failures, so
run it on folders of real documents (public projects' test files, a desk's archive).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

from intake.core.config import ExtractConfig
from intake.documents.articles import choose
from intake.documents.extract import extract

COVER_NOTE = "编辑老师您好：稿件见附件，请查收。谢谢！"


def files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for path in map(Path, paths):
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return found


def main(paths: list[str]) -> None:
    yielded: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # read, chosen, total
    failures: list[str] = []
    for path in files(paths):
        ext = path.suffix.lower().lstrip(".") or "(none)"
        result = extract(path.name, "application/octet-stream", path.read_bytes(), ExtractConfig())
        counts = yielded[ext]
        counts[2] += 1
        if result.kind == "document" and result.text.strip() and not result.error:
            counts[0] += 1
            counts[1] += choose(COVER_NOTE, [(path.name, result.text)]).from_documents
        else:
            failures.append(f"{path.name}: {result.kind}/{result.format} {result.error}")
    print(f"{'format':8s} {'files':>5s} {'text':>12s} {'article':>12s}")
    for ext, (read, chosen, total) in sorted(yielded.items()):
        print(
            f"{ext:8s} {total:5d} {read:5d} {read / total:6.0%} {chosen:5d} {chosen / total:6.0%}"
        )
    for line in failures:
        print("  not read:", line)


if __name__ == "__main__":
    main(sys.argv[1:])
