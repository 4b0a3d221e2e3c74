"""One message's budget: the decoded bytes stored and the attachments read."""

from __future__ import annotations

import itertools

from intake.core.config import ExtractConfig
from intake.core.mail import ParsedAttachment
from intake.ingest import budget


def attachment(size: int, name: str = "a.bin") -> ParsedAttachment:
    return ParsedAttachment(name, name, "application/octet-stream", b"x" * size)


def test_the_default_cap_is_three_times_the_raw_message() -> None:
    assert budget.decoded_limit(0, 1000) == 3000
    assert budget.decoded_limit(500, 1000) == 500


def test_attachments_are_kept_in_order_until_one_would_pass_the_cap() -> None:
    sizes = [400, 400, 300, 100, 50]
    assert budget.kept([attachment(s) for s in sizes], 1000) == (True, True, False, False, False)
    assert budget.kept([attachment(s) for s in sizes], 10_000) == (True,) * 5
    assert budget.kept([], 0) == ()


def test_reading_stops_at_the_count_and_lists_the_rest() -> None:
    files = [attachment(10, f"{i}.txt") for i in range(5)]
    limits = ExtractConfig(max_attachments_read=2)
    found = budget.read_all(
        files, {1: "omitted: test"}, limits, content_type=lambda a: "text/plain"
    )
    assert [found[i].error for i in range(5)] == [
        "",
        "omitted: test",
        "",
        "not read: the message's budget (2 attachments) is spent",
        "not read: the message's budget (2 attachments) is spent",
    ]


def test_reading_stops_when_the_time_is_spent_and_cuts_each_document_s_limit() -> None:
    files = [attachment(10, f"{i}.txt") for i in range(4)]
    ticks = itertools.count(step=25.0)
    limits = ExtractConfig(message_timeout_seconds=60.0)
    found = budget.read_all(
        files, {}, limits, content_type=lambda a: "text/plain", monotonic=lambda: next(ticks)
    )
    assert [found[i].error for i in range(4)] == [
        "",
        "",
        "not read: the message's budget (60 seconds) is spent",
        "not read: the message's budget (60 seconds) is spent",
    ]
