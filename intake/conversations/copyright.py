"""Copyright consent: a contributor's answer to our request read into a recorded decision with its
evidence (and a receipt), the request's reminder and expiry, the decisions staff record, and
the pending decisions they confirm or reject.

Consent is evidence a newspaper publishes and pays on: every reading is a row in ``consents``
with what it rests on (the message's sha256, Message-IDs, Authentication-Results, DKIM, the
terms version, the phrase and the clause that decided, the letter it answered and how it was
bound: :mod:`intake.conversations.binding`), and every change of the rights goes through
:func:`intake.workflow.cases.move` with :data:`intake.workflow.submission.RIGHTS_TRANSITIONS`.

Only an answer from the contributor that is bound to the current copyright request or its
reminder decides anything. Bound by our Message-ID or by an aligned DKIM signature, it is
applied; bound by the confirmation code alone (``token_only``), it is a pending decision an
editor confirms or rejects (``intake consent confirm|reject ID``). Several answers: each
applied answer decides while the request awaits one; a later pending answer replaces an
earlier pending one; once the rights are settled a contrary answer is kept as evidence and
flagged, never applied (docs/consent.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from intake.conversations import consent
from intake.conversations.binding import Binding
from intake.core.config import Settings
from intake.core.errors import UsageError
from intake.core.events import Ingested
from intake.replies.letters import Letter, Letters, recipient
from intake.store import consent as consent_store
from intake.store import submissions as submission_store
from intake.store.models import Consent, Message, Submission
from intake.workflow import cases
from intake.workflow import submission as workflow
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.submission import CopyrightStatus, Role

if TYPE_CHECKING:
    from intake.store import Session

log = logging.getLogger(__name__)

#: Copyright statuses in which a reply is read as the answer to our request.
AWAITING = frozenset({CopyrightStatus.REQUESTED, CopyrightStatus.REMINDED})
#: What staff may record with ``intake consent ID ACTION`` (a workflow table, defined there so
#: the CLI can offer the choices without importing this module).
STAFF_DECISIONS = workflow.STAFF_DECISIONS
#: The flag a pending decision raises starts so; confirming or rejecting takes it off.
PENDING_FLAG = "consent pending:"

# ``consents.state``: what became of a reading.
APPLIED = "applied"
PENDING = consent_store.PENDING
CONFIRMED = "confirmed"
REJECTED = "rejected"
SUPERSEDED = "superseded"
NOT_APPLIED = "not_applied"

_DECIDES = {
    consent.Decision.GRANT: CopyrightStatus.GRANTED,
    consent.Decision.REFUSE: CopyrightStatus.REFUSED,
}
#: An answer that says the opposite of settled rights (an editor may want to act on it).
_CONTRADICTS: dict[str, consent.Decision] = {
    CopyrightStatus.GRANTED: consent.Decision.REFUSE,
    CopyrightStatus.WAIVED: consent.Decision.REFUSE,
    CopyrightStatus.REFUSED: consent.Decision.GRANT,
    CopyrightStatus.REVOKED: consent.Decision.GRANT,
}


@dataclass(frozen=True, slots=True)
class Maintenance:
    """What one copyright maintenance run did (``intake remind --json``)."""

    reminded: int = 0
    expired: int = 0
    unsent: int = 0  # reminders or expiry notices that no rule let us send

    def as_json(self) -> dict[str, int]:
        return {"reminded": self.reminded, "expired": self.expired, "unsent": self.unsent}


@dataclass(frozen=True, slots=True)
class ConsentChange:
    """What ``intake consent`` (and ``consent confirm|reject``) recorded."""

    submission_id: int
    decision: str
    from_status: str
    to_status: str
    consent_id: int
    state: str = APPLIED
    outbox_id: int | None = None  # the receipt a confirmation queued
    skipped: str = ""  # why no receipt was queued


class CopyrightAnswers:
    """Reads a contributor's reply bound to our copyright request and records it; everything
    it uses is passed in."""

    def __init__(self, settings: Settings, *, letters: Letters) -> None:
        self.settings = settings
        self.letters = letters

    def read(
        self, session: Session, submission: Submission, item: Ingested, binding: Binding
    ) -> None:
        """Read the reply as an answer to the copyright request (the caller has checked that
        it comes from the contributor)."""
        if not binding.from_contributor:
            return
        if consent_store.for_message(session, item.message_pk) is not None:
            return  # read once: a second daemon or a reprocess finds it recorded
        rights = self.settings.copyright
        reading = consent.read(binding.new_text, rights.grant_phrases, rights.refuse_phrases)
        status = submission.copyright_status
        if status == CopyrightStatus.NOT_REQUESTED:
            self._requested_without_mark(session, submission)
            status = submission.copyright_status
        letter = binding.rights_letter
        if letter is None:
            if _says_something(status, reading.decision):
                # While we wait, the answer may have come this way; once the rights are
                # settled, a contrary word (a refusal answering the receipt, which invites
                # one) is the contributor changing their mind: an editor must see it.
                what = (
                    "grant|refuse if it is the answer"
                    if status in AWAITING
                    else "grant|refuse|revoke to act on it"
                )
                cases.flag(
                    session, submission,
                    f"reply {item.message_pk} reads as {reading.decision} ({reading.phrase!r}) "
                    f"while copyright is {status}, but {binding.unbound()}: not applied "
                    f"(intake consent {submission.id} {what})",
                    now=item.now,
                )  # fmt: skip
            return
        if not binding.current:
            if reading.decision is not consent.Decision.UNCLEAR:
                cases.flag(
                    session, submission,
                    f"reply {item.message_pk} reads as {reading.decision} but answers "
                    f"{letter.template} outbox #{letter.id}, an earlier request since replaced "
                    f"by outbox #{binding.current_request}: not applied",
                    now=item.now,
                )  # fmt: skip
            return
        if status in AWAITING:
            self._record_answer(session, submission, item, binding, reading)
            return
        if reading.decision is consent.Decision.UNCLEAR:
            return
        if status == CopyrightStatus.EXPIRED or _CONTRADICTS.get(status) is reading.decision:
            # The request is not awaiting an answer, but this one says something: kept as
            # evidence, for an editor to take up.
            why = f"reads as {reading.decision} ({reading.phrase!r}) while copyright is {status}"
            row = self._evidence(
                session, submission, item, binding, reading, state=NOT_APPLIED,
                note=f"{why}: not applied",
            )  # fmt: skip
            cases.flag(
                session, submission, f"reply {item.message_pk} {why} (consent #{row.id})",
                now=item.now,
            )  # fmt: skip

    def _requested_without_mark(self, session: Session, submission: Submission) -> None:
        """A copyright request in the outbox while the submission still says not_requested
        (an older outbox, or a request queued by hand): mark it as requested now."""
        request = consent_store.last_request(session, submission.id)
        if request is None:
            return
        submission.terms_version = submission.terms_version or request.terms_version
        cases.move(
            session, submission, CopyrightStatus.REQUESTED, actor=SYSTEM_ACTOR, role=Role.SYSTEM,
            action="copyright", now=request.created_at,
            note=f"the request queued as outbox #{request.id} was not marked; marked now",
        )  # fmt: skip
        submission.copyright_requested_at = request.created_at

    def _record_answer(
        self,
        session: Session,
        submission: Submission,
        item: Ingested,
        binding: Binding,
        reading: consent.Reading,
    ) -> None:
        if reading.decision is consent.Decision.UNCLEAR:
            self._evidence(session, submission, item, binding, reading, state=NOT_APPLIED)
            reason = (
                f"reply {item.message_pk} to the copyright request is unclear: {reading.reason}"
            )
            cases.flag(session, submission, reason, now=item.now)
            return
        # A newer answer replaces a decision still waiting for an editor.
        _supersede(session, submission, item.message_pk, actor=SYSTEM_ACTOR, now=item.now)
        if not binding.automatic:
            row = self._evidence(session, submission, item, binding, reading, state=PENDING)
            cases.flag(
                session, submission,
                f"{PENDING_FLAG} reply {item.message_pk} reads as {reading.decision} "
                f"({reading.phrase!r}) and is bound by its confirmation code only "
                f"(consent #{row.id}): intake consent confirm {submission.id} | "
                f"intake consent reject {submission.id}",
                now=item.now,
            )  # fmt: skip
            return
        row = self._evidence(session, submission, item, binding, reading, state=APPLIED)
        granted = reading.decision is consent.Decision.GRANT
        cases.move(
            session, submission, _DECIDES[reading.decision], actor=SYSTEM_ACTOR,
            role=Role.CONTRIBUTOR, action="copyright", now=item.now,
            note=f"reply message {item.message_pk}: {reading.phrase!r} (terms "
            f"{row.terms_version or '?'}; {row.authenticity}; dkim {row.dkim}; consent #{row.id})",
        )  # fmt: skip
        self._receipt(session, submission, item, granted=granted, terms=row.terms_version)

    def _evidence(
        self,
        session: Session,
        submission: Submission,
        item: Ingested,
        binding: Binding,
        reading: consent.Reading,
        *,
        state: str,
        note: str = "",
    ) -> Consent:
        """The reading as a ``consents`` row with everything it rests on."""
        letter = binding.rights_letter
        terms = (letter.terms_version if letter else "") or self._asked_terms(session, submission)
        submission.terms_version = submission.terms_version or terms
        parsed = item.parsed
        how = f"{binding.authenticity}" + (
            f", DKIM d={binding.dkim_domain} aligned" if binding.dkim_domain else ""
        )
        return consent_store.add_consent(
            session,
            submission_id=submission.id,
            decision=reading.decision.value,
            at=item.now,
            terms_version=terms,
            phrase=reading.phrase,
            message_pk=item.message_pk,
            message_id=parsed.message_id,
            in_reply_to=" ".join(parsed.in_reply_to),
            sha256=item.sha256,
            raw_path=item.raw_path,
            sender=binding.sender,
            auth_results="\n".join(parsed.header_all("Authentication-Results")),
            dkim=binding.dkim.result,
            actor=SYSTEM_ACTOR,
            note="; ".join(filter(None, [reading.reason, note, f"bound: {how}"])),
            authenticity=str(binding.authenticity or ""),
            answers_outbox_id=letter.id if letter else None,
            # The sentence that decided, as the contributor wrote it, is part of the evidence.
            clause=reading.clause,
            state=state,
        )

    def _asked_terms(self, session: Session, submission: Submission) -> str:
        """The terms version the contributor was asked to agree to."""
        if not submission.terms_version:
            request = consent_store.last_request(session, submission.id)
            found = request.terms_version if request is not None else ""
            return found or self.settings.copyright.version
        return submission.terms_version

    def _receipt(
        self, session: Session, submission: Submission, item: Ingested, *, granted: bool, terms: str
    ) -> None:
        if not item.auto_reply_allowed:
            why = item.auto_reply_reason or "no automatic reply"
            note = f"consent_receipt not sent: {why}"
            cases.record(session, submission, "reply", actor=SYSTEM_ACTOR, now=item.now, note=note)
            return
        context = {"granted": granted, "terms_version": terms, "received_at": item.received_at}
        letter = Letter(
            "consent_receipt", recipient(submission), context, item.message_pk, automatic=True
        )
        self.letters.send(session, submission, letter, actor=SYSTEM_ACTOR, now=item.now)


def _supersede(
    session: Session, submission: Submission, by: int | str, *, actor: str, now: datetime
) -> None:
    """Close the pending decisions of ``submission``: a later answer (message ``by``) or a
    staff decision took their place."""
    rows = consent_store.pending(session, submission.id)
    for row in rows:
        row.state = SUPERSEDED
        row.reviewed_by, row.reviewed_at = actor[:100], now
    if rows:
        ids = ", ".join(f"#{row.id}" for row in rows)
        cases.drop_flag(
            session, submission, PENDING_FLAG, actor=actor, now=now,
            note=f"pending consent {ids} superseded by {by}",
        )  # fmt: skip


# ---------------------------------------------------------------------- maintenance


def run_copyright_maintenance(
    session: Session, letters: Letters, settings: Settings, now: datetime
) -> Maintenance:
    """Remind after ``copyright.reminder_days`` without an answer (requested -> reminded) and
    expire after ``copyright.expiry_days`` (requested/reminded -> expired), with their letters.

    Without replies configured nothing is reminded (a reminder that cannot be sent is none),
    but requests still expire.
    """
    rights = settings.copyright
    counts = Maintenance()
    due = now - timedelta(days=rights.expiry_days)
    for submission in consent_store.requested_before(session, list(AWAITING), due):
        cases.move(
            session, submission, CopyrightStatus.EXPIRED, actor=SYSTEM_ACTOR, role=Role.SYSTEM,
            action="copyright", now=now, note=f"no answer in {rights.expiry_days} days",
        )  # fmt: skip
        sent = _send(session, letters, submission, "copyright_expired", now)
        counts = Maintenance(counts.reminded, counts.expired + 1, counts.unsent + (not sent))
    if not letters.available:
        return counts
    due = now - timedelta(days=rights.reminder_days)
    for submission in consent_store.requested_before(session, [CopyrightStatus.REQUESTED], due):
        cases.move(
            session, submission, CopyrightStatus.REMINDED, actor=SYSTEM_ACTOR, role=Role.SYSTEM,
            action="copyright", now=now, note=f"no answer in {rights.reminder_days} days",
        )  # fmt: skip
        sent = _send(session, letters, submission, "copyright_reminder", now)
        counts = Maintenance(counts.reminded + 1, counts.expired, counts.unsent + (not sent))
    return counts


def _send(
    session: Session, letters: Letters, submission: Submission, template: str, now: datetime
) -> bool:
    """Queue ``template`` to the contributor; whether it was queued (the history says why not)."""
    letter = Letter(template, recipient(submission), automatic=True)
    sent = letters.send(session, submission, letter, actor=SYSTEM_ACTOR, now=now)
    return sent.outbox_id is not None


# ---------------------------------------------------------------------- staff decisions


def record_decision(
    session: Session,
    settings: Settings,
    submission_id: int,
    decision: str,
    *,
    note: str,
    actor: str,
    now: datetime,
) -> ConsentChange:
    """Record consent given (or refused, waived, revoked) some other way: ``intake consent``."""
    if decision not in STAFF_DECISIONS:
        raise UsageError(
            f"unknown consent decision {decision!r} (use {', '.join(STAFF_DECISIONS)})"
        )
    note = note.strip()
    if decision == "waive" and not note:
        raise UsageError("a waiver needs a note saying why (--note)")
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    before = submission.copyright_status
    after = STAFF_DECISIONS[decision]
    if decision == "revoke" and before not in (CopyrightStatus.GRANTED, CopyrightStatus.WAIVED):
        raise UsageError(
            f"submission {submission_id}: copyright is {before}: only a grant or a waiver can be "
            "revoked"
        )
    workflow.check_rights_move(submission.id, before, after, Role.STAFF)
    _supersede(session, submission, f"the staff decision of {actor}", actor=actor, now=now)
    terms = submission.terms_version or settings.copyright.version
    row = consent_store.add_consent(
        session,
        submission_id=submission.id,
        decision=decision,
        at=now,
        terms_version=terms,
        sender=submission.sender,
        actor=actor,
        note=note,
    )
    submission.terms_version = terms
    cases.move(
        session, submission, after, actor=actor, role=Role.STAFF, action="copyright", now=now,
        note=f"{decision} recorded by staff (consent #{row.id})" + (f": {note}" if note else ""),
    )  # fmt: skip
    return ConsentChange(submission.id, decision, before, after, row.id)


# ---------------------------------------------------------------------- pending decisions


def confirm_pending(
    session: Session,
    letters: Letters,
    submission_id: int,
    *,
    actor: str,
    now: datetime,
    note: str = "",
    consent_id: int | None = None,
    notify: bool = True,
) -> ConsentChange:
    """An editor confirms the pending decision of a submission (``intake consent confirm``):
    the contributor's reading moves the rights, as staff, and keeps its evidence; the receipt
    goes out (unless ``notify`` is False)."""
    submission, row = _pending(session, submission_id, consent_id)
    target = STAFF_DECISIONS[row.decision]
    before = submission.copyright_status
    workflow.check_rights_move(submission.id, before, target, Role.STAFF)
    row.state = CONFIRMED
    row.reviewed_by, row.reviewed_at = actor[:100], now
    cases.move(
        session, submission, target, actor=actor, role=Role.STAFF, action="copyright", now=now,
        note=f"confirmed consent #{row.id}: {row.decision} {row.phrase!r} from {row.sender} "
        f"(reply message {row.message_pk}, {row.authenticity})" + (f": {note}" if note else ""),
    )  # fmt: skip
    cases.drop_flag(
        session, submission, PENDING_FLAG, actor=actor, now=now, note=f"confirmed #{row.id}"
    )
    change = ConsentChange(submission.id, row.decision, before, target, row.id, CONFIRMED)
    if not notify:
        cases.record(
            session, submission, "reply", actor=actor, now=now,
            note="consent_receipt not sent: --no-notify",
        )  # fmt: skip
        return change
    message = session.get(Message, row.message_pk) if row.message_pk is not None else None
    context = {
        "granted": row.decision == consent.Decision.GRANT,
        "terms_version": row.terms_version,
        "received_at": message.received_at if message is not None else row.at,
    }
    letter = Letter("consent_receipt", recipient(submission), context, row.message_pk)
    sent = letters.send(session, submission, letter, actor=actor, now=now)
    return ConsentChange(
        submission.id, row.decision, before, target, row.id, CONFIRMED,
        sent.outbox_id, sent.skipped,
    )  # fmt: skip


def reject_pending(
    session: Session,
    submission_id: int,
    *,
    actor: str,
    now: datetime,
    note: str = "",
    consent_id: int | None = None,
) -> ConsentChange:
    """An editor rejects the pending decision (``intake consent reject``): it stays as
    evidence, the rights do not move, and the request goes on (reminders, expiry)."""
    submission, row = _pending(session, submission_id, consent_id)
    row.state = REJECTED
    row.reviewed_by, row.reviewed_at = actor[:100], now
    status = submission.copyright_status
    cases.record(
        session, submission, "copyright", actor=actor, now=now,
        note=f"rejected consent #{row.id}: {row.decision} {row.phrase!r} from {row.sender} "
        f"(reply message {row.message_pk})" + (f": {note}" if note else ""),
    )  # fmt: skip
    cases.drop_flag(
        session, submission, PENDING_FLAG, actor=actor, now=now, note=f"rejected #{row.id}"
    )
    return ConsentChange(submission.id, row.decision, status, status, row.id, REJECTED)


def _pending(
    session: Session, submission_id: int, consent_id: int | None
) -> tuple[Submission, Consent]:
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    rows = consent_store.pending(session, submission.id)
    if not rows:
        raise UsageError(f"submission {submission_id} has no pending consent decision")
    row = rows[0]
    if consent_id is not None and row.id != consent_id:
        raise UsageError(
            f"submission {submission_id}: the pending decision is consent #{row.id}, "
            f"not #{consent_id} (see intake consent {submission_id})"
        )
    return submission, row


def _says_something(status: str, decision: consent.Decision) -> bool:
    """Whether an answer bound to no request of ours should still reach an editor: while the
    request waits or after it expired, any grant or refusal; once the rights are settled, one
    that says the opposite."""
    if decision is consent.Decision.UNCLEAR:
        return False
    if status in AWAITING or status == CopyrightStatus.EXPIRED:
        return True
    return _CONTRADICTS.get(status) is decision
