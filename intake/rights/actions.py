"""Rights-holder claims use case: open a claim from ingested mail, follow the claimant's replies,
apply staff actions (one transaction each) with their letters, link the published article, and
reclassify a message between submission and claim."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session, sessionmaker

from intake.core.clock import as_utc
from intake.core.config import Settings
from intake.core.errors import IntakeError, UsageError
from intake.core.events import SYSTEM_ACTOR, Ingested
from intake.core.mail import Address, Kind, ParsedMail
from intake.core.ports import BlobReader
from intake.ingest import parsing
from intake.rights import scoring as claims
from intake.store import claims as claim_store
from intake.store import editorial as editorial_store
from intake.store import submissions as submission_store
from intake.store.models import Claim, Message, Submission, Version
from intake.submissions.editorial import Editor, Reply, ReplyQueue, reply_of, with_text
from intake.workflow import claim as claimflow
from intake.workflow import submission as workflow
from intake.workflow.claim import ClaimStatus, Outcome, Role
from intake.workflow.opening import submission_row

log = logging.getLogger(__name__)

ReclassifyTarget = Literal["claim", "submission"]
IdKind = Literal["message", "submission", "claim"]

#: Message kinds staff may turn into a claim: a would-be submission, or mail an upstream
#: filter or a header put aside (a lawyer's letter flagged as spam is still a legal risk).
TO_CLAIM_KINDS = frozenset({Kind.SUBMISSION, Kind.SPAM, Kind.LIST, Kind.AUTOREPLY})
#: Submission statuses an editor has decided for: such a submission is an article, not a claim.
DECIDED_SUBMISSION = frozenset({workflow.Status.ACCEPTED, workflow.Status.PUBLISHED})


@dataclass(frozen=True, slots=True)
class ClaimChange:
    """What one staff action on a claim did (or, for a dry run, would do)."""

    claim_id: int
    action: str
    from_status: str
    to_status: str  # the same as from_status when the status did not move
    reply: Reply | None = None  # the letter queued or, for a dry run, the one that would be
    outbox_id: int | None = None
    skipped: str = ""  # why no letter was queued although one was asked for
    dry_run: bool = False

    @property
    def moved(self) -> bool:
        return self.from_status != self.to_status


@dataclass(frozen=True, slots=True)
class Reclassified:
    """What ``intake reclassify`` did: the message's new kind and the rows it touched."""

    message_pk: int
    kind: str  # "claim" or "submission"
    claim_id: int | None
    submission_id: int | None
    closed: str  # what became of the other row: "submission #5 withdrawn", "claim #3 rejected"
    outbox_id: int | None = None
    skipped: str = ""


