"""Parsing and classifying new mail in a worker process, ahead of recording and under a deadline.

One worker process per poll in progress runs :func:`intake.ingest.parsing.parse_or_reason` and
the classification rules on each message, in the order it was handed them, while the
poll's own thread records the messages already parsed: parsing runs on the second core. The
worker says when it starts each message, so the poll knows what it is working on: a message
that runs past ``ingest.parse_timeout_seconds`` has its worker killed, and one that kills the
worker is known by name. Either way a new worker takes over the messages after it, and the
poll decides (``on_failure``) whether the message gets another try or is quarantined. A worker
that cannot even start leaves parsing to the poll's thread, which is slower and has no
deadline, and never loses a message.

The worker classifies without a thread (it has no database); :func:`intake.ingest.classify.classify`
completes the verdict once the thread is known.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from intake.core.mail import ParsedMail, Verdict
from intake.ingest import classify, parsing
from intake.replies import render

log = logging.getLogger(__name__)

#: A message parsed and classified without its thread, or the reason it could not be.
Parsed = tuple[ParsedMail, Verdict] | str
#: Asked after a message timed out or crashed the worker, with the reason: True to try it
#: again in a new worker, False to give up on it (it is then answered with the reason).
OnFailure = Callable[[str], bool]
#: Workers that die before starting any message, in a row, before parsing moves in-process.
MAX_START_FAILURES = 2
#: Seconds to wait for a sign of life when the worker is not known to be on a message.
_IDLE_WAIT = 1.0


@dataclass(frozen=True, slots=True)
class ClassifyParams:
    """What the classification rules read besides the message, in a form a worker process can
    receive (the Message-ID check is rebuilt from the secret on its side)."""

    own_addresses: frozenset[str]
    reply_secret: bytes
    site_domains: tuple[str, ...]
    claim_threshold: float

    def context(
        self, thread_match: str = "", attachment_texts: tuple[str, ...] = ()
    ) -> classify.ClassifyContext:
        secret = self.reply_secret
        return classify.ClassifyContext(
            own_addresses=self.own_addresses,
            is_own_message_id=lambda mid: render.verify_message_id(secret, mid),
            thread_match=thread_match,
            site_domains=self.site_domains,
            claim_threshold=self.claim_threshold,
            claim_attachment_texts=attachment_texts,
        )


def parse_and_classify(raw: bytes, params: ClassifyParams) -> Parsed:
    """What the worker does with one message (the poll's thread does the same without one)."""
    parsed = parsing.parse_or_reason(raw)
    if isinstance(parsed, str):
        return parsed
    try:
        return parsed, classify.classify(parsed, params.context())
    except Exception as exc:  # noqa: BLE001 - a rule's bug must not stop the mailbox
        log.exception("classification crashed")
        return f"classification crashed: {type(exc).__name__}: {exc}"


def serve(conn: Connection, params: ClassifyParams, hook: str) -> None:
    """The worker's loop: receive ``(ticket, raw)``, say ``("start", ticket, when)``, answer
    ``("done", ticket, parsed)``. ``hook`` ("module:function", tests only) runs before each
    parse, to make one slow or crash on cue."""
    before: Callable[[bytes], None] | None = None
    if hook:
        module, _, name = hook.partition(":")
        before = getattr(importlib.import_module(module), name)
    while True:
        try:
            item = conn.recv()
        except (EOFError, OSError):
            return
        if item is None:
            return
        ticket, raw = item
        conn.send(("start", ticket, time.monotonic()))
        if before is not None:
            before(raw)
        conn.send(("done", ticket, parse_and_classify(raw, params)))


class ParseWorker:
    """One worker process fed in order; ``result`` waits for a message's answer, killing and
    replacing the worker when that message runs out of time or kills it."""

    def __init__(
        self, params: ClassifyParams, *, timeout: float, hook: str = "", enabled: bool = True
    ) -> None:
        self.params = params
        self.timeout = timeout
        self.hook = hook
        self._enabled = enabled
        self._tickets = 0
        self._pending: OrderedDict[int, bytes] = OrderedDict()  # sent, not answered
        self._answers: dict[int, Parsed] = {}
        self._current: tuple[int, float] | None = None  # (ticket, started at) in the worker
        self._start_failures = 0
        self._process: Any = None
        self._conn: Connection | None = None
        self._outbox: queue.SimpleQueue[tuple[int, bytes] | None] | None = None
        #: Workers started (tests and logs: a replaced worker counts again).
        self.started = 0

    # ------------------------------------------------------------------ the contract

    def submit(self, raw: bytes) -> int | None:
        """Hand ``raw`` to the worker; its ticket, or None to parse it in-process."""
        if not self._enabled:
            return None
        if self._process is None:
            self._start()
        self._tickets += 1
        ticket = self._tickets
        self._pending[ticket] = raw
        assert self._outbox is not None
        self._outbox.put((ticket, raw))
        return ticket

    def result(self, ticket: int, on_failure: OnFailure) -> Parsed | None:
        """The answer for ``ticket`` (None: parse it in-process, the worker cannot run)."""
        while ticket not in self._answers:
            if self._process is None or self._conn is None:
                if not self._enabled:
                    self._pending.pop(ticket, None)
                    return None
                self._start()
                continue
            self._receive(ticket, on_failure)
        return self._answers.pop(ticket)

    def close(self) -> None:
        self._stop(kill=False)
        self._pending.clear()

    def __enter__(self) -> ParseWorker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ the worker

    def _receive(self, ticket: int, on_failure: OnFailure) -> None:
        assert self._conn is not None
        if self._current is not None:
            wait = max(0.0, self._current[1] + self.timeout - time.monotonic())
        else:
            wait = _IDLE_WAIT
        try:
            ready = self._conn.poll(wait)
            message = self._conn.recv() if ready else None
        except (EOFError, OSError):
            self._failed("the parse worker crashed", on_failure)
            return
        if message is None:
            if self._current is not None and time.monotonic() >= self._current[1] + self.timeout:
                self._failed(f"parsing took longer than {self.timeout:g} s", on_failure)
            elif not self._process.is_alive():
                self._failed("the parse worker crashed", on_failure)
            return
        kind, answered, value = message
        if kind == "start":
            self._current = (answered, value)
            self._start_failures = 0
            return
        self._current = None
        self._pending.pop(answered, None)
        self._answers[answered] = value

    def _failed(self, reason: str, on_failure: OnFailure) -> None:
        """The worker timed out or died: blame the message it was on, and start another."""
        culprit = self._current[0] if self._current is not None else None
        self._stop(kill=True)
        if culprit is None:
            self._start_failures += 1
            log.warning("parse worker died before a message (%s)", reason)
            if self._start_failures >= MAX_START_FAILURES:
                log.error("parse worker cannot start; parsing in-process, without a deadline")
                self._enabled = False
                self._pending.clear()
            return
        log.warning("parse worker: %s", reason)
        if not on_failure(reason):
            self._pending.pop(culprit, None)
            self._answers[culprit] = reason
        # The next worker starts when asked, and takes over whatever is still pending.

    def _start(self) -> None:
        context = _context()
        mine, theirs = context.Pipe(duplex=True)
        process = context.Process(
            target=serve, args=(theirs, self.params, self.hook), name="intake-parse", daemon=True
        )
        process.start()
        theirs.close()  # so that the worker's death reads as end of file here
        self._process, self._conn, self.started = process, mine, self.started + 1
        self._outbox = queue.SimpleQueue()
        threading.Thread(
            target=_feed, args=(mine, self._outbox), name="intake-parse-feed", daemon=True
        ).start()
        for ticket, raw in self._pending.items():  # a replaced worker's unanswered messages
            self._outbox.put((ticket, raw))

    def _stop(self, *, kill: bool) -> None:
        process, conn, outbox = self._process, self._conn, self._outbox
        self._process = self._conn = self._outbox = None
        self._current = None
        if outbox is not None:
            outbox.put(None)
        if process is not None:
            if kill:
                process.kill()
            process.join(timeout=None if kill else 5.0)
            if process.is_alive():
                process.kill()
                process.join()
        if conn is not None:
            conn.close()


def _context() -> multiprocessing.context.ForkServerContext:
    """Workers come from a fork server: the poll has threads and connections, so it must not
    fork itself, and spawning a fresh interpreter per poll cost 0.3-0.5 s of imports. The
    server starts once per process with this module imported, and forks each worker from
    its single thread in milliseconds."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def _feed(conn: Connection, outbox: queue.SimpleQueue[tuple[int, bytes] | None]) -> None:
    """The feeding thread: writes each message to the worker, so a big one never blocks the
    poll's thread while the worker is busy."""
    while True:
        item = outbox.get()
        try:
            conn.send(item)
        except (OSError, ValueError):
            return  # the worker is gone (or replaced); what it had is sent again
        if item is None:
            return
