"""The editorial workflow as data: statuses, the one table of allowed moves and who may make
them, the publish-needs-rights rule and the decision deadline."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from intake.core.clock import as_utc
from intake.core.errors import TransitionRefused, UsageError


class Status(enum.StrEnum):
    """Where a submission is in the editorial flow (``submissions.status``)."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    NEEDS_INFO = "needs_info"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    DUPLICATE = "duplicate"


class CopyrightStatus(enum.StrEnum):
    """Where the rights for a submission stand (``submissions.copyright_status``)."""

    NOT_REQUESTED = "not_requested"
    REQUESTED = "requested"
    REMINDED = "reminded"
    GRANTED = "granted"
    REFUSED = "refused"
    EXPIRED = "expired"
    WAIVED = "waived"
    REVOKED = "revoked"


class Role(enum.StrEnum):
    """Who asks for a move: an editor at the CLI, intake itself, or the mail of the person the
    case is about (a contributor for a submission, a claimant for a claim)."""

    STAFF = "staff"
    SYSTEM = "system"
    CONTRIBUTOR = "contributor"
    CLAIMANT = "claimant"


class Action(enum.StrEnum):
    """A staff decision command and the status it moves to (see :data:`ACTION_TARGET`)."""

    ACCEPT = "accept"
    DECLINE = "decline"
    REQUEST_INFO = "request_info"
    PUBLISH = "publish"
    WITHDRAW = "withdraw"
    REOPEN = "reopen"


S = Status
_STAFF = frozenset({Role.STAFF})
_STAFF_SYSTEM = frozenset({Role.STAFF, Role.SYSTEM})
_STAFF_CONTRIBUTOR = frozenset({Role.STAFF, Role.CONTRIBUTOR})

#: THE transition table: (from, to) -> the roles that may make that move. Nothing else moves a
#: submission. Contributors may withdraw until publication (taking a published article down is
#: an editor's act) and their answer to a request for information puts it back in review;
#: intake itself only marks duplicates. Editors may change their minds: an acceptance can
#: still become a decline (rights refused, say), and declined, withdrawn and duplicate
#: submissions can be reopened.
TRANSITIONS: Mapping[tuple[Status, Status], frozenset[Role]] = {
    (S.RECEIVED, S.IN_REVIEW): _STAFF,
    (S.RECEIVED, S.NEEDS_INFO): _STAFF,
    (S.RECEIVED, S.ACCEPTED): _STAFF,
    (S.RECEIVED, S.DECLINED): _STAFF,
    (S.RECEIVED, S.WITHDRAWN): _STAFF_CONTRIBUTOR,
    (S.RECEIVED, S.DUPLICATE): _STAFF_SYSTEM,
    (S.IN_REVIEW, S.NEEDS_INFO): _STAFF,
    (S.IN_REVIEW, S.ACCEPTED): _STAFF,
    (S.IN_REVIEW, S.DECLINED): _STAFF,
    (S.IN_REVIEW, S.WITHDRAWN): _STAFF_CONTRIBUTOR,
    (S.IN_REVIEW, S.DUPLICATE): _STAFF,
    (S.NEEDS_INFO, S.IN_REVIEW): _STAFF_CONTRIBUTOR,
    (S.NEEDS_INFO, S.ACCEPTED): _STAFF,
    (S.NEEDS_INFO, S.DECLINED): _STAFF,
    (S.NEEDS_INFO, S.WITHDRAWN): _STAFF_CONTRIBUTOR,
    (S.NEEDS_INFO, S.DUPLICATE): _STAFF,
    (S.ACCEPTED, S.PUBLISHED): _STAFF,
    (S.ACCEPTED, S.DECLINED): _STAFF,
    (S.ACCEPTED, S.WITHDRAWN): _STAFF_CONTRIBUTOR,
    (S.PUBLISHED, S.WITHDRAWN): _STAFF,
    (S.DECLINED, S.IN_REVIEW): _STAFF,
    (S.WITHDRAWN, S.IN_REVIEW): _STAFF,
    (S.DUPLICATE, S.IN_REVIEW): _STAFF,
    # Back to where intake put it: "not a duplicate", and a piece reclassified as a claim
    # (withdrawn then) that turns out to be a submission after all.
    (S.DUPLICATE, S.RECEIVED): _STAFF,
    (S.WITHDRAWN, S.RECEIVED): _STAFF,
}