class Rights:
    """Claims from arrival to resolution; each public staff method is one unit of work."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        replier: ReplyQueue | None,
        clock: Callable[[], datetime],
        blobs: BlobReader | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.replier = replier
        self.clock = clock
        self.blobs = blobs

    # ------------------------------------------------------------------ ingest

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """Ingest hook: open a claim for a claim, follow up a claimant's reply."""
        if item.verdict.kind is Kind.CLAIM:
            self._claim_arrived(session, item)
        elif item.verdict.kind is Kind.REPLY and item.claim_id is not None:
            self._claimant_replied(session, item, item.claim_id)

    def _claim_arrived(self, session: Session, item: Ingested) -> None:
        message = claim_store.message(session, item.message_pk)
        texts = tuple(a.text for a in item.attachments if a.text.strip())
        claim = self._open_claim(
            session,
            message,
            item.parsed,
            texts,
            received_at=item.received_at,
            now=item.now,
            actor=SYSTEM_ACTOR,
            note=f"message {message.id}: {item.verdict.reason}",
        )
        if not item.auto_reply_allowed:
            self._reply_event(
                session, claim.id, f"no {claimflow.ACK_TEMPLATE}: {item.auto_reply_reason}",
                actor=SYSTEM_ACTOR, now=item.now,
            )  # fmt: skip
            return
        self._letter(
            session, claim, claimflow.ACK_TEMPLATE, "", actor=SYSTEM_ACTOR, now=item.now,
            automatic=True, in_reply_to_pk=message.id, to=_reply_target(item.parsed),
        )  # fmt: skip

    def _claimant_replied(self, session: Session, item: Ingested, claim_id: int) -> None:
        claim = claim_store.get_claim(session, claim_id, for_update=True)
        parsed = item.parsed
        sender = parsed.sender.addr if parsed.sender else "?"
        files = len([a for a in item.attachments if a.size])
        note = f"message {item.message_pk} from {sender}: {parsed.subject}".strip()
        if files:
            note += f" ({files} attachment{'s' if files > 1 else ''})"
        texts = tuple(a.text for a in item.attachments if a.text.strip())
        found = claims.assess(parsed, self.settings.site.domains, texts)
        new_urls = [u for u in found.urls if u not in claim.urls]
        if new_urls:
            claim.urls = [*claim.urls, *new_urls]
            note += "; new links: " + " ".join(new_urls)
        before = claim.status
        after = before
        # Evidence we asked for, or new evidence after a rejection (its letter invites it):
        # the claim is ours to answer again, with a fresh response period.
        if claimflow.can_move(before, ClaimStatus.INVESTIGATING, Role.CLAIMANT):
            after = ClaimStatus.INVESTIGATING
            claim.status = after
            claim.deadline = claimflow.deadline_after_answer(
                claim.deadline, item.now, self.settings.site.claim_response_days
            )
        claim.updated_at = item.now
        submission_store.add_event(
            session,
            at=item.now,
            actor=SYSTEM_ACTOR,
            action="reply_received",
            claim_id=claim.id,
            from_status=before if after != before else "",
            to_status=after if after != before else "",
            note=note,
        )
        if claim.submission_id is None and new_urls:
            self._link(session, claim, item.now, SYSTEM_ACTOR)

    def _open_claim(
        self,
        session: Session,
        message: Message,
        parsed: ParsedMail,
        attachment_texts: Sequence[str],
        *,
        received_at: datetime,
        now: datetime,
        actor: str,
        note: str,
    ) -> Claim:
        site = self.settings.site
        found = claims.assess(parsed, site.domains, attachment_texts)
        sender = parsed.sender
        claim = claim_store.add_claim(
            session,
            status=ClaimStatus.RECEIVED.value,
            claimant=(sender.addr if sender else message.sender).lower()[:320],
            claimant_name=(sender.name if sender else message.sender_name)[:500],
            subject=parsed.subject or message.subject,
            received_at=received_at,
            message_pk=message.id,
            urls=list(found.urls),
            work_title=found.work_title,
            demand=found.demand,
            deadline=claimflow.deadline_for(received_at, site.claim_response_days),
            score=found.score,
            signals=list(found.signals),
            body_text=parsed.text or message.body_text,
            updated_at=now,
        )
        message.claim_id = claim.id
        submission_store.add_event(
            session,
            at=now,
            actor=actor,
            action="received",
            claim_id=claim.id,
            to_status=ClaimStatus.RECEIVED.value,
            note=note,
        )
        self._link(session, claim, now, actor)
        return claim

    def _link(self, session: Session, claim: Claim, now: datetime, actor: str) -> None:
        """Link the published article the claim names, by its address or else by its title."""
        how = "its address"
        found = claim_store.published_by_url(session, claim.urls)
        if found is None and claim.work_title:
            how = f"its title {claim.work_title}"
            found = claim_store.published_by_title(session, claim.work_title)
        if found is None:
            return
        claim.submission_id = found.id
        # One event with both ids: it shows in the claim's history and in the article's.
        submission_store.add_event(
            session,
            at=now,
            actor=actor,
            action="claim_linked",
            claim_id=claim.id,
            submission_id=found.id,
            note=f"copyright claim #{claim.id} from {claim.claimant} names submission "
            f"#{found.id} by {how}",
        )

    # ------------------------------------------------------------------ staff actions

    def investigate(
        self, claim_id: int, *, actor: str, message: str = "", dry_run: bool = False
    ) -> ClaimChange:
        """Start (or reopen) the investigation of a claim; sends no letter."""
        return self._move(
            claim_id, "investigate", ClaimStatus.INVESTIGATING, None, actor=actor,
            message=message, notify=False, dry_run=dry_run,
        )  # fmt: skip

    def request_info(
        self,
        claim_id: int,
        *,
        actor: str,
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> ClaimChange:
        """Ask the claimant for evidence (``message``, if given, is the request itself)."""
        return self._move(
            claim_id, "request_info", ClaimStatus.NEEDS_INFO, claimflow.NEEDS_INFO_TEMPLATE,
            actor=actor, message=message, notify=notify, dry_run=dry_run, edit=edit,
        )  # fmt: skip

    def resolve(
        self,
        claim_id: int,
        outcome: Outcome,
        *,
        actor: str,
        amount: str = "",
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> ClaimChange:
        """Close a claim as removed, paid (``amount``), licensed or rejected (``message`` is
        the reason), and tell the claimant with the outcome's letter."""
        amount = claimflow.check_amount(outcome, amount)
        claimflow.check_reason(outcome, message)
        return self._move(
            claim_id, f"resolve_{outcome}", claimflow.OUTCOME_STATUS[outcome],
            claimflow.OUTCOME_TEMPLATE[outcome], actor=actor, message=message, notify=notify,
            dry_run=dry_run, edit=edit, amount=amount, outcome=outcome,
        )  # fmt: skip

    def assign(self, claim_id: int, assignee: str, *, actor: str) -> ClaimChange:
        """Give a claim to someone ("" unassigns); the first one starts the investigation."""
        assignee = assignee.strip()
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            if assignee == claim.assignee:
                raise UsageError(
                    f"claim {claim_id} is already "
                    + (f"assigned to {assignee}" if assignee else "unassigned")
                )
            before = claim.status
            after = self._touch(claim, now) if assignee else before
            previous = claim.assignee
            claim.assignee = assignee[:100]
            claim.updated_at = now
            if assignee:
                note = f"assigned to {assignee}" + (f" (was {previous})" if previous else "")
            else:
                note = f"unassigned (was {previous})"
            self._event(session, claim.id, "assign", before, after, note, actor, now)
            return ClaimChange(claim.id, "assign", before, after)

    def note(self, claim_id: int, text: str, *, actor: str) -> ClaimChange:
        """Add a note to a claim's history; the first one starts the investigation."""
        text = text.strip()
        if not text:
            raise UsageError("an empty note says nothing: give the note's text")
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            before = claim.status
            after = self._touch(claim, now)
            self._event(session, claim.id, "note", before, after, text, actor, now)
            return ClaimChange(claim.id, "note", before, after)

    # ------------------------------------------------------------------ reclassification

    def reclassify(
        self,
        ident: int,
        to: ReclassifyTarget,
        *,
        by: IdKind = "message",
        actor: str,
        message: str = "",
        notify: bool = False,
    ) -> Reclassified:
        """Turn a message into a claim or into a submission, closing what it was.

        ``ident`` is a message id (``intake messages``), or with ``by`` a submission or claim
        number, meaning the message it was made from. A submission becoming a claim is kept,
        withdrawn if still open, with an event naming the claim; a claim becoming a submission
        is rejected with a note. A message that was the other kind before gets its earlier row
        back instead of a new one. Nothing is sent unless ``notify``: then the new row's
        acknowledgement (claim_ack or ack), as a staff letter.
        """
        if notify:
            self._require_replier()
        now = self.clock()
        with self.sessions() as session, session.begin():
            message_pk = self._message_pk(session, ident, by)
            row = claim_store.message(session, message_pk)
            if to == "claim":
                done = self._to_claim(session, row, actor=actor, note=message, now=now)
            else:
                done = self._to_submission(session, row, actor=actor, note=message, now=now)
            if notify:
                done = self._notify_reclassified(session, done, actor=actor, now=now)
        return done

    def _message_pk(self, session: Session, ident: int, by: IdKind) -> int:
        if by == "submission":
            return claim_store.get_submission(session, ident).message_pk
        if by == "claim":
            return claim_store.get_claim(session, ident).message_pk
        return claim_store.message(session, ident).id

    def _to_claim(
        self, session: Session, message: Message, *, actor: str, note: str, now: datetime
    ) -> Reclassified:
        if message.kind == Kind.CLAIM:
            raise UsageError(f"message {message.id} is already claim #{message.claim_id}")
        if message.kind not in TO_CLAIM_KINDS:
            kinds = ", ".join(sorted(TO_CLAIM_KINDS))
            raise UsageError(
                f"message {message.id} is {message.kind}: only {kinds} mail can become a claim"
            )
        closed = ""
        submission = claim_store.submission_of_message(session, message.id)
        if submission is not None:
            if submission.status in DECIDED_SUBMISSION:
                raise UsageError(
                    f"submission {submission.id} is {submission.status}: an editor took it as an "
                    "article; withdraw it first if it is really a claim"
                )
            closed = f"submission #{submission.id} kept as {submission.status}"
        why = note.strip()
        claim = claim_store.claim_of_message(session, message.id)
        if claim is not None:  # it was a claim before: reopen that one
            before = claim.status
            claim.status = ClaimStatus.RECEIVED.value
            claim.updated_at = now
            message.claim_id = claim.id
            self._event(
                session, claim.id, "reclassify", before, claim.status,
                _joined(f"reclassified back as a claim from message {message.id}", why),
                actor, now,
            )  # fmt: skip
        else:
            parsed = self._parsed(message)
            if not message.body_text:  # ignored kinds keep no body: a claim needs one
                message.body_text = parsed.text
            texts = [a.text for a in claim_store.message_attachments(session, message.id)]
            claim = self._open_claim(
                session, message, parsed, [t for t in texts if t.strip()],
                received_at=message.received_at, now=now, actor=actor,
                note=_joined(f"message {message.id} reclassified as a claim (was {message.kind})",
                             why),
            )  # fmt: skip
        if submission is not None:
            before = submission.status
            if before in workflow.OPEN_STATUSES:
                submission.status = workflow.Status.WITHDRAWN.value
                submission.decided_at = None
                closed = f"submission #{submission.id} withdrawn"
            submission.updated_at = now
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="reclassify",
                submission_id=submission.id,
                claim_id=claim.id,
                from_status=before if submission.status != before else "",
                to_status=submission.status if submission.status != before else "",
                note=_joined(f"reclassified as claim #{claim.id}", why),
            )
        self._mark_message(message, Kind.CLAIM, actor, now)
        message.submission_id = None
        message.claim_id = claim.id
        return Reclassified(message.id, Kind.CLAIM.value, claim.id, None, closed)

    def _to_submission(
        self, session: Session, message: Message, *, actor: str, note: str, now: datetime
    ) -> Reclassified:
        if message.kind == Kind.SUBMISSION:
            raise UsageError(f"message {message.id} is already submission #{message.submission_id}")
        if message.kind != Kind.CLAIM:
            raise UsageError(
                f"message {message.id} is {message.kind}: only a claim can become a submission "
                "here (quarantined mail: intake reprocess)"
            )
        why = note.strip()
        claim = claim_store.claim_of_message(session, message.id)
        if claim is not None and claim.status not in (
            *claimflow.OPEN_STATUSES,
            ClaimStatus.REJECTED,
        ):
            raise UsageError(
                f"claim {claim.id} is {claim.status}: it was settled as a claim; reopen it "
                "(intake claim investigate) before reclassifying"
            )
        submission = claim_store.submission_of_message(session, message.id)
        if submission is not None:  # it was a submission before: that one comes back
            before = submission.status
            submission.status = workflow.Status.RECEIVED.value
            submission.decided_at = None
            submission.updated_at = now
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="reclassify",
                submission_id=submission.id,
                claim_id=claim.id if claim is not None else None,
                from_status=before,
                to_status=submission.status,
                note=_joined(f"reclassified back as a submission from message {message.id}", why),
            )
        else:
            submission = self._new_submission(session, message, now)
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="received",
                submission_id=submission.id,
                claim_id=claim.id if claim is not None else None,
                to_status=submission.status,
                note=_joined(
                    f"message {message.id} reclassified as a submission"
                    + (f" (was claim #{claim.id})" if claim is not None else ""),
                    why,
                ),
            )
        closed = ""
        if claim is not None:
            before = claim.status
            claim.status = ClaimStatus.REJECTED.value
            claim.updated_at = now
            closed = f"claim #{claim.id} " + (
                "rejected" if before != claim.status else "kept as rejected"
            )
            self._event(
                session, claim.id, "reclassify", before, claim.status,
                _joined(f"not a claim: reclassified as submission #{submission.id}", why),
                actor, now,
            )  # fmt: skip
        self._mark_message(message, Kind.SUBMISSION, actor, now)
        message.claim_id = None
        message.submission_id = submission.id
        return Reclassified(message.id, Kind.SUBMISSION.value, None, submission.id, closed)

    def _new_submission(self, session: Session, message: Message, now: datetime) -> Submission:
        """A received submission from a stored message, as ingest would have made it."""
        files = claim_store.message_attachments(session, message.id)
        row = submission_row(
            sender=message.sender,
            sender_name=message.sender_name,
            subject=message.subject,
            body_text=message.body_text,
            documents=[(a.filename, a.text) for a in files if a.kind == "document" and a.text],
            attachment_hashes=[a.sha256 for a in files if not a.inline],
            received_at=message.received_at,
            decision_days=self.settings.replies.decision_days,
            message_pk=message.id,
            now=now,
        )
        submission = claim_store.add_submission(session, **row)
        for attachment in files:
            attachment.submission_id = submission.id
        session.add(
            Version(
                submission_id=submission.id,
                message_pk=message.id,
                number=1,
                article_text=submission.article_text,
                char_count=submission.char_count,
                created_at=now,
            )
        )
        return submission

    def _parsed(self, message: Message) -> ParsedMail:
        """The message as parsed from its raw bytes (links in HTML count), else as stored."""
        if message.raw_path and self.blobs is not None:
            try:
                return parsing.parse(self.blobs.get(message.raw_path))
            except IntakeError as exc:
                log.warning("message %s: cannot re-read the raw mail: %s", message.id, exc)
        return ParsedMail(
            message_id=message.message_id,
            subject=message.subject,
            sender=Address(message.sender_name, message.sender) if message.sender else None,
            in_reply_to=tuple(message.in_reply_to.split()),
            references=tuple(message.references.split()),
            text=message.body_text,
        )

    @staticmethod
    def _mark_message(message: Message, kind: Kind, actor: str, now: datetime) -> None:
        was = f"was {message.kind}: {message.reason}"
        message.kind = kind.value
        message.rule = "reclassified"
        message.reason = f"{actor} reclassified it as a {kind} ({was})"[:4000]

    def _notify_reclassified(
        self, session: Session, done: Reclassified, *, actor: str, now: datetime
    ) -> Reclassified:
        replier = self._require_replier()
        if done.claim_id is not None:
            claim = claim_store.get_claim(session, done.claim_id)
            queued_id, skipped = self._letter(
                session, claim, claimflow.ACK_TEMPLATE, "", actor=actor, now=now,
                automatic=False, in_reply_to_pk=claim.message_pk,
            )  # fmt: skip
        else:
            assert done.submission_id is not None
            submission = claim_store.get_submission(session, done.submission_id)
            files = claim_store.message_attachments(session, submission.message_pk)
            replies = self.settings.replies
            queued = replier.queue(
                session,
                template="ack",
                to=Address(submission.sender_name, submission.sender),
                context={
                    "site_name": replies.site_name or self.settings.site.name,
                    "contact": replies.contact,
                    "name": submission.sender_name,
                    "number": submission.id,
                    "title": submission.title or submission.subject,
                    "received_at": as_utc(submission.received_at),
                    "attachments": [
                        {"filename": a.filename, "readable": not a.extract_error}
                        for a in files
                        if not a.inline
                    ],
                    "decision_due": submission.decision_due,
                    "decision_days": replies.decision_days,
                },
                submission_id=submission.id,
                in_reply_to_pk=submission.message_pk,
                automatic=False,
            )
            queued_id, skipped = queued.outbox_id, queued.skipped
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="reply",
                submission_id=submission.id,
                note=(
                    f"ack queued as outbox #{queued_id}"
                    if queued_id is not None
                    else f"ack not sent: {skipped or 'refused by the outbox'}"
                ),
            )
        return Reclassified(
            done.message_pk, done.kind, done.claim_id, done.submission_id, done.closed,
            outbox_id=queued_id, skipped="" if queued_id is not None else (skipped or "refused"),
        )  # fmt: skip

    # ------------------------------------------------------------------ helpers

    def _move(
        self,
        claim_id: int,
        action: str,
        target: ClaimStatus,
        template: str | None,
        *,
        actor: str,
        message: str,
        notify: bool,
        dry_run: bool,
        edit: Editor | None = None,
        amount: str = "",
        outcome: Outcome | None = None,
    ) -> ClaimChange:
        """One move of the table with its event and (unless ``notify`` is off) its letter."""
        template = template if notify else None
        reply = self._prepare(claim_id, target, template, message, amount, dry_run, edit)
        if dry_run:
            with self.sessions() as session, session.begin():
                claim = claim_store.get_claim(session, claim_id)
                claimflow.check_move(claim.id, claim.status, target)
                before = claim.status
            return ClaimChange(claim_id, action, before, target, reply=reply, dry_run=True)
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            claimflow.check_move(claim.id, claim.status, target)
            before = claim.status
            claim.status = target.value
            if outcome is Outcome.PAID:
                claim.amount = amount
            claim.updated_at = now
            note = message.strip()
            if amount:
                note = _joined(f"amount {amount}", note)
            self._event(session, claim.id, action, before, target, note, actor, now)
            change = ClaimChange(claim.id, action, before, target)
            if template is None:
                return change
            outbox_id, skipped = self._letter(
                session, claim, template, message, actor=actor, now=now, automatic=False,
                in_reply_to_pk=claim.message_pk, edited=reply,
            )  # fmt: skip
            sent = editorial_store.outbox_raw(session, outbox_id) if outbox_id else None
            return ClaimChange(
                claim.id, action, before, target,
                reply=reply_of(template, sent) if sent is not None else None,
                outbox_id=outbox_id, skipped="" if outbox_id is not None else skipped,
            )  # fmt: skip

    def _prepare(
        self,
        claim_id: int,
        target: ClaimStatus,
        template: str | None,
        message: str,
        amount: str,
        dry_run: bool,
        edit: Editor | None,
    ) -> Reply | None:
        """The letter to show (dry run) or edit, rendered in a short read-only transaction.

        The editor runs after that transaction: a write lock must not wait on a person.
        """
        if template is None or not (dry_run or edit):
            return None
        replier = self._require_replier()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id)
            claimflow.check_move(claim.id, claim.status, target)
            raw = replier.render_preview(
                session,
                template=template,
                to=_recipient(claim),
                context=self._context(claim, template, message, amount),
                claim_id=claim.id,
            )
        reply = reply_of(template, raw)
        if edit is None:
            return reply
        edited = edit(reply.text)
        if edited is None:
            return reply
        if not edited.strip():
            raise UsageError("the edited letter is empty: nothing was changed or sent")
        return Reply(template, reply.to, reply.subject, edited.strip() + "\n")

    def _letter(
        self,
        session: Session,
        claim: Claim,
        template: str,
        message: str,
        *,
        actor: str,
        now: datetime,
        automatic: bool,
        in_reply_to_pk: int | None,
        edited: Reply | None = None,
        to: Address | None = None,
    ) -> tuple[int | None, str]:
        """Queue ``template`` to the claimant (or ``to``) and record it in the history."""
        if self.replier is None:
            skipped = "replies are not available"
            self._reply_event(session, claim.id, f"{template} not sent: {skipped}",
                              actor=actor, now=now)  # fmt: skip
            return None, skipped
        queued = self.replier.queue(
            session,
            template=template,
            to=to or _recipient(claim),
            context=self._context(claim, template, message, claim.amount),
            claim_id=claim.id,
            in_reply_to_pk=in_reply_to_pk,
            automatic=automatic,
        )
        if queued.outbox_id is None:
            skipped = queued.skipped or "refused by the outbox"
            self._reply_event(session, claim.id, f"{template} not sent: {skipped}",
                              actor=actor, now=now)  # fmt: skip
            return None, skipped
        if edited is not None:
            raw = with_text(editorial_store.outbox_raw(session, queued.outbox_id), edited.text)
            editorial_store.replace_outbox_raw(session, queued.outbox_id, raw)
        note = f"{template} queued as outbox #{queued.outbox_id}" + (
            " (edited)" if edited is not None else ""
        )
        self._reply_event(session, claim.id, note, actor=actor, now=now)
        return queued.outbox_id, ""

    def _context(self, claim: Claim, template: str, message: str, amount: str) -> dict[str, object]:
        replies = self.settings.replies
        rejected = template == claimflow.OUTCOME_TEMPLATE[Outcome.REJECTED]
        received_at = as_utc(claim.received_at)
        deadline = claim.deadline or claimflow.deadline_for(
            received_at, self.settings.site.claim_response_days
        )
        return {
            "site_name": replies.site_name or self.settings.site.name,
            "contact": replies.contact,
            "name": claim.claimant_name,
            "number": claim.id,
            "work_title": claim.work_title,
            "urls": list(claim.urls),
            "received_at": received_at,
            "response_days": self.settings.site.claim_response_days,
            "respond_by": as_utc(deadline),
            "amount": amount,
            # A rejection's letter states the staff's words as its reason, not again as a note.
            "reason": message.strip(),
            "note": "" if rejected else message.strip(),
        }

    def _touch(self, claim: Claim, now: datetime) -> str:
        target = claimflow.first_touch(claim.status)
        if target is None:
            return claim.status
        claim.status = target.value
        claim.updated_at = now
        return target.value

    def _require_replier(self) -> ReplyQueue:
        if self.replier is None:
            raise UsageError("replies are not available: configure [smtp] or use --no-notify")
        return self.replier

    @staticmethod
    def _event(
        session: Session,
        claim_id: int,
        action: str,
        before: str,
        after: str,
        note: str,
        actor: str,
        now: datetime,
    ) -> None:
        moved = before != after
        submission_store.add_event(
            session,
            at=now,
            actor=actor[:100],
            action=action,
            claim_id=claim_id,
            from_status=before if moved else "",
            to_status=after if moved else "",
            note=note,
        )

    @staticmethod
    def _reply_event(
        session: Session, claim_id: int, note: str, *, actor: str, now: datetime
    ) -> None:
        submission_store.add_event(
            session, at=now, actor=actor[:100], action="reply", claim_id=claim_id, note=note
        )


def _reply_target(mail: ParsedMail) -> Address | None:
    """Where the acknowledgement goes: Reply-To, else From (the address classify checked)."""
    if mail.reply_to:
        first = mail.reply_to[0]
        return Address(first.name or (mail.sender.name if mail.sender else ""), first.addr)
    return mail.sender


def _recipient(claim: Claim) -> Address:
    return Address(name=claim.claimant_name, addr=claim.claimant)


def _joined(first: str, rest: str) -> str:
    return f"{first}: {rest}" if rest else first
