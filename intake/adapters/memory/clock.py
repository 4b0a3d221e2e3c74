"""A clock that stands still until a test moves it: the fake :class:`~intake.core.ports.Clock`
beside :func:`intake.core.clock.utcnow`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class ManualClock:
    """A clock that stands still until told to move: ``clock()``, ``clock.advance(hours=2)``."""

    def __init__(self, start: datetime = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **units: float) -> datetime:
        """Move forward by ``delta`` or ``timedelta(**units)``; returns the new time."""
        step = delta if delta is not None else timedelta(**units)
        if step < timedelta(0):
            raise ValueError("a clock does not go back")
        with self._lock:
            self._now += step
            return self._now