#: Statuses still waiting for an editor's decision: the ones that can be overdue.
OPEN_STATUSES: frozenset[Status] = frozenset({S.RECEIVED, S.IN_REVIEW, S.NEEDS_INFO})
#: The desk's queue: what still needs an editor (a decision, or publishing an accepted piece).
#: ``intake list`` and ``intake triage`` show these unless asked for ``--all``.
QUEUE_STATUSES: tuple[Status, ...] = (S.RECEIVED, S.IN_REVIEW, S.NEEDS_INFO, S.ACCEPTED)
#: Moves that are decisions: they stamp ``decided_at`` (time to decision, acceptance rate).
DECISIONS: frozenset[Status] = frozenset({S.ACCEPTED, S.DECLINED})
#: Statuses that count as decided for the acceptance rate, and those that count as accepted.
DECIDED_STATUSES: frozenset[Status] = frozenset({S.ACCEPTED, S.PUBLISHED, S.DECLINED})
ACCEPTED_STATUSES: frozenset[Status] = frozenset({S.ACCEPTED, S.PUBLISHED})

#: Each staff command, the status it moves to, and the reply template it sends (None: none).
ACTION_TARGET: Mapping[Action, Status] = {
    Action.ACCEPT: S.ACCEPTED,
    Action.DECLINE: S.DECLINED,
    Action.REQUEST_INFO: S.NEEDS_INFO,
    Action.PUBLISH: S.PUBLISHED,
    Action.WITHDRAW: S.WITHDRAWN,
    Action.REOPEN: S.IN_REVIEW,
}
ACTION_TEMPLATE: Mapping[Action, str | None] = {
    Action.ACCEPT: "accepted",
    Action.DECLINE: "declined",
    Action.REQUEST_INFO: "needs_info",
    Action.PUBLISH: "published",
    Action.WITHDRAW: "withdrawn",
    Action.REOPEN: None,  # no letter says "we changed our minds"; the editor writes one
}

#: Rights that allow publication.
PUBLISHABLE_RIGHTS: frozenset[CopyrightStatus] = frozenset(
    {CopyrightStatus.GRANTED, CopyrightStatus.WAIVED}
)
#: What staff may record with ``intake consent ID DECISION`` and the copyright status it sets.
STAFF_DECISIONS: Mapping[str, CopyrightStatus] = {
    "grant": CopyrightStatus.GRANTED,
    "refuse": CopyrightStatus.REFUSED,
    "waive": CopyrightStatus.WAIVED,
    "revoke": CopyrightStatus.REVOKED,
}
C = CopyrightStatus
_SYSTEM = frozenset({Role.SYSTEM})
_ASKED = (C.REQUESTED, C.REMINDED)
#: THE table of rights moves: (from, to) -> the roles that may make it. intake asks (with the
#: acknowledgment, or when staff say so), reminds and lets an unanswered request expire; the
#: contributor's answer to our request grants or refuses; staff may record consent given some
#: other way (a signed form, a phone call) from any status, ask again, and revoke a grant.
RIGHTS_TRANSITIONS: Mapping[tuple[CopyrightStatus, CopyrightStatus], frozenset[Role]] = {
    (C.NOT_REQUESTED, C.REQUESTED): _STAFF_SYSTEM,
    **{(frm, C.REQUESTED): _STAFF for frm in (C.REQUESTED, C.REMINDED, C.EXPIRED)},
    (C.REQUESTED, C.REMINDED): _SYSTEM,
    **{(frm, C.EXPIRED): _SYSTEM for frm in _ASKED},
    **{(frm, to): _STAFF_CONTRIBUTOR for frm in _ASKED for to in (C.GRANTED, C.REFUSED)},
    **{
        (frm, to): _STAFF
        for frm in C
        for to in (C.GRANTED, C.REFUSED, C.WAIVED)
        if frm not in _ASKED or to is C.WAIVED
    },
    (C.GRANTED, C.REVOKED): _STAFF,
    (C.WAIVED, C.REVOKED): _STAFF,
}

#: The letters that ask for consent (and print a confirmation code): only a reply bound to one
#: of them may grant or refuse (intake.conversations.binding).
RIGHTS_LETTERS: frozenset[str] = frozenset({"copyright_request", "copyright_reminder"})

#: Copyright statuses from which a (re)request may be sent: asking again after a grant, a
#: waiver, a refusal or a revocation would be wrong or harassment.
REQUESTABLE_RIGHTS: frozenset[CopyrightStatus] = frozenset(
    {
        CopyrightStatus.NOT_REQUESTED,
        CopyrightStatus.REQUESTED,
        CopyrightStatus.REMINDED,
        CopyrightStatus.EXPIRED,
    }
)


