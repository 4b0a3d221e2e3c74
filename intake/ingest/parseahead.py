"""Parsing a large backlog on a second core while the poll records what is already parsed.

A poll that finds many new messages hands their raw bytes, in small chunks, to one worker
process running the same :func:`intake.ingest.parsing.parse_or_reason` as ingest; each
message gets a future for its own result, in order. Small polls (the daemon's usual one or two
messages), big messages (copying them and their attachments between processes costs more
memory than the second core saves) and everything after a worker failure are parsed in-process
instead: the caller parses whatever has no future, or whose future failed.
"""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from intake.core.mail import ParsedMail
from intake.ingest import parsing

log = logging.getLogger(__name__)

#: Fewer new messages than this are parsed in-process: starting the worker takes ~0.3 s.
MIN_MESSAGES = 200
#: Messages over this size are parsed in-process.
MAX_BYTES = 8 * 1024 * 1024
#: Messages sent to the worker at a time: large enough to amortise the round trip, small
#: enough that recording starts soon after a batch is fetched.
CHUNK = 4

Parsed = ParsedMail | str  # a parse, or the reason the message could not be parsed


class ParseAhead:
    """One worker process (when ``enabled``), shut down on ``close``."""

    def __init__(self, enabled: bool) -> None:
        self._pool: ProcessPoolExecutor | None = None
        if enabled:
            # spawn, not fork: the poll has a writer thread and open database connections.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=context)

    def submit(self, raws: Sequence[bytes]) -> list[Future[Parsed] | None]:
        """Start parsing ``raws``; a future per message, ``None`` for one to parse in-process."""
        futures: list[Future[Parsed] | None] = [None] * len(raws)
        if self._pool is None:
            return futures
        chunk: list[int] = []
        for index, raw in enumerate(raws):
            if len(raw) <= MAX_BYTES:
                chunk.append(index)
            if chunk and (len(chunk) == CHUNK or index == len(raws) - 1):
                self._send(raws, chunk, futures)
                chunk = []
        return futures

    def _send(
        self, raws: Sequence[bytes], chunk: list[int], futures: list[Future[Parsed] | None]
    ) -> None:
        assert self._pool is not None
        mine: list[Future[Parsed]] = [Future() for _ in chunk]
        try:
            whole = self._pool.submit(parse_many, [raws[i] for i in chunk])
        except RuntimeError as exc:  # BrokenProcessPool, or shut down: parse in-process
            log.warning("parse worker unavailable, parsing in-process: %s", exc)
            self.close()
            return
        whole.add_done_callback(lambda done: _split(done, mine))
        for index, future in zip(chunk, mine, strict=True):
            futures[index] = future

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ParseAhead:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def parse_many(raws: list[bytes]) -> list[Parsed]:
    """What the worker runs: :func:`~intake.ingest.parsing.parse_or_reason` for each message."""
    return [parsing.parse_or_reason(raw) for raw in raws]


def _split(done: Future[list[Parsed]], mine: list[Future[Parsed]]) -> None:
    """Hand each message its own part of a chunk's result (or the chunk's failure)."""
    if done.cancelled():
        for future in mine:
            future.cancel()
        return
    error = done.exception()
    if error is not None:
        for future in mine:
            future.set_exception(error)
        return
    for future, parsed in zip(mine, done.result(), strict=True):
        future.set_result(parsed)
