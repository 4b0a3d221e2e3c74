"""Crash points, for tests of what a ``kill -9`` leaves behind.

``INTAKE_CRASH_AT=NAME`` (or ``NAME:N``) makes the process kill itself with SIGKILL the first
(or Nth) time it passes :func:`crash_point` ``NAME``, so such a test chooses the instant instead
of racing a timer. The points: ``ingest.before_commit`` (a message's rows, bytes and hooks are
written, its transaction not yet committed) and ``poll.before_move`` (a batch is committed, not
yet moved on the server). Without the variable a point costs one environment lookup.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

#: The environment variable naming the point to die at.
CRASH_AT = "INTAKE_CRASH_AT"

# How often each point was passed in this process: the one piece of process state in intake,
# here because a crash point counts the passes of one process and nothing else reads it.
_passes: Counter[str] = Counter()


def crash_point(name: str) -> None:
    """Die here (SIGKILL, no clean-up of any kind) if ``$INTAKE_CRASH_AT`` names this point."""
    wanted = os.environ.get(CRASH_AT)
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(nth or "1"):
        os.kill(os.getpid(), signal.SIGKILL)


__all__ = ["CRASH_AT", "crash_point"]
