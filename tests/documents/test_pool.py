"""Long-lived document readers: the same answers as a process per file, the same limits (a
reader out of time or memory is killed and the next file gets a fresh one), and a hundred
documents read by a couple of interpreters, not a hundred."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from intake.core.config import ExtractConfig
from intake.documents import pool
from intake.documents.extract import extract
from intake.documents.pool import Readers
from tests.documents.test_extract import GIB, OCTET, _zip_bomb, read

LIMITS = ExtractConfig()
FILES = [
    "article-zh-libreoffice.docx", "article-zh.doc", "article-zh.odt", "article-zh.pdf",
    "article-zh.rtf", "poem-zh.docx", "encrypted.pdf", "rar5-subdirs.rar", "cid-song-gb.pdf",
]  # fmt: skip


@pytest.fixture
def readers() -> Iterator[Readers]:
    found = Readers(LIMITS, 1 << 30)
    yield found
    found.close()


def test_pooled_readers_answer_as_a_process_per_file_does(readers: Readers) -> None:
    for name in FILES:
        alone = extract(name, OCTET, read(name), LIMITS)
        assert extract(name, OCTET, read(name), LIMITS, readers=readers) == alone, name
    assert readers.started == 1  # one file after another: one process read them all


def test_a_hundred_documents_do_not_start_a_hundred_interpreters(readers: Readers) -> None:
    payload = read("article-zh-libreoffice.docx")
    results = [extract("稿件.docx", OCTET, payload, LIMITS, readers=readers) for _ in range(100)]
    assert all("春天里的老街" in r.text for r in results)
    assert readers.started <= pool.SIZE


def test_a_reader_out_of_time_is_killed_and_the_next_file_gets_a_fresh_one() -> None:
    # A reader cannot start and answer within a millisecond: only the wall clock ends it.
    quick = Readers(replace(LIMITS, timeout_seconds=0.001), 1 << 30)
    try:
        first = extract("article-zh.pdf", OCTET, read("article-zh.pdf"), LIMITS, readers=quick)
        assert first.error == "timed out after 0.001 s"
        assert quick.started == 1 and not quick._idle  # killed, not kept
    finally:
        quick.close()


def test_a_reader_out_of_memory_is_replaced(readers: Readers) -> None:
    small = Readers(LIMITS, 256 << 20)
    config = replace(LIMITS, max_unpacked_bytes=2 * GIB)
    try:
        bomb = extract("稿件.docx", OCTET, _zip_bomb(GIB), config, readers=small)
        assert bomb.error == "ran out of memory (limit 256 MiB)"
        after = extract("稿件.docx", OCTET, read("poem-zh.docx"), LIMITS, readers=small)
        assert after.error == "" and after.text
        assert small.started == 2
    finally:
        small.close()


def test_a_reader_retires_after_its_share_of_files(
    readers: Readers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pool, "MAX_FILES", 2)
    for _ in range(3):
        assert extract("稿件.pdf", OCTET, read("article-zh.pdf"), LIMITS, readers=readers).text
    assert readers.started == 2
