"""Conversations use case: replies filed on their submission (new versions, copyright consent with
evidence), bounces of our replies, duplicate submissions, and the copyright request's reminder
and expiry; plus the staff actions on consent and duplicates.

The ingest hooks run inside the message's transaction, in this order around the outbox's
acknowledgment hook (``intake.app.default_hooks``):

* :meth:`Conversations.dedupe_hook` BEFORE the acknowledgment: it sets ``duplicate_of`` (and
  ``similarity``) on a new submission that repeats an earlier one, which the acknowledgment hook
  reads to send the ``duplicate`` letter instead of an acknowledgment (same sender only);
* :meth:`Conversations.reply_hook` and :meth:`Conversations.bounce_hook` after it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake.conversations import consent
from intake.core.config import Settings
from intake.core.errors import StorageError, UsageError
from intake.core.events import Ingested
from intake.core.mail import Address, Kind
from intake.core.ports import BlobReader
from intake.documents import extract
from intake.replies import render as replies
from intake.store import consent as consent_store
from intake.store import conversations as conversation_store
from intake.store import dedupe as dedupe_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.submissions import fingerprints as dedupe
from intake.submissions.editorial import ReplyQueue
from intake.text import quotes
from intake.workflow import submission as workflow
from intake.workflow.opening import content_hash
from intake.workflow.submission import CopyrightStatus, Role, Status

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "intake"
#: Copyright statuses in which a reply is read as the answer to our request.
AWAITING = frozenset({CopyrightStatus.REQUESTED, CopyrightStatus.REMINDED})
#: What staff may record with ``intake consent ID ACTION`` (a workflow table, defined there so
#: the CLI can offer the choices without importing this module).
STAFF_DECISIONS = workflow.STAFF_DECISIONS
_CANDIDATES = 20  # near-duplicate candidates compared exactly, most shared bands first
_EXCERPT = 200

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


@dataclass(frozen=True, slots=True)
class DuplicateCleared:
    """What ``intake not-duplicate`` undid."""

    submission_id: int
    was_duplicate_of: int | None
    from_status: str
    to_status: str


class Conversations:
    """The ingest hooks for replies, bounces and duplicates. No global state: everything it
    uses is passed in; ``replier`` may be None (no SMTP: nothing is queued)."""

    def __init__(
        self,
        settings: Settings,
        *,
        replier: ReplyQueue | None,
        blobs: BlobReader,
        dkim: DkimVerifier,
        reply_secret: bytes = b"",
    ) -> None:
        self.settings = settings
        self.replier = replier
        self.blobs = blobs
        self.dkim = dkim
        self.reply_secret = reply_secret

    # ------------------------------------------------------------------ duplicates

    def dedupe_hook(self, session: Session, item: Ingested) -> None:
        """A new submission: fingerprint it and link it to the piece it repeats, if any."""
        if item.verdict.kind is not Kind.SUBMISSION or item.submission_id is None:
            return
        # Plain columns, not the ORM object: every new submission passes here, few match.
        (piece,) = dedupe_store.earlier(session, [item.submission_id])
        found = dedupe.fingerprint(piece.article_text)
        match = find_original(session, piece, found, self.settings.dedupe.near_threshold)
        if found is not None:
            dedupe_store.add_fingerprints(session, piece.id, found.bands)
        if match is not None:
            submission = submission_store.get_submission(session, piece.id)
            self._mark_duplicate(
                session, submission, match.id, match.similarity, match.how, now=item.now
            )

    def _mark_duplicate(
        self,
        session: Session,
        submission: Submission,
        original_id: int,
        score: float,
        how: str,
        *,
        now: datetime,
    ) -> None:
        original = submission_store.get_submission(session, original_id)
        submission.duplicate_of = original.id
        submission.similarity = round(score, 4)
        submission.updated_at = now
        if original.sender != submission.sender:
            # Another sender's copy is for an editor (plagiarism? co-authors?), never "already
            # received": the acknowledgment hook only sends that to the same sender.
            _flag(session, submission, f"{how} as #{original.id} from another sender", now)
            return
        if score >= 1.0 and submission.status == Status.RECEIVED:
            workflow.check_move(submission.id, submission.status, Status.DUPLICATE, Role.SYSTEM)
            submission.status = Status.DUPLICATE
            submission_store.add_event(
                session,
                at=now,
                actor=SYSTEM_ACTOR,
                action="duplicate",
                submission_id=submission.id,
                from_status=Status.RECEIVED,
                to_status=Status.DUPLICATE,
                note=f"{how} as #{original.id}",
            )
            return
        submission_store.add_event(
            session,
            at=now,
            actor=SYSTEM_ACTOR,
            action="near_duplicate",
            submission_id=submission.id,
            note=f"{how} to #{original.id}",
        )

    # ------------------------------------------------------------------ replies

    def reply_hook(self, session: Session, item: Ingested) -> None:
        """A reply filed on a submission: a conversation entry, maybe a new version, maybe the
        answer to our copyright request."""
        if item.verdict.kind is not Kind.REPLY or item.submission_id is None:
            return
        submission = submission_store.get_submission(session, item.submission_id, for_update=True)
        new = quotes.new_text(item.parsed.text)
        matched = item.thread.matched if item.thread else item.verdict.refers_to
        submission_store.add_event(
            session,
            at=item.now,
            actor=SYSTEM_ACTOR,
            action="reply",
            submission_id=submission.id,
            note=f"message {item.message_pk} ({matched}): {_excerpt(new) or '(no new text)'}",
        )
        self._new_version(session, submission, item, new)
        self._answer(session, submission, item, new)
        if submission.status == Status.NEEDS_INFO:
            # The contributor answered our request for information: back to the editors.
            workflow.check_move(
                submission.id, Status.NEEDS_INFO, Status.IN_REVIEW, Role.CONTRIBUTOR
            )
            submission.status = Status.IN_REVIEW
            submission_store.add_event(
                session,
                at=item.now,
                actor=SYSTEM_ACTOR,
                action="status",
                submission_id=submission.id,
                from_status=Status.NEEDS_INFO,
                to_status=Status.IN_REVIEW,
                note=f"the contributor answered (message {item.message_pk})",
            )
        submission.updated_at = item.now

    def _new_version(
        self, session: Session, submission: Submission, item: Ingested, new: str
    ) -> None:
        docs = [a for a in item.attachments if a.kind == "document" and a.text.strip()]
        if not docs:
            return
        article, source = extract.choose_article(new, [(a.filename, a.text) for a in docs])
        digest = content_hash(article)
        if digest and digest == submission.content_hash:
            submission_store.add_event(
                session,
                at=item.now,
                actor=SYSTEM_ACTOR,
                action="version",
                submission_id=submission.id,
                note=f"message {item.message_pk}: the same text as the current version",
            )
            return
        chars, words = extract.count_words(article)
        version = conversation_store.add_version(
            session,
            submission_id=submission.id,
            message_pk=item.message_pk,
            article_text=article,
            char_count=chars,
            created_at=item.now,
            attachment_ids=[a.attachment_id for a in docs],
        )
        submission.article_text = article
        submission.article_source = source[:500]
        submission.char_count, submission.word_count = chars, words
        submission.content_hash = digest
        found = dedupe.fingerprint(article)
        dedupe_store.replace_fingerprints(session, submission.id, found.bands if found else ())
        submission_store.add_event(
            session,
            at=item.now,
            actor=SYSTEM_ACTOR,
            action="version",
            submission_id=submission.id,
            note=f"version {version.number} from message {item.message_pk}: {source} ({chars} 字)",
        )

    def _answer(self, session: Session, submission: Submission, item: Ingested, new: str) -> None:
        """Read the reply as an answer to the copyright request, when one is awaited."""
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
            _flag(
                session,
                submission,
                f"reply {item.message_pk} reads as {reading.decision} ({reading.phrase!r}) "
                f"while copyright is {status}",
                item.now,
            )

    def _requested_without_mark(self, session: Session, submission: Submission) -> None:
        """A copyright request in the outbox while the submission still says not_requested
        (an older outbox, or a request queued by hand): mark it as requested now."""
        request = consent_store.last_request(session, submission.id)
        if request is None:
            return
        submission.copyright_status = CopyrightStatus.REQUESTED
        submission.copyright_requested_at = request.created_at
        submission.terms_version = submission.terms_version or request.terms_version
        submission_store.add_event(
            session,
            at=request.created_at,
            actor=SYSTEM_ACTOR,
            action="copyright",
            submission_id=submission.id,
            from_status=CopyrightStatus.NOT_REQUESTED,
            to_status=CopyrightStatus.REQUESTED,
            note=f"the request queued as outbox #{request.id} was not marked; marked now",
        )

    def _record_answer(
        self, session: Session, submission: Submission, item: Ingested, reading: consent.Reading
    ) -> None:
        before = submission.copyright_status
        asked = self._asked_terms(session, submission)
        parsed = item.parsed
        sender = parsed.sender.addr.lower() if parsed.sender else ""
        if reading.decision is not consent.Decision.UNCLEAR and sender != submission.sender:
            # Consent is the contributor's to give: an answer from another address (a second
            # mailbox, a co-author, a forwarder) is for an editor to confirm.
            reading = consent.Reading(
                consent.Decision.UNCLEAR,
                reading.phrase,
                f"reads as {reading.decision} but comes from {sender or 'no address'}, "
                f"not the contributor's {submission.sender}",
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
            note=reading.reason,
        )
        if reading.decision is consent.Decision.UNCLEAR:
            _flag(
                session,
                submission,
                f"reply {item.message_pk} to the copyright request is unclear: {reading.reason}",
                item.now,
            )
            return
        after = (
            CopyrightStatus.GRANTED
            if reading.decision is consent.Decision.GRANT
            else CopyrightStatus.REFUSED
        )
        submission.copyright_status = after
        submission_store.add_event(
            session,
            at=item.now,
            actor=SYSTEM_ACTOR,
            action="copyright",
            submission_id=submission.id,
            from_status=before,
            to_status=after,
            note=f"reply message {item.message_pk}: {reading.phrase!r} (terms {asked or '?'}; "
            f"dkim {evidence.dkim}; consent #{evidence.id})",
        )
        self._receipt(
            session, submission, item, granted=after == CopyrightStatus.GRANTED, terms=asked
        )

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
        if self.replier is None:
            note = "consent_receipt not sent: replies are not configured"
        elif not item.auto_reply_allowed:
            note = f"consent_receipt not sent: {item.auto_reply_reason or 'no automatic reply'}"
        else:
            queued = self.replier.queue(
                session,
                template="consent_receipt",
                to=Address(submission.sender_name, submission.sender),
                context={
                    "granted": granted,
                    "terms_version": terms,
                    "received_at": item.received_at,
                },
                submission_id=submission.id,
                in_reply_to_pk=item.message_pk,
            )
            note = (
                f"consent_receipt queued as outbox #{queued.outbox_id}"
                if queued.outbox_id is not None
                else f"consent_receipt not sent: {queued.skipped}"
            )
        submission_store.add_event(
            session,
            at=item.now,
            actor=SYSTEM_ACTOR,
            action="reply",
            submission_id=submission.id,
            note=note,
        )

    # ------------------------------------------------------------------ bounces

    def bounce_hook(self, session: Session, item: Ingested) -> None:
        """A delivery-status notification about one of our replies: the reply failed."""
        bounce = item.parsed.bounce
        if item.verdict.kind is not Kind.BOUNCE or bounce is None:
            return
        ids = [self._our_id(mid) for mid in bounce.original_message_ids]
        rows = conversation_store.outbox_by_message_ids(session, [i for i in ids if i])
        if not rows:
            log.info("bounce %d names none of our replies", item.message_pk)
            return
        diagnostic = bounce.diagnostic or ("permanent failure" if bounce.permanent else "delayed")
        days = self.settings.replies.bounce_suppression_days
        for row in rows:
            what = f"{row.template} to {row.to_addr} (outbox #{row.id})"
            if bounce.permanent:
                row.state = "failed"
                row.last_error = f"bounced (message {item.message_pk}): {diagnostic}"[:4000]
                for address in bounce.recipients or (row.to_addr,):
                    conversation_store.suppress(
                        session,
                        address,
                        until=item.now + timedelta(days=days),
                        reason=f"bounced: {diagnostic}"[:500],
                        now=item.now,
                    )
            action, verb = ("bounce", "bounced") if bounce.permanent else ("delayed", "delayed")
            if row.submission_id is not None or row.claim_id is not None:
                submission_store.add_event(
                    session,
                    at=item.now,
                    actor=SYSTEM_ACTOR,
                    action=action,
                    submission_id=row.submission_id,
                    claim_id=row.claim_id,
                    note=f"{what} {verb}: {diagnostic}",
                )

    def _our_id(self, message_id: str) -> str:
        mid = message_id.strip().strip("<>")
        # Gateways change the case of Message-IDs; ours are lower case, and the HMAC says so.
        if self.reply_secret and replies.verify_message_id(self.reply_secret, mid):
            return mid.lower()
        return mid


# ---------------------------------------------------------------------- duplicates


@dataclass(frozen=True, slots=True)
class Original:
    """The earlier piece a submission repeats, how similar it is, and in what way."""

    id: int
    similarity: float
    how: str


def find_original(
    session: Session,
    submission: dedupe_store.Earlier,
    found: dedupe.Fingerprint | None,
    near_threshold: float,
) -> Original | None:
    """The earliest submission this one repeats: the same text or files (exact), else the most
    similar text at or above ``near_threshold`` among the LSH candidates (near)."""
    comparable = len(dedupe.normalise(submission.article_text)) >= dedupe.MIN_CHARS
    earlier = dedupe_store.first_exact_match(
        session,
        content_hash=submission.content_hash if comparable else "",
        # The same files only make the same piece when the article came from them: a
        # signature logo attached to two different letters does not.
        attachments_hash=submission.attachments_hash if submission.article_source != "body" else "",
        before=submission.id,
    )
    if earlier is not None:
        same_text = comparable and earlier.content_hash == submission.content_hash
        how = "the same text" if same_text else "the same attachments"
        return Original(earlier.duplicate_of or earlier.id, 1.0, how)
    if found is None:
        return None
    ranked = dedupe_store.candidates(
        session,
        found.bands,
        exclude=submission.id,
        min_shared=dedupe.min_shared_bands(near_threshold),
        limit=_CANDIDATES,
    )
    mine = dedupe.shingles(submission.article_text)
    best: Original | None = None
    for earlier in dedupe_store.earlier(session, [sid for sid, _ in ranked]):
        if earlier.id > submission.id:
            continue  # a later piece is never the original
        score = dedupe.jaccard(mine, dedupe.shingles(earlier.article_text))
        if score >= near_threshold and (best is None or score > best.similarity):
            best = Original(
                earlier.duplicate_of or earlier.id, score, f"a {score:.0%} similar text"
            )
    return best


# ---------------------------------------------------------------------- maintenance


def run_copyright_maintenance(
    session: Session, replier: ReplyQueue | None, settings: Settings, now: datetime
) -> Maintenance:
    """Remind after ``copyright.reminder_days`` without an answer (requested -> reminded) and
    expire after ``copyright.expiry_days`` (requested/reminded -> expired), with their letters.

    Without a replier (no SMTP) nothing is reminded (a reminder that cannot be sent is none),
    but requests still expire.
    """
    rights = settings.copyright
    counts = Maintenance()
    due = now - timedelta(days=rights.expiry_days)
    for submission in consent_store.requested_before(session, list(AWAITING), due):
        before = submission.copyright_status
        submission.copyright_status = CopyrightStatus.EXPIRED
        submission.updated_at = now
        sent, note = _send(session, replier, submission, "copyright_expired")
        submission_store.add_event(
            session,
            at=now,
            actor=SYSTEM_ACTOR,
            action="copyright",
            submission_id=submission.id,
            from_status=before,
            to_status=CopyrightStatus.EXPIRED,
            note=f"no answer in {rights.expiry_days} days; {note}",
        )
        counts = Maintenance(counts.reminded, counts.expired + 1, counts.unsent + (not sent))
    if replier is None:
        return counts
    due = now - timedelta(days=rights.reminder_days)
    for submission in consent_store.requested_before(session, [CopyrightStatus.REQUESTED], due):
        submission.copyright_status = CopyrightStatus.REMINDED
        submission.updated_at = now
        sent, note = _send(session, replier, submission, "copyright_reminder")
        submission_store.add_event(
            session,
            at=now,
            actor=SYSTEM_ACTOR,
            action="copyright",
            submission_id=submission.id,
            from_status=CopyrightStatus.REQUESTED,
            to_status=CopyrightStatus.REMINDED,
            note=f"no answer in {rights.reminder_days} days; {note}",
        )
        counts = Maintenance(counts.reminded + 1, counts.expired, counts.unsent + (not sent))
    return counts


def _send(
    session: Session, replier: ReplyQueue | None, submission: Submission, template: str
) -> tuple[bool, str]:
    """Queue ``template`` to the contributor: (queued?, a note for the history)."""
    if replier is None:
        return False, f"{template} not sent: replies are not configured"
    queued = replier.queue(
        session,
        template=template,
        to=Address(submission.sender_name, submission.sender),
        context={},
        submission_id=submission.id,
    )
    if queued.outbox_id is None:
        return False, f"{template} not sent: {queued.skipped}"
    return True, f"{template} queued as outbox #{queued.outbox_id}"


# ---------------------------------------------------------------------- staff actions


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
    submission.copyright_status = after
    submission.terms_version = terms
    submission.updated_at = now
    submission_store.add_event(
        session,
        at=now,
        actor=actor,
        action="copyright",
        submission_id=submission.id,
        from_status=before,
        to_status=after,
        note=f"{decision} recorded by staff (consent #{row.id})" + (f": {note}" if note else ""),
    )
    return ConsentChange(submission.id, decision, before, after, row.id)


def clear_duplicate(
    session: Session, submission_id: int, *, actor: str, now: datetime, note: str = ""
) -> DuplicateCleared:
    """Undo duplicate detection (``intake not-duplicate``): unlink, and a submission marked
    ``duplicate`` goes back to ``received``, where intake found it."""
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    if submission.duplicate_of is None and submission.status != Status.DUPLICATE:
        raise UsageError(f"submission {submission_id} is not marked as a duplicate")
    was = submission.duplicate_of
    before = submission.status
    after = Status.RECEIVED if before == Status.DUPLICATE else Status(before)
    submission.duplicate_of = None
    submission.similarity = None
    submission.status = after
    submission.updated_at = now
    submission_store.add_event(
        session,
        at=now,
        actor=actor,
        action="not_duplicate",
        submission_id=submission.id,
        from_status=before,
        to_status=after,
        note=(f"not a duplicate of #{was}" if was else "not a duplicate")
        + (f": {note}" if note else ""),
    )
    return DuplicateCleared(submission.id, was, before, after)


# ---------------------------------------------------------------------- helpers


def _flag(session: Session, submission: Submission, reason: str, now: datetime) -> None:
    """Ask staff to look: the reason goes on the submission and into its history."""
    current = submission.flagged
    if reason not in current:
        submission.flagged = f"{current}; {reason}" if current else reason
    submission.updated_at = now
    submission_store.add_event(
        session,
        at=now,
        actor=SYSTEM_ACTOR,
        action="flagged",
        submission_id=submission.id,
        note=reason,
    )


def _excerpt(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _EXCERPT else one_line[: _EXCERPT - 1] + "…"
