"""The login gates alone, on an injected clock: a refusal seen twice by logins that were on
their way together counts once."""

from __future__ import annotations

import logging

import pytest

from intake.adapters.logins import Logins


class Clock:
    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_logins_refused_together_count_as_one_refusal(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    gates = Logins(300.0, monotonic=clock)
    with caplog.at_level(logging.INFO, logger="intake.adapters.logins"):
        # The poll and IDLE both passed the open gate at start-up; both are refused.
        first = gates.refused("tougao", "imap", "imap.qq.com", "Authentication failed", "bad")
        clock.seconds = 0.2
        second = gates.refused("tougao", "imap", "imap.qq.com", "Authentication failed", "bad")
        assert (first.retry_in, second.retry_in) == (30.0, pytest.approx(29.8))
        assert gates.wait("tougao") == pytest.approx(29.8)
        # The next refusal after the wait doubles it, as docs/configuration.md says.
        clock.seconds = 30.0
        third = gates.refused("tougao", "imap", "imap.qq.com", "Authentication failed", "bad")
        assert third.retry_in == 60.0
        # A new secret refused while the gate is closed is a refusal of its own.
        clock.seconds = 31.0
        fourth = gates.refused("tougao", "smtp", "smtp.qq.com", "535 Error", "also bad")
        assert fourth.retry_in == 120.0
    lines = [r.getMessage() for r in caplog.records]
    assert [line.rsplit("waits ", 1)[1] for line in lines] == ["30 s", "60 s", "120 s"]
    refusal = gates.refusal("tougao")
    assert refusal is not None and refusal.failures == 3
