"""Copyright consent: a contributor's answer to our request read into a recorded decision with its
evidence (and a receipt), the request's reminder and expiry, and the decisions staff record.

Consent is evidence a newspaper publishes and pays on: every decision is a row in ``consents``
with what it rests on (the message's sha256, Message-IDs, Authentication-Results, DKIM, the
terms version, the phrase that decided), and every change of the rights goes through
:func:`intake.workflow.cases.move` with :data:`intake.workflow.submission.RIGHTS_TRANSITIONS`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from intake.conversations import consent
from intake.core.config import Settings
from intake.core.errors import StorageError, UsageError
from intake.core.events import Ingested
from intake.core.ports import BlobReader
from intake.replies.letters import Letter, Letters, recipient
from intake.store import consent as consent_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.text.addresses import normalised_or_lower
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

#: Verifies the DKIM signature of raw message bytes: "none", "pass", "fail" or "error: …".
DkimVerifier = Callable[[bytes], str]


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
    """What ``intake consent`` recorded."""

    submission_id: int
    decision: str
    from_status: str
    to_status: str
    consent_id: int


class CopyrightAnswers:
    """Reads a reply to a submission as the answer to our copyright request, when one is
    awaited, and records it; everything it uses is passed in."""

    def __init__(
        self,
        settings: Settings,
        *,
        letters: Letters,
        blobs: BlobReader,
        dkim: DkimVerifier,
    ) -> None:
        self.settings = settings
        self.letters = letters
        self.blobs = blobs
        self.dkim = dkim

    def read(self, session: Session, submission: Submission, item: Ingested, new: str) -> None:
        """Read the reply's new text ``new`` as an answer to the copyright request."""
        rights = self.settings.copyright
        reading = consent.read(new, rights.grant_phrases, rights.refuse_phrases)
        status = submission.copyright_status
        if status == CopyrightStatus.NOT_REQUESTED:
            self._requested_without_mark(session, submission)
            status = submission.copyright_status
        if status in AWAITING:
            self._record_answer(session, submission, item, reading)
            return
        if reading.decision is consent.Decision.UNCLEAR:
            return
        # The request is not awaiting an answer, but the reply reads like one: an editor decides.
        contradicts: dict[str, consent.Decision] = {
            CopyrightStatus.GRANTED: consent.Decision.REFUSE,
            CopyrightStatus.WAIVED: consent.Decision.REFUSE,
            CopyrightStatus.REFUSED: consent.Decision.GRANT,
        }
        if status == CopyrightStatus.EXPIRED or contradicts.get(status) is reading.decision:
            reason = (
                f"reply {item.message_pk} reads as {reading.decision} ({reading.phrase!r}) "
                f"while copyright is {status}"
            )
            cases.flag(session, submission, reason, now=item.now)

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
        self, session: Session, submission: Submission, item: Ingested, reading: consent.Reading
    ) -> None:
        asked = self._asked_terms(session, submission)
        parsed = item.parsed
        # Stored senders are normalised: the answer's address is compared in the same form.
        sender = normalised_or_lower(parsed.sender.addr) if parsed.sender else ""
        if reading.decision is not consent.Decision.UNCLEAR and sender != submission.sender:
            # Consent is the contributor's to give: an answer from another address (a second
            # mailbox, a co-author, a forwarder) is for an editor to confirm.
            reading = consent.Reading(
                consent.Decision.UNCLEAR,
                reading.phrase,
                f"reads as {reading.decision} but comes from {sender or 'no address'}, "
                f"not the contributor's {submission.sender}",
                reading.clause,
            )
        evidence = consent_store.add_consent(
            session,
            submission_id=submission.id,
            decision=reading.decision.value,
            at=item.now,
            terms_version=asked,
            phrase=reading.phrase,
            message_pk=item.message_pk,
            message_id=parsed.message_id,
            in_reply_to=" ".join(parsed.in_reply_to),
            sha256=item.sha256,
            raw_path=item.raw_path,
            sender=sender,
            auth_results="\n".join(parsed.header_all("Authentication-Results")),
            dkim=self._dkim(item),
            actor=SYSTEM_ACTOR,
            # The sentence that decided, as the contributor wrote it, is part of the evidence.
            note=reading.reason + (f" — in: {reading.clause}" if reading.clause else ""),
        )
        if reading.decision is consent.Decision.UNCLEAR:
            reason = (
                f"reply {item.message_pk} to the copyright request is unclear: {reading.reason}"
            )
            cases.flag(session, submission, reason, now=item.now)
            return
        granted = reading.decision is consent.Decision.GRANT
        cases.move(
            session, submission, CopyrightStatus.GRANTED if granted else CopyrightStatus.REFUSED,
            actor=SYSTEM_ACTOR, role=Role.CONTRIBUTOR, action="copyright", now=item.now,
            note=f"reply message {item.message_pk}: {reading.phrase!r} (terms {asked or '?'}; "
            f"dkim {evidence.dkim}; consent #{evidence.id})",
        )  # fmt: skip
        self._receipt(session, submission, item, granted=granted, terms=asked)

    def _asked_terms(self, session: Session, submission: Submission) -> str:
        """The terms version the contributor was asked to agree to."""
        if not submission.terms_version:
            request = consent_store.last_request(session, submission.id)
            found = request.terms_version if request is not None else ""
            submission.terms_version = found or self.settings.copyright.version
        return submission.terms_version

    def _dkim(self, item: Ingested) -> str:
        if item.dkim:  # checked by ingest before its transaction began
            return item.dkim
        if not item.raw_path:
            return "error: raw message not stored"
        try:
            raw = self.blobs.get(item.raw_path)
        except (StorageError, OSError) as exc:
            return f"error: {exc}"[:50]
        try:
            return self.dkim(raw)[:50]
        except Exception as exc:  # noqa: BLE001 - evidence is recorded either way
            log.warning("DKIM check of message %d failed: %s", item.message_pk, exc)
            return f"error: {type(exc).__name__}"[:50]

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
