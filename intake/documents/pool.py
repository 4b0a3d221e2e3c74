"""A small pool of long-lived extraction processes, so a hundred documents do not start a
hundred interpreters.

Each process is ``python -m intake.documents.worker --serve`` under the same limits as a
one-shot reader: an address-space limit for its life, CPU time per file, and the wall clock
of ``extract.timeout_seconds`` kept here. A process that runs out of time is killed; one that
dies (out of memory, the CPU limit, a crashing C library) is gone; either way the next file
gets a fresh process, and the failure becomes the file's reason exactly as before. A process
is also retired after :data:`MAX_FILES` files, so nothing a reader leaks outlives a few
hundred documents. Safe to share between threads (the daemon polls mailboxes in parallel).
"""

from __future__ import annotations

import json
import math
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from typing import IO

from intake.core.config import ExtractConfig
from intake.core.errors import ExtractionError
from intake.documents.worker import EXIT_OUT_OF_MEMORY

#: Processes at most (the machine's cores are shared with parsing and the database).
SIZE = 2
#: Files one process reads before it is replaced by a fresh one.
MAX_FILES = 200


class _Reader:
    """One serving process and the files it has read."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",  # python -m puts the working directory on sys.path
        )
        self.files = 0

    def ask(self, fmt: str, payload: bytes, timeout: float) -> bytes:
        """Send one file and wait for its answer until ``timeout``; raises ``_Gone`` when the
        process died and ``TimeoutError`` when it ran out of time (the caller kills it)."""
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        name = fmt.encode("ascii")
        deadline = time.monotonic() + timeout
        try:
            stdin.write(struct.pack(">I", len(name)) + name + struct.pack(">Q", len(payload)))
            stdin.write(payload)
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise _Gone from None
        self.files += 1
        head = _read(stdout, 4, deadline)
        return _read(stdout, struct.unpack(">I", head)[0], deadline)

    def stop(self, *, kill: bool) -> int:
        if kill:
            self.process.kill()
        else:
            if self.process.stdin is not None:
                self.process.stdin.close()  # end of input: it exits
        try:
            code = self.process.wait(timeout=None if kill else 5.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None and not stream.closed:
                stream.close()
        return code


class _Gone(Exception):
    """The serving process ended before it answered."""


def _read(stream: IO[bytes], size: int, deadline: float) -> bytes:
    data = bytearray()
    fd = stream.fileno()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            raise TimeoutError
        chunk = os.read(fd, min(size - len(data), 1 << 20))
        if not chunk:
            raise _Gone
        data += chunk
    return bytes(data)


class Readers:
    """Up to :data:`SIZE` serving processes, started when first needed."""

    def __init__(self, limits: ExtractConfig, memory_bytes: int, size: int = SIZE) -> None:
        self.limits = limits
        self.memory_bytes = memory_bytes
        self.size = size
        self._idle: list[_Reader] = []
        self._busy = 0
        self._lock = threading.Condition()
        #: Processes started so far (a replaced one counts again).
        self.started = 0

    def run(self, fmt: str, payload: bytes) -> dict[str, object]:
        """The reader's JSON answer for one file, or :class:`ExtractionError` with the reason
        (the same reasons a one-shot process gives)."""
        reader = self._take()
        healthy = False
        try:
            answer = reader.ask(fmt, payload, self.limits.timeout_seconds)
            healthy = reader.files < MAX_FILES
        except TimeoutError:
            reader.stop(kill=True)
            raise ExtractionError(f"timed out after {self.limits.timeout_seconds:g} s") from None
        except _Gone:
            raise _failure(reader.stop(kill=True), self.memory_bytes) from None
        finally:
            self._give_back(reader if healthy else None)
            if not healthy and reader.process.poll() is None:
                reader.stop(kill=False)
        try:
            result = json.loads(answer)
        except ValueError:
            raise ExtractionError("extraction process gave no answer") from None
        if not isinstance(result, dict):
            raise ExtractionError("extraction process gave a malformed answer")
        return result

    def close(self) -> None:
        """Stop the idle processes (new ones start when a file comes)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for reader in idle:
            reader.stop(kill=False)

    # ------------------------------------------------------------------ the pool

    def _take(self) -> _Reader:
        with self._lock:
            while not self._idle and self._busy >= self.size:
                self._lock.wait()
            self._busy += 1
            if self._idle:
                return self._idle.pop()
        try:
            reader = self._start()
        except OSError as exc:
            with self._lock:
                self._busy -= 1
                self._lock.notify()
            raise ExtractionError(f"could not start the extraction process: {exc}") from None
        return reader

    def _give_back(self, reader: _Reader | None) -> None:
        with self._lock:
            self._busy -= 1
            if reader is not None:
                self._idle.append(reader)
                reader = None
            self._lock.notify()
        if reader is not None:
            reader.stop(kill=False)

    def _start(self) -> _Reader:
        limits = self.limits
        cpu_seconds = max(1, math.ceil(limits.timeout_seconds)) + 1
        command = [
            sys.executable, "-m", "intake.documents.worker", "--serve",
            str(limits.max_text_chars), str(limits.max_archive_members),
            str(self.memory_bytes), str(cpu_seconds),
        ]  # fmt: skip
        # The same fresh, minimal environment as a one-shot reader: no passwords, our path.
        path = os.pathsep.join(entry for entry in sys.path if entry)
        env = {"PYTHONPATH": path, "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}
        reader = _Reader(command, env)
        self.started += 1
        return reader


def _failure(code: int, memory_bytes: int) -> ExtractionError:
    """The reason a serving process that died gives for the file it was reading."""
    if code == EXIT_OUT_OF_MEMORY:
        return ExtractionError(f"ran out of memory (limit {memory_bytes // (1024 * 1024)} MiB)")
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if -code in (signal.SIGXCPU, signal.SIGKILL):
            return ExtractionError(f"stopped by the CPU time limit ({name})")
        return ExtractionError(f"the reader crashed ({name})")
    return ExtractionError(f"extraction process failed: exit {code}")
