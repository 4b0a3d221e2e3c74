"""Rights-holder claims as data: statuses, the one table of allowed moves, outcomes with their
letters, the response deadline, and the keys that match a claim to a published article."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from intake.core.clock import as_utc
from intake.core.errors import UsageError
from intake.workflow import submission as workflow
from intake.workflow.submission import Role as Role  # one set of roles for every case


class ClaimStatus(enum.StrEnum):
    """Where a claim is (``claims.status``)."""

    RECEIVED = "received"
    INVESTIGATING = "investigating"
    NEEDS_INFO = "needs_info"
    RESOLVED_REMOVED = "resolved_removed"
    RESOLVED_PAID = "resolved_paid"
    RESOLVED_LICENSED = "resolved_licensed"
    REJECTED = "rejected"


class Outcome(enum.StrEnum):
    """The argument of ``intake claim resolve``: how a claim ended."""

    REMOVED = "removed"
    PAID = "paid"
    LICENSED = "licensed"
    REJECTED = "rejected"


C = ClaimStatus
_STAFF = frozenset({Role.STAFF})
_STAFF_CLAIMANT = frozenset({Role.STAFF, Role.CLAIMANT})
_ENDS = (C.RESOLVED_REMOVED, C.RESOLVED_PAID, C.RESOLVED_LICENSED, C.REJECTED)

#: THE transition table: (from, to) -> the roles that may make that move. A claim is looked
#: into before it is resolved (received -> investigating -> outcome), and staff may ask for
#: evidence on the way. The claimant's answer to a request for evidence, or to a rejection
#: (whose letter invites new evidence), puts the claim back under investigation. Staff may
#: reopen any resolved claim (the work is back online, the payment bounced).
TRANSITIONS: Mapping[tuple[ClaimStatus, ClaimStatus], frozenset[Role]] = {
    (C.RECEIVED, C.INVESTIGATING): _STAFF,
    (C.RECEIVED, C.NEEDS_INFO): _STAFF,
    (C.INVESTIGATING, C.NEEDS_INFO): _STAFF,
    **{(C.INVESTIGATING, end): _STAFF for end in _ENDS},
    (C.NEEDS_INFO, C.INVESTIGATING): _STAFF_CLAIMANT,
    **{(C.NEEDS_INFO, end): _STAFF for end in _ENDS},
    **{(end, C.INVESTIGATING): _STAFF for end in _ENDS if end is not C.REJECTED},
    (C.REJECTED, C.INVESTIGATING): _STAFF_CLAIMANT,
    # A letter that is no claim at all (reclassified as a submission) is rejected unread, and
    # comes back as received if it was a claim after all.
    (C.RECEIVED, C.REJECTED): _STAFF,
    (C.REJECTED, C.RECEIVED): _STAFF,
}

#: Not resolved yet: what ``intake stats`` counts as open claims.
OPEN_STATUSES: frozenset[ClaimStatus] = frozenset({C.RECEIVED, C.INVESTIGATING, C.NEEDS_INFO})
#: Open claims whose answer is ours to give: these are overdue past the deadline. A claim in
#: needs_info waits for the claimant, who has had our answer (the request for evidence).
AWAITING_US: frozenset[ClaimStatus] = frozenset({C.RECEIVED, C.INVESTIGATING})
RESOLVED_STATUSES: frozenset[ClaimStatus] = frozenset(_ENDS)

#: Each outcome, the status it moves to and the letter that tells the claimant.
OUTCOME_STATUS: Mapping[Outcome, ClaimStatus] = {
    Outcome.REMOVED: C.RESOLVED_REMOVED,
    Outcome.PAID: C.RESOLVED_PAID,
    Outcome.LICENSED: C.RESOLVED_LICENSED,
    Outcome.REJECTED: C.REJECTED,
}
OUTCOME_TEMPLATE: Mapping[Outcome, str] = {
    Outcome.REMOVED: "claim_removed",
    Outcome.PAID: "claim_paid",
    Outcome.LICENSED: "claim_licensed",
    Outcome.REJECTED: "claim_rejected",
}
ACK_TEMPLATE = "claim_ack"
NEEDS_INFO_TEMPLATE = "claim_needs_info"


def status(value: str) -> ClaimStatus:
    """``value`` as a :class:`ClaimStatus`; an unknown one (a corrupt row) is a UsageError."""
    try:
        return ClaimStatus(value)
    except ValueError:
        raise UsageError(f"unknown claim status {value!r}") from None


def allowed_moves(current: ClaimStatus | str, role: Role = Role.STAFF) -> list[ClaimStatus]:
    """The statuses ``role`` may move a claim in ``current`` to, in table order."""
    return [to for (frm, to), roles in TRANSITIONS.items() if frm == current and role in roles]


def can_move(current: ClaimStatus | str, target: ClaimStatus | str, role: Role) -> bool:
    roles = TRANSITIONS.get((status(current), status(target)))
    return roles is not None and role in roles


def check_move(
    claim_id: int, current: ClaimStatus | str, target: ClaimStatus | str, role: Role = Role.STAFF
) -> None:
    """Refuse a move the table does not allow; the message names the allowed ones."""
    current, target = status(current), status(target)
    roles = TRANSITIONS.get((current, target))
    if roles is not None and role in roles:
        return
    raise workflow.refusal(
        f"claim {claim_id}", current, target, roles, allowed_moves(current, role)
    )


def first_touch(current: ClaimStatus | str) -> ClaimStatus | None:
    """The status the first assignment or note moves to: a received claim is being looked into."""
    return C.INVESTIGATING if current == C.RECEIVED else None


# --------------------------------------------------------------------------- deadline


def deadline_for(received_at: datetime, response_days: int) -> datetime:
    """When the answer promised in the acknowledgement is due: received + response days."""
    return received_at + timedelta(days=response_days)


def deadline_after_answer(deadline: datetime | None, now: datetime, response_days: int) -> datetime:
    """The deadline once the claimant has sent the evidence we asked for: a full response
    period from now, never earlier than the one already promised."""
    fresh = as_utc(now) + timedelta(days=response_days)
    return fresh if deadline is None else max(as_utc(deadline), fresh)


def is_overdue(status_: str, deadline: datetime | None, now: datetime) -> bool:
    """Still waiting for our answer and past the deadline."""
    if deadline is None or status_ not in AWAITING_US:
        return False
    return as_utc(deadline) < as_utc(now)


# --------------------------------------------------------------------------- resolution


_AMOUNT_DIGIT = re.compile(r"\d")
MAX_AMOUNT_CHARS = 50


def check_amount(outcome: Outcome, amount: str) -> str:
    """The amount to record for ``outcome``: required for a payment, refused otherwise."""
    amount = " ".join(amount.split())
    if outcome is not Outcome.PAID:
        if amount:
            raise UsageError(f"--amount is for resolve paid, not resolve {outcome}")
        return ""
    if not amount:
        raise UsageError("resolve paid needs --amount (what was paid, e.g. 500元 or RMB 500)")
    if not _AMOUNT_DIGIT.search(amount) or len(amount) > MAX_AMOUNT_CHARS:
        raise UsageError(f"--amount {amount!r}: give a sum with its digits, e.g. 500元")
    return amount


def check_reason(outcome: Outcome, message: str) -> None:
    """A rejection must say why: the claimant's letter states the reason and so does history."""
    if outcome is Outcome.REJECTED and not message.strip():
        raise UsageError("resolve rejected needs --message with the reason for the claimant")


# --------------------------------------------------------------------------- matching


def url_key(url: str) -> str:
    """A URL as compared with a published article's: no scheme, no ``www.`` or ``m.``, no
    fragment or trailing slash, host in lower case (claimants copy links from phones too)."""
    text = url.strip()
    if "://" not in text:
        text = "http://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".")
    for prefix in ("www.", "m.", "wap."):
        if host.startswith(prefix) and host.count(".") > 1:
            host = host[len(prefix) :]
            break
    if not host:
        return ""
    path = parts.path.rstrip("/")
    return f"{host}{path}" + (f"?{parts.query}" if parts.query else "")


_TITLE_MARKS = "《》〈〉“”\"'‘’「」『』"


def title_key(title: str) -> str:
    """A title as compared with a published article's: without quotation marks, whitespace or
    width and case differences."""
    text = unicodedata.normalize("NFKC", title).casefold()
    text = "".join(ch for ch in text if ch not in _TITLE_MARKS)
    return "".join(text.split())
