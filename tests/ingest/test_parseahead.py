"""Parsing a backlog in a worker process: the same results as in-process, and no message lost
when the worker cannot help."""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path

import pytest

from intake.ingest import parseahead, parsing
from intake.ingest.parseahead import ParseAhead
from tests.helpers import nested, submission


def test_worker_parses_like_the_poll_itself(cpython_email_data: Path) -> None:
    raws = [p.read_bytes() for p in sorted(cpython_email_data.glob("msg_*.txt"))]
    raws += [nested(80), submission(attachments=[("稿件.txt", "text/plain", "正文".encode())])]
    with ParseAhead(enabled=True) as parser:
        futures = parser.submit(raws)
        assert all(f is not None for f in futures)
        results = [f.result(timeout=60) for f in futures if f is not None]
    assert results == [parsing.parse_or_reason(raw) for raw in raws]
    assert isinstance(results[-2], str) and "nested" in results[-2]  # quarantined, not raised


def test_big_messages_and_small_polls_stay_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    small, big = submission(body="短"), submission(body="长" * 200)
    monkeypatch.setattr(parseahead, "MAX_BYTES", len(small))
    with ParseAhead(enabled=True) as parser:
        futures = parser.submit([big, small, big])
    assert futures[0] is None and futures[2] is None
    assert futures[1] is not None
    with ParseAhead(enabled=False) as parser:
        assert parser.submit([small]) == [None]


def test_a_closed_worker_leaves_parsing_to_the_caller() -> None:
    parser = ParseAhead(enabled=True)
    parser.close()
    assert parser.submit([submission()]) == [None]


def test_a_failed_chunk_fails_each_message_future() -> None:
    whole: Future[list[parseahead.Parsed]] = Future()
    mine: list[Future[parseahead.Parsed]] = [Future(), Future()]
    whole.set_exception(RuntimeError("worker died"))
    parseahead._split(whole, mine)
    for future in mine:
        with pytest.raises(RuntimeError, match="worker died"):
            future.result()
