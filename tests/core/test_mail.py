"""intake.core.mail: the one table of message kinds and what each kind allows."""

from __future__ import annotations

import pytest

from intake.core.mail import (
    GENUINE_KINDS,
    KINDS,
    NO_AUTOREPLY_KINDS,
    PURGEABLE_KINDS,
    TO_CLAIM_KINDS,
    Kind,
)


def test_every_kind_has_its_row() -> None:
    assert set(KINDS) == set(Kind)


@pytest.mark.parametrize("kind", [Kind.BOUNCE, Kind.AUTOREPLY, Kind.LIST, Kind.SPAM, Kind.OWN])
def test_robots_are_never_answered_and_their_raw_mail_is_purged(kind: Kind) -> None:
    assert kind in NO_AUTOREPLY_KINDS
    assert kind in PURGEABLE_KINDS
    assert kind not in GENUINE_KINDS


def test_genuine_mail_is_kept_and_may_be_answered() -> None:
    assert GENUINE_KINDS == {Kind.SUBMISSION, Kind.REPLY, Kind.CLAIM}
    assert not GENUINE_KINDS & PURGEABLE_KINDS
    assert not GENUINE_KINDS & NO_AUTOREPLY_KINDS


def test_quarantined_mail_is_kept_whole_and_never_answered() -> None:
    assert Kind.QUARANTINED in NO_AUTOREPLY_KINDS
    assert Kind.QUARANTINED not in PURGEABLE_KINDS


def test_what_may_become_a_claim() -> None:
    # A would-be submission, or mail a filter put aside; never a reply, a bounce or our own.
    assert TO_CLAIM_KINDS == {Kind.SUBMISSION, Kind.SPAM, Kind.LIST, Kind.AUTOREPLY}
