"""The workflow table and rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from intake.core.errors import TransitionRefused, UsageError
from intake.workflow import submission as workflow
from intake.workflow.submission import (
    ACTION_TARGET,
    ACTION_TEMPLATE,
    TRANSITIONS,
    Action,
    CopyrightStatus,
    Role,
    Status,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

#: The moves the issue asks for, written out once more so a change to the table is deliberate.
EXPECTED_STAFF_MOVES = {
    ("received", "in_review"),
    ("duplicate", "received"),
    ("withdrawn", "received"),
    ("received", "needs_info"),
    ("received", "accepted"),
    ("received", "declined"),
    ("received", "withdrawn"),
    ("received", "duplicate"),
    ("in_review", "needs_info"),
    ("in_review", "accepted"),
    ("in_review", "declined"),
    ("in_review", "withdrawn"),
    ("in_review", "duplicate"),
    ("needs_info", "in_review"),
    ("needs_info", "accepted"),
    ("needs_info", "declined"),
    ("needs_info", "withdrawn"),
    ("needs_info", "duplicate"),
    ("accepted", "published"),
    ("accepted", "declined"),
    ("accepted", "withdrawn"),
    ("published", "withdrawn"),
    ("declined", "in_review"),
    ("withdrawn", "in_review"),
    ("duplicate", "in_review"),
}


def test_status_names_are_the_contract() -> None:
    assert [str(s) for s in Status] == [
        "received",
        "in_review",
        "needs_info",
        "accepted",
        "declined",
        "published",
        "withdrawn",
        "duplicate",
    ]
    assert [str(s) for s in CopyrightStatus] == [
        "not_requested",
        "requested",
        "reminded",
        "granted",
        "refused",
        "expired",
        "waived",
        "revoked",
    ]


def test_staff_moves_are_exactly_the_table() -> None:
    staff = {(str(a), str(b)) for (a, b), roles in TRANSITIONS.items() if Role.STAFF in roles}
    assert staff == EXPECTED_STAFF_MOVES


def test_main_path_is_allowed() -> None:
    path = ["received", "in_review", "accepted", "published"]
    for before, after in zip(path, path[1:], strict=False):
        workflow.check_move(1, before, after)


@pytest.mark.parametrize(("before", "after"), sorted(EXPECTED_STAFF_MOVES))
def test_every_allowed_move_passes(before: str, after: str) -> None:
    workflow.check_move(7, before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (str(a), str(b))
        for a in Status
        for b in Status
        if (str(a), str(b)) not in EXPECTED_STAFF_MOVES
    ],
)
def test_every_other_move_is_refused_naming_the_allowed_ones(before: str, after: str) -> None:
    with pytest.raises(TransitionRefused) as caught:
        workflow.check_move(7, before, after)
    message = str(caught.value)
    assert "submission 7" in message
    allowed = workflow.allowed_moves(before)
    assert f"(allowed: {', '.join(allowed) or 'none'})" in message
    assert "\n" not in message


def test_refusal_messages_read_well() -> None:
    with pytest.raises(
        TransitionRefused,
        match=r"^submission 3 is published: cannot move to "
        r"accepted \(allowed: withdrawn\)$",
    ):
        workflow.check_move(3, "published", "accepted")
    with pytest.raises(TransitionRefused, match="already accepted"):
        workflow.check_move(3, "accepted", "accepted")


def test_roles() -> None:
    # Contributors may withdraw before publication and answer a request for information.
    workflow.check_move(1, "in_review", "withdrawn", Role.CONTRIBUTOR)
    workflow.check_move(1, "needs_info", "in_review", Role.CONTRIBUTOR)
    with pytest.raises(TransitionRefused, match="only staff may move published -> withdrawn"):
        workflow.check_move(1, "published", "withdrawn", Role.CONTRIBUTOR)
    with pytest.raises(TransitionRefused, match="only staff may move"):
        workflow.check_move(1, "in_review", "accepted", Role.CONTRIBUTOR)
    # intake itself only marks duplicates.
    workflow.check_move(1, "received", "duplicate", Role.SYSTEM)
    assert workflow.allowed_moves("received", Role.SYSTEM) == [Status.DUPLICATE]


def test_unknown_status_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown status 'limbo'"):
        workflow.check_move(1, "limbo", "accepted")


def test_reopen_only_from_closed_statuses() -> None:
    reopenable = {str(a) for (a, b) in TRANSITIONS if b == Status.IN_REVIEW}
    assert reopenable == {"received", "needs_info", "declined", "withdrawn", "duplicate"}


def test_actions_map_to_statuses_and_templates() -> None:
    assert {a: str(s) for a, s in ACTION_TARGET.items()} == {
        Action.ACCEPT: "accepted",
        Action.DECLINE: "declined",
        Action.REQUEST_INFO: "needs_info",
        Action.PUBLISH: "published",
        Action.WITHDRAW: "withdrawn",
        Action.REOPEN: "in_review",
    }
    assert ACTION_TEMPLATE[Action.REQUEST_INFO] == "needs_info"
    assert ACTION_TEMPLATE[Action.REOPEN] is None


@pytest.mark.parametrize(
    "rights", ["not_requested", "requested", "reminded", "refused", "expired", "revoked"]
)
def test_publishing_needs_rights(rights: str) -> None:
    with pytest.raises(TransitionRefused, match=f"copyright is {rights}, publishing needs"):
        workflow.check_rights(5, rights, waiver_noted=False)


def test_grant_or_noted_waiver_allows_publishing() -> None:
    workflow.check_rights(5, "granted", waiver_noted=False)
    workflow.check_rights(5, "waived", waiver_noted=True)
    with pytest.raises(TransitionRefused, match="waiver has no note"):
        workflow.check_rights(5, "waived", waiver_noted=False)


def test_copyright_request_allowed_only_before_an_answer() -> None:
    for ok in ("not_requested", "requested", "reminded", "expired"):
        workflow.check_copyright_request(1, ok)
    for refused in ("granted", "waived", "refused", "revoked"):
        with pytest.raises(TransitionRefused, match=f"copyright is {refused}"):
            workflow.check_copyright_request(1, refused)


def test_first_touch_starts_review_only_once() -> None:
    assert workflow.first_touch("received") == Status.IN_REVIEW
    for other in Status:
        if other is not Status.RECEIVED:
            assert workflow.first_touch(other) is None


def test_decided_at() -> None:
    earlier = NOW - timedelta(days=3)
    assert workflow.decided_at_after(Status.ACCEPTED, None, NOW) == NOW
    assert workflow.decided_at_after(Status.DECLINED, earlier, NOW) == NOW
    assert workflow.decided_at_after(Status.PUBLISHED, earlier, NOW) == earlier
    assert workflow.decided_at_after(Status.WITHDRAWN, earlier, NOW) == earlier
    assert workflow.decided_at_after(Status.IN_REVIEW, earlier, NOW) is None


def test_overdue() -> None:
    past, future = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)
    for open_status in ("received", "in_review", "needs_info"):
        assert workflow.is_overdue(open_status, past, NOW)
        assert not workflow.is_overdue(open_status, future, NOW)
    for closed in ("accepted", "declined", "published", "withdrawn", "duplicate"):
        assert not workflow.is_overdue(closed, past, NOW)
    assert not workflow.is_overdue("received", None, NOW)
    # SQLite returns naive datetimes; they are UTC.
    assert workflow.is_overdue("received", past.replace(tzinfo=None), NOW)


def test_acceptance_rate() -> None:
    assert workflow.acceptance_rate({"received": 4}) is None
    counts = {"accepted": 2, "published": 1, "declined": 3, "withdrawn": 9, "duplicate": 9}
    assert workflow.acceptance_rate(counts) == pytest.approx(0.5)
