"""What ingest reports: one message's :class:`Outcome`, one pass's :class:`PollResult`, and the
progress callback a poll calls after each message."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Outcome(StrEnum):
    """What became of one message."""

    NEW = "new"  # a submission, a reply or a claim
    DUPLICATE = "duplicate"  # recorded before: only its new server location was linked
    QUARANTINED = "quarantined"  # kept byte-exact with the reason it could not be recorded
    IGNORED = "ignored"  # recorded, and nothing to do (bounces, auto-replies, lists, oversize)


@dataclass(frozen=True, slots=True)
class PollResult:
    """Counts for one pass over one or more mailboxes (``intake poll --json``)."""

    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def add(self, outcome: Outcome) -> PollResult:
        return replace(
            self,
            fetched=self.fetched + 1,
            new=self.new + (outcome is Outcome.NEW),
            duplicates=self.duplicates + (outcome is Outcome.DUPLICATE),
            quarantined=self.quarantined + (outcome is Outcome.QUARANTINED),
            ignored=self.ignored + (outcome is Outcome.IGNORED),
        )

    def __add__(self, other: PollResult) -> PollResult:
        return PollResult(
            self.fetched + other.fetched,
            self.new + other.new,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.ignored + other.ignored,
            self.errors + other.errors,
        )

    def as_json(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "ignored": self.ignored,
        }


#: ``progress(done, total)`` after each message of a poll.
Progress = Callable[[int, int], None]

__all__ = ["Outcome", "PollResult", "Progress"]
