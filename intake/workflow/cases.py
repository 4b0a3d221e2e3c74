"""The one way to change a case: :func:`move` checks the table, stamps the row and records the
event; :func:`record` writes every other entry of a case's history.

A case is a submission (its editorial status and, separately, its rights) or a rights holder's
claim. Nothing else in intake writes ``submissions.status``, ``submissions.copyright_status`` or
``claims.status`` of an existing row (``tests/workflow/test_cases.py`` scans for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from intake.core.errors import UsageError
from intake.store import submissions as submission_store
from intake.store.models import Claim, Submission
from intake.workflow import claim as claimflow
from intake.workflow import submission as flow
from intake.workflow.claim import ClaimStatus
from intake.workflow.submission import CopyrightStatus, Role, Status

if TYPE_CHECKING:
    from intake.store import Session

#: The actor of what intake does by itself (its events, its letters).
SYSTEM_ACTOR = "intake"

Case = Submission | Claim
Target = Status | CopyrightStatus | ClaimStatus


@dataclass(frozen=True, slots=True)
class Moved:
    """A case's status before and after a move (the same when the action moved nothing)."""

    before: str
    after: str

    @property
    def moved(self) -> bool:
        return self.before != self.after


def move(
    session: Session,
    case: Case,
    to: Target,
    *,
    actor: str,
    role: Role,
    action: str,
    now: datetime,
    note: str = "",
    also: Case | None = None,
) -> Moved:
    """Move ``case`` to ``to`` if its table lets ``role`` do that, stamp it, record the event.

    ``to`` says which status moves: a :class:`Status` (the editorial flow of a submission), a
    :class:`CopyrightStatus` (its rights) or a :class:`ClaimStatus`. ``also`` is another case
    the event belongs to as well (a submission reclassified as a claim shows in both
    histories). Raises :class:`~intake.core.errors.TransitionRefused` naming the allowed moves.
    """
    if isinstance(to, ClaimStatus):
        claim = _claim(case)
        claimflow.check_move(claim.id, claim.status, to, role)
        before = claim.status
        claim.status = to.value
    elif isinstance(to, CopyrightStatus):
        submission = _submission(case)
        flow.check_rights_move(submission.id, submission.copyright_status, to, role)
        before = submission.copyright_status
        submission.copyright_status = to.value
        if to is CopyrightStatus.REQUESTED:
            submission.copyright_requested_at = now
    else:
        submission = _submission(case)
        flow.check_move(submission.id, submission.status, to, role)
        before = submission.status
        submission.status = to.value
        submission.decided_at = flow.decided_at_after(to, submission.decided_at, now)
        if before == Status.DUPLICATE:
            # Out of "duplicate" (reopened, or not a duplicate after all): no longer linked.
            submission.duplicate_of = None
            submission.similarity = None
    case.updated_at = now
    record(
        session, case, action, actor=actor, now=now, note=note, before=before, after=to, also=also
    )
    return Moved(before, to.value)


def touch(
    session: Session, case: Case, action: str, *, actor: str, now: datetime, note: str
) -> Moved:
    """Record a staff action on ``case`` (an assignment, a note); the first one starts the
    work on it (a received submission goes in review, a received claim under investigation)."""
    target: Target | None
    if isinstance(case, Claim):
        target = claimflow.first_touch(case.status)
    else:
        target = flow.first_touch(case.status)
    if target is None:
        record(session, case, action, actor=actor, now=now, note=note)
        case.updated_at = now
        return Moved(case.status, case.status)
    return move(
        session, case, target, actor=actor, role=Role.STAFF, action=action, now=now, note=note
    )


def assign(session: Session, case: Case, assignee: str, *, actor: str, now: datetime) -> Moved:
    """Give ``case`` to ``assignee`` ("" unassigns) and record it; an assignment starts the
    work on a case not yet started (:func:`touch`)."""
    if assignee == case.assignee:
        state = f"assigned to {assignee}" if assignee else "unassigned"
        raise UsageError(f"{_kind(case)} {case.id} is already {state}")
    previous = case.assignee
    case.assignee = assignee[:100]
    if assignee:
        note = f"assigned to {assignee}" + (f" (was {previous})" if previous else "")
        return touch(session, case, "assign", actor=actor, now=now, note=note)
    case.updated_at = now
    record(session, case, "assign", actor=actor, now=now, note=f"unassigned (was {previous})")
    return Moved(case.status, case.status)


def note(session: Session, case: Case, text: str, *, actor: str, now: datetime) -> Moved:
    """Add a staff note to the history of ``case``; a note starts the work on a case not yet
    started (:func:`touch`)."""
    text = text.strip()
    if not text:
        raise UsageError("an empty note says nothing: give the note's text")
    return touch(session, case, "note", actor=actor, now=now, note=text)


def record(
    session: Session,
    case: Case,
    action: str,
    *,
    actor: str,
    now: datetime,
    note: str = "",
    before: str = "",
    after: str = "",
    also: Case | None = None,
) -> None:
    """Add one entry to the history of ``case`` (and of ``also``): who did what, and the
    status move if there was one."""
    moved = before != after
    ids = _ids(case)
    if also is not None:
        ids = {**_ids(also), **ids}
    submission_store.add_event(
        session,
        at=now,
        actor=actor[:100],
        action=action,
        submission_id=ids.get("submission"),
        claim_id=ids.get("claim"),
        from_status=before if moved else "",
        to_status=after if moved else "",
        note=note,
    )


def flag(session: Session, submission: Submission, reason: str, *, now: datetime) -> None:
    """Ask staff to look: the reason goes on the submission (``list --flagged``) and into its
    history."""
    current = submission.flagged
    if reason not in current:
        submission.flagged = f"{current}; {reason}" if current else reason
    submission.updated_at = now
    record(session, submission, "flagged", actor=SYSTEM_ACTOR, now=now, note=reason)


def drop_flag(
    session: Session,
    submission: Submission,
    prefix: str,
    *,
    actor: str,
    now: datetime,
    note: str = "",
) -> str:
    """Take the reasons that start with ``prefix`` off the flag (what they asked for was
    done), keeping the others; the history says so. Returns what was dropped ("": nothing)."""
    reasons = [r for r in submission.flagged.split("; ") if r]
    dropped = [r for r in reasons if r.startswith(prefix)]
    if not dropped:
        return ""
    submission.flagged = "; ".join(r for r in reasons if not r.startswith(prefix))
    submission.updated_at = now
    text = "cleared: " + "; ".join(dropped) + (f" ({note})" if note else "")
    record(session, submission, "unflagged", actor=actor, now=now, note=text)
    return "; ".join(dropped)


def unflag(
    session: Session, submission: Submission, *, actor: str, now: datetime, note: str = ""
) -> str:
    """Staff have looked: the flag comes off and the history says who cleared what. Returns
    the reason that was cleared."""
    reason = submission.flagged
    submission.flagged = ""
    submission.updated_at = now
    text = f"cleared: {reason}" + (f" ({note})" if note else "")
    record(session, submission, "unflagged", actor=actor, now=now, note=text)
    return reason


def _kind(case: Case) -> str:
    return "claim" if isinstance(case, Claim) else "submission"


def _ids(case: Case) -> dict[str, int]:
    return {"claim": case.id} if isinstance(case, Claim) else {"submission": case.id}


def _claim(case: Case) -> Claim:
    if not isinstance(case, Claim):
        raise TypeError(f"a claim status moves a claim, not submission {case.id}")
    return case


def _submission(case: Case) -> Submission:
    if not isinstance(case, Submission):
        raise TypeError(f"a submission status moves a submission, not claim {case.id}")
    return case
