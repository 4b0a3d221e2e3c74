"""The parse worker: the same results as in-process, a message that hangs or crashes it named and
handed to the caller's decision, the rest taken over by a new worker, and no message lost when
no worker can run. Failures are made on cue by a parse hook (tests/ingest/poison.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from intake.core.mail import Kind
from intake.ingest import classify, parsing
from intake.ingest.parseahead import ClassifyParams, ParseWorker, parse_and_classify
from intake.replies.render import make_message_id
from tests.helpers import nested, submission
from tests.ingest.poison import parses

SECRET = b"k" * 32
PARAMS = ClassifyParams(frozenset({"tougao@news.example"}), SECRET, ("news.example",), 3.0)
HOOK = "tests.ingest.poison:hook"


def test_worker_parses_and_classifies_like_the_poll_itself(cpython_email_data: Path) -> None:
    raws = [p.read_bytes() for p in sorted(cpython_email_data.glob("msg_*.txt"))]
    raws += [nested(80), submission(attachments=[("稿件.txt", "text/plain", "正文".encode())])]
    with ParseWorker(PARAMS, timeout=60) as worker:
        tickets = [worker.submit(raw) for raw in raws]
        results = [worker.result(t, lambda reason: False) for t in tickets if t is not None]
    assert results == [parse_and_classify(raw, PARAMS) for raw in raws]
    assert isinstance(results[-2], str) and "nested" in results[-2]  # quarantined, not raised
    assert worker.started == 1


def test_the_thread_completes_the_workers_verdict() -> None:
    ours = make_message_id(SECRET, "news.example", now=datetime(2026, 11, 20, tzinfo=UTC),
                           nonce=b"n" * 8)  # fmt: skip
    reply = parsing.parse(submission(subject="Re: 稿件", headers={"In-Reply-To": f"<{ours}>"}))
    unthreaded = classify.classify(reply, PARAMS.context())
    threaded = PARAMS.context(thread_match=ours)
    assert classify.classify(reply, threaded, unthreaded) == classify.classify(reply, threaded)
    assert classify.classify(reply, threaded, unthreaded).kind is Kind.REPLY
    bounce = parsing.parse(
        submission(sender="MAILER-DAEMON <mailer-daemon@qq.example>", subject="Undelivered Mail")
    )
    early = classify.classify(bounce, PARAMS.context())
    assert early.kind is not Kind.SUBMISSION
    assert classify.classify(bounce, threaded, early) == classify.classify(bounce, threaded)


def test_a_crash_names_the_message_and_a_new_worker_takes_the_rest(tmp_path: Path) -> None:
    tally = str(tmp_path / "tally")
    poison = submission(subject="毒", headers={"X-Poison": f"crash {tally}"})
    raws = [submission(subject="一"), poison, submission(subject="三")]
    asked: list[str] = []

    def once(reason: str) -> bool:
        asked.append(reason)
        return len(asked) < 2  # one more try, then give up

    with ParseWorker(PARAMS, timeout=60, hook=HOOK) as worker:
        tickets = [worker.submit(raw) for raw in raws]
        results = [worker.result(t, once) for t in tickets if t is not None]
    assert results[0] == parse_and_classify(raws[0], PARAMS)
    assert results[1] == "the parse worker crashed"
    assert results[2] == parse_and_classify(raws[2], PARAMS)
    assert asked == ["the parse worker crashed"] * 2
    assert parses(tally) == 2
    assert worker.started == 3  # the first, the retry's, and the one after giving up


def test_a_parse_past_its_budget_is_stopped(tmp_path: Path) -> None:
    tally = str(tmp_path / "tally")
    hang = submission(subject="慢", headers={"X-Poison": f"hang {tally}"})
    with ParseWorker(PARAMS, timeout=0.5, hook=HOOK) as worker:
        first, after = worker.submit(hang), worker.submit(submission(subject="后"))
        assert first is not None and after is not None
        assert worker.result(first, lambda reason: False) == "parsing took longer than 0.5 s"
        assert not isinstance(worker.result(after, lambda reason: False), str)


def test_no_worker_leaves_parsing_to_the_caller() -> None:
    with ParseWorker(PARAMS, timeout=60, enabled=False) as worker:
        assert worker.submit(submission()) is None
    with ParseWorker(PARAMS, timeout=60, hook="tests.ingest.no_such_module:hook") as worker:
        ticket = worker.submit(submission())
        assert ticket is not None
        assert worker.result(ticket, lambda reason: False) is None  # the caller parses it
        assert worker.submit(submission()) is None