def status(value: str) -> Status:
    """``value`` as a :class:`Status`; an unknown one (a corrupt row) is a UsageError."""
    try:
        return Status(value)
    except ValueError:
        raise UsageError(f"unknown status {value!r}") from None


def allowed_moves(current: Status | str, role: Role = Role.STAFF) -> list[Status]:
    """The statuses ``role`` may move a submission in ``current`` to, in table order."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == current and role in roles]


def check_move(
    submission_id: int, current: Status | str, target: Status | str, role: Role = Role.STAFF
) -> None:
    """Refuse a move the table does not allow; the message names the allowed ones."""
    current, target = status(current), status(target)
    roles = TRANSITIONS.get((current, target))
    if roles is not None and role in roles:
        return
    raise refusal(
        f"submission {submission_id}", current, target, roles, allowed_moves(current, role)
    )


def refusal(
    what: str, current: str, target: str, roles: Iterable[str] | None, allowed: Sequence[str]
) -> TransitionRefused:
    """The one-line refusal of a move, naming the allowed ones (submissions and claims)."""
    options = ", ".join(allowed) if allowed else "none"
    if current == target:
        why = f"{what} is already {current}"
    elif roles is not None:
        who = " or ".join(sorted(roles))
        why = f"{what}: only {who} may move {current} -> {target}"
    else:
        why = f"{what} is {current}: cannot move to {target}"
    return TransitionRefused(f"{why} (allowed: {options})")


def check_rights_move(
    submission_id: int,
    current: CopyrightStatus | str,
    target: CopyrightStatus | str,
    role: Role = Role.STAFF,
) -> None:
    """Refuse a rights move :data:`RIGHTS_TRANSITIONS` does not allow."""
    try:
        current, target = CopyrightStatus(current), CopyrightStatus(target)
    except ValueError:
        raise UsageError(f"unknown copyright status {current!r} or {target!r}") from None
    roles = RIGHTS_TRANSITIONS.get((current, target))
    if roles is not None and role in roles:
        return
    allowed = [
        to for (frm, to), who in RIGHTS_TRANSITIONS.items() if frm == current and role in who
    ]
    raise refusal(f"submission {submission_id}: copyright", current, target, roles, allowed)


def check_rights(submission_id: int, copyright_status: str, *, waiver_noted: bool) -> None:
    """Publishing needs rights: a grant, or a waiver an editor justified with a note."""
    if copyright_status == CopyrightStatus.GRANTED:
        return
    if copyright_status == CopyrightStatus.WAIVED:
        if waiver_noted:
            return
        raise TransitionRefused(
            f"submission {submission_id}: cannot publish: the copyright waiver has no note "
            "saying why (record the waiver again with a note)"
        )
    raise TransitionRefused(
        f"submission {submission_id}: cannot publish: copyright is {copyright_status}, "
        "publishing needs granted or waived"
    )


def check_copyright_request(submission_id: int, copyright_status: str) -> None:
    if copyright_status in REQUESTABLE_RIGHTS:
        return
    raise TransitionRefused(
        f"submission {submission_id}: copyright is {copyright_status}: a request is sent only "
        f"when it is {', '.join(sorted(REQUESTABLE_RIGHTS))}"
    )


def first_touch(current: Status | str) -> Status | None:
    """The status the first assignment or note moves to: a received submission is in review."""
    return S.IN_REVIEW if current == S.RECEIVED else None


def decided_at_after(target: Status, decided_at: datetime | None, now: datetime) -> datetime | None:
    """``decided_at`` after moving to ``target``: set by a decision, cleared by a reopen (the
    submission is open again), kept otherwise (publication keeps the acceptance's time)."""
    if target in DECISIONS:
        return now
    if target in OPEN_STATUSES:
        return None
    return decided_at


def is_overdue(status_: str, decision_due: datetime | None, now: datetime) -> bool:
    """Not decided yet and past the decision deadline."""
    if decision_due is None or status_ not in OPEN_STATUSES:
        return False
    return as_utc(decision_due) < as_utc(now)


def acceptance_rate(counts: Mapping[str, int]) -> float | None:
    """(accepted + published) / (accepted + published + declined); None before any decision."""
    decided = sum(counts.get(s, 0) for s in DECIDED_STATUSES)
    if decided == 0:
        return None
    return sum(counts.get(s, 0) for s in ACCEPTED_STATUSES) / decided
