"""The claims table and rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.core.errors import TransitionRefused, UsageError
from intake.replies.render import TEMPLATES
from intake.workflow import claim as claimflow
from intake.workflow.claim import (
    OUTCOME_STATUS,
    OUTCOME_TEMPLATE,
    TRANSITIONS,
    ClaimStatus,
    Outcome,
    Role,
)

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
ENDS = ("resolved_removed", "resolved_paid", "resolved_licensed", "rejected")

#: The moves staff may make, written out once more so a change to the table is deliberate.
EXPECTED_STAFF_MOVES = {
    ("received", "investigating"),
    ("received", "rejected"),
    ("rejected", "received"),
    ("received", "needs_info"),
    ("investigating", "needs_info"),
    *(("investigating", end) for end in ENDS),
    ("needs_info", "investigating"),
    *(("needs_info", end) for end in ENDS),
    *((end, "investigating") for end in ENDS),  # reopen
}


def test_status_names_are_the_contract() -> None:
    assert [str(s) for s in ClaimStatus] == [
        "received", "investigating", "needs_info", "resolved_removed", "resolved_paid",
        "resolved_licensed", "rejected",
    ]  # fmt: skip
    assert [str(o) for o in Outcome] == ["removed", "paid", "licensed", "rejected"]


def test_staff_moves_are_exactly_the_table() -> None:
    staff = {(str(a), str(b)) for (a, b), roles in TRANSITIONS.items() if Role.STAFF in roles}
    assert staff == EXPECTED_STAFF_MOVES


def test_claimant_answers_reopen_only_needs_info_and_rejected() -> None:
    moves = {(str(a), str(b)) for (a, b), roles in TRANSITIONS.items() if Role.CLAIMANT in roles}
    assert moves == {("needs_info", "investigating"), ("rejected", "investigating")}
    assert not claimflow.can_move("resolved_removed", "investigating", Role.CLAIMANT)
    assert not claimflow.can_move("received", "investigating", Role.CLAIMANT)


def test_every_outcome_has_a_status_and_a_packaged_claim_template() -> None:
    for outcome in Outcome:
        assert OUTCOME_STATUS[outcome] in claimflow.RESOLVED_STATUSES
        assert TEMPLATES[OUTCOME_TEMPLATE[outcome]] == "claim"
    assert TEMPLATES[claimflow.ACK_TEMPLATE] == TEMPLATES[claimflow.NEEDS_INFO_TEMPLATE] == "claim"


def test_refused_move_names_the_allowed_ones() -> None:
    with pytest.raises(TransitionRefused) as caught:
        claimflow.check_move(7, "received", "resolved_removed")
    assert str(caught.value) == (
        "claim 7 is received: cannot move to resolved_removed "
        "(allowed: investigating, needs_info, rejected)"
    )
    with pytest.raises(TransitionRefused, match=r"claim 7 is already needs_info \(allowed: "):
        claimflow.check_move(7, "needs_info", "needs_info")
    with pytest.raises(TransitionRefused, match="only staff may move resolved_paid -> investig"):
        claimflow.check_move(7, "resolved_paid", "investigating", Role.CLAIMANT)
    with pytest.raises(UsageError, match="unknown claim status 'closed'"):
        claimflow.check_move(7, "closed", "investigating")


def test_first_touch_starts_the_investigation_only_once() -> None:
    assert claimflow.first_touch("received") is ClaimStatus.INVESTIGATING
    for current in ClaimStatus:
        if current is not ClaimStatus.RECEIVED:
            assert claimflow.first_touch(current) is None


def test_deadline_and_overdue() -> None:
    deadline = claimflow.deadline_for(NOW, 3)
    assert deadline == NOW + timedelta(days=3)
    later = deadline + timedelta(minutes=1)
    assert claimflow.is_overdue("received", deadline, later)
    assert claimflow.is_overdue("investigating", deadline.replace(tzinfo=None), later)  # SQLite
    assert not claimflow.is_overdue("investigating", deadline, deadline)
    # Waiting for the claimant, or resolved: not ours to answer.
    for status in ("needs_info", *ENDS):
        assert not claimflow.is_overdue(status, deadline, later)
    assert not claimflow.is_overdue("received", None, later)


def test_answer_gives_a_fresh_response_period_never_a_shorter_one() -> None:
    deadline = NOW + timedelta(days=3)
    assert claimflow.deadline_after_answer(deadline, NOW + timedelta(days=5), 3) == NOW + timedelta(
        days=8
    )
    assert claimflow.deadline_after_answer(deadline, NOW, 1) == deadline
    assert claimflow.deadline_after_answer(None, NOW, 2) == NOW + timedelta(days=2)


def test_amount_is_required_for_paid_only() -> None:
    assert claimflow.check_amount(Outcome.PAID, "  500 元 ") == "500 元"
    assert claimflow.check_amount(Outcome.REMOVED, "") == ""
    with pytest.raises(UsageError, match="resolve paid needs --amount"):
        claimflow.check_amount(Outcome.PAID, " ")
    with pytest.raises(UsageError, match="give a sum with its digits"):
        claimflow.check_amount(Outcome.PAID, "five hundred")
    with pytest.raises(UsageError, match="--amount is for resolve paid, not resolve removed"):
        claimflow.check_amount(Outcome.REMOVED, "500")


def test_rejection_needs_a_reason() -> None:
    claimflow.check_reason(Outcome.REJECTED, "作品系本网记者原创")
    claimflow.check_reason(Outcome.REMOVED, "")
    with pytest.raises(UsageError, match="resolve rejected needs --message"):
        claimflow.check_reason(Outcome.REJECTED, "  ")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://www.nsnews.example/a/1.html", "http://nsnews.example/a/1.html"),
        ("https://m.nsnews.example/a/1.html#top", "nsnews.example/a/1.html"),
        ("https://WWW.NSNEWS.example/a/1/", "https://nsnews.example/a/1"),
        ("https://nsnews.example/a?id=5", "http://www.nsnews.example/a?id=5"),
    ],
)
def test_url_keys_match(a: str, b: str) -> None:
    assert claimflow.url_key(a) == claimflow.url_key(b) != ""


def test_url_keys_differ() -> None:
    assert claimflow.url_key("https://nsnews.example/a?id=5") != claimflow.url_key(
        "https://nsnews.example/a?id=6"
    )
    assert claimflow.url_key("https://m.example/a") == "m.example/a"  # not a subdomain prefix
    assert claimflow.url_key("") == ""


def test_title_keys() -> None:
    assert claimflow.title_key("《老屋的桂花树》") == claimflow.title_key(" 老屋的 桂花树 ")
    assert claimflow.title_key('"Harbour Lights"') == claimflow.title_key("ｈａｒｂｏｕｒ lights")
