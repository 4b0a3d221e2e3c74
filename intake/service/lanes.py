"""What the service's jobs are made of: a lane that runs one piece of work at a time and folds
wake-ups together, the back-off between failed tries, and one-line error texts for the log."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

from intake.core.config import MailboxConfig

#: The first retry after a connection error; doubles per failure up to reconnect_max_seconds.
BACKOFF_BASE_SECONDS = 1.0


class Backoff:
    """Exponential backoff with jitter: base, 2x base, ... capped; each delay is 50-100%."""

    def __init__(
        self, maximum: float, base: float = BACKOFF_BASE_SECONDS, rng: random.Random | None = None
    ) -> None:
        self.base = base
        self.maximum = max(maximum, base)
        self.failures = 0
        self._rng = rng or random.Random()

    def failed(self) -> float:
        """Count a failure and return how long to wait before the next try."""
        self.failures += 1
        ceiling = min(self.maximum, self.base * float(2 ** min(self.failures - 1, 30)))
        # Half fixed, half random: daemons that lost one server together do not come back
        # in lock-step, and none retries sooner than half the nominal delay.
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def succeeded(self) -> int:
        """Reset; return how many failures there had been."""
        failures, self.failures = self.failures, 0
        return failures


class Lane:
    """Runs one piece of work at a time, coalescing wake-ups that arrive while it runs.

    ``run`` may be called from any thread at any time; the work runs at least once after
    every call, never twice at once, and calls that overlap a running pass fold into one
    more pass instead of piling up.
    """

    def __init__(self, name: str, work: Callable[[], None]) -> None:
        self.name = name
        self._work = work
        self._lock = threading.Lock()
        self._pending = threading.Event()

    def run(self, stopped: Callable[[], bool] = lambda: False) -> None:
        self._pending.set()
        while True:
            if not self._lock.acquire(blocking=False):
                return  # the pass in progress sees _pending and goes round once more
            try:
                while self._pending.is_set() and not stopped():
                    self._pending.clear()
                    self._work()
            finally:
                self._lock.release()
            # A wake-up that came after our last check but before the release found the lock
            # taken and returned: pick it up here, unless another thread already has.
            if not self._pending.is_set() or stopped():
                return

    @property
    def busy(self) -> bool:
        return self._lock.locked()


def about(box: MailboxConfig, exc: BaseException) -> str:
    """The error's text, starting with "mailbox NAME:" once (adapters already say it)."""
    text = one_line(exc)
    prefix = f"mailbox {box.name}:"
    return text if text.startswith(prefix) else f"{prefix} {text}"


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
