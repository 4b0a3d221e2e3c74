"""Reclassification (``intake reclassify``): staff turn a message into a claim or into a
submission, and what it was before is closed (a submission withdrawn, a claim rejected) or, when
it was the other kind once already, that earlier row comes back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from intake.core.clock import as_utc
from intake.core.config import Settings
from intake.core.errors import IntakeError, UsageError
from intake.core.mail import TO_CLAIM_KINDS, Address, Kind, ParsedMail
from intake.core.ports import BlobReader
from intake.replies.letters import Letter, Letters, StaffActions, recipient
from intake.rights.opening import claim_letter, open_claim
from intake.store import claims as claim_store
from intake.store.models import Claim, Message, Submission, Version
from intake.workflow import cases
from intake.workflow import claim as claimflow
from intake.workflow import submission as workflow
from intake.workflow.claim import ClaimStatus
from intake.workflow.opening import submission_row
from intake.workflow.submission import Role, Status

if TYPE_CHECKING:
    from intake.store import Session, sessionmaker

log = logging.getLogger(__name__)

ReclassifyTarget = Literal["claim", "submission"]
IdKind = Literal["message", "submission", "claim"]

#: Submission statuses an editor has decided for: such a submission is an article, not a claim.
DECIDED_SUBMISSION = frozenset({Status.ACCEPTED, Status.PUBLISHED})


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


class Reclassifier(StaffActions):
    """One reclassification per call, in one transaction."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        letters: Letters,
        clock: Callable[[], datetime],
        blobs: BlobReader | None = None,
        parse: Callable[[bytes], ParsedMail] | None = None,
    ) -> None:
        super().__init__(settings, sessions, letters, clock)
        self.blobs = blobs
        #: Reads a stored message again (``intake.ingest.parsing.parse``); None: as stored.
        self.parse = parse

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
            self.letters.require()
        now = self.clock()
        with self.sessions() as session, session.begin():
            message_pk = self._message_pk(session, ident, by)
            row = claim_store.message(session, message_pk)
            if to == "claim":
                done = self._to_claim(session, row, actor=actor, note=message, now=now)
            else:
                done = self._to_submission(session, row, actor=actor, note=message, now=now)
            if notify:
                done = self._notify(session, done, actor=actor, now=now)
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
            message.claim_id = claim.id
            cases.move(
                session, claim, ClaimStatus.RECEIVED, actor=actor, role=Role.STAFF,
                action="reclassify", now=now,
                note=_joined(f"reclassified back as a claim from message {message.id}", why),
            )  # fmt: skip
        else:
            parsed = self._parsed(message)
            if not message.body_text:  # ignored kinds keep no body: a claim needs one
                message.body_text = parsed.text
            texts = [a.text for a in claim_store.message_attachments(session, message.id)]
            claim = open_claim(
                session, self.settings, message, parsed, [t for t in texts if t.strip()],
                received_at=message.received_at, now=now, actor=actor,
                note=_joined(f"message {message.id} reclassified as a claim (was {message.kind})",
                             why),
            )  # fmt: skip
        if submission is not None:
            note = _joined(f"reclassified as claim #{claim.id}", why)
            if submission.status in workflow.OPEN_STATUSES:
                cases.move(
                    session, submission, Status.WITHDRAWN, actor=actor, role=Role.STAFF,
                    action="reclassify", now=now, note=note, also=claim,
                )  # fmt: skip
                closed = f"submission #{submission.id} withdrawn"
            else:
                submission.updated_at = now
                cases.record(
                    session, submission, "reclassify", actor=actor, now=now, note=note, also=claim
                )
        _mark_message(message, Kind.CLAIM, actor)
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
            back = _joined(f"reclassified back as a submission from message {message.id}", why)
            if submission.status == Status.WITHDRAWN:
                cases.move(
                    session, submission, Status.RECEIVED, actor=actor, role=Role.STAFF,
                    action="reclassify", now=now, note=back, also=claim,
                )  # fmt: skip
            else:  # kept as it was (declined, a duplicate): staff take it from there
                submission.updated_at = now
                cases.record(
                    session, submission, "reclassify", actor=actor, now=now, note=back, also=claim
                )
        else:
            submission = self._new_submission(session, message, now)
            cases.record(
                session, submission, "received", actor=actor, now=now, after=Status.RECEIVED,
                also=claim,
                note=_joined(
                    f"message {message.id} reclassified as a submission"
                    + (f" (was claim #{claim.id})" if claim is not None else ""),
                    why,
                ),
            )  # fmt: skip
        closed = ""
        if claim is not None:
            not_a_claim = _joined(f"not a claim: reclassified as submission #{submission.id}", why)
            if claim.status == ClaimStatus.REJECTED:
                closed = f"claim #{claim.id} kept as rejected"
                claim.updated_at = now
                cases.record(session, claim, "reclassify", actor=actor, now=now, note=not_a_claim)
            else:
                closed = f"claim #{claim.id} rejected"
                cases.move(
                    session, claim, ClaimStatus.REJECTED, actor=actor, role=Role.STAFF,
                    action="reclassify", now=now, note=not_a_claim,
                )  # fmt: skip
        _mark_message(message, Kind.SUBMISSION, actor)
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
        if message.raw_path and self.blobs is not None and self.parse is not None:
            try:
                return self.parse(self.blobs.get(message.raw_path))
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

    def _notify(
        self, session: Session, done: Reclassified, *, actor: str, now: datetime
    ) -> Reclassified:
        case: Claim | Submission
        if done.claim_id is not None:
            case = claim_store.get_claim(session, done.claim_id)
            letter = claim_letter(self.settings, case, claimflow.ACK_TEMPLATE)
        else:
            assert done.submission_id is not None
            case = claim_store.get_submission(session, done.submission_id)
            letter = self._ack(session, case)
        sent = self.letters.send(session, case, letter, actor=actor, now=now)
        return Reclassified(
            done.message_pk, done.kind, done.claim_id, done.submission_id, done.closed,
            outbox_id=sent.outbox_id,
            skipped="" if sent.outbox_id is not None else (sent.skipped or "refused"),
        )  # fmt: skip

    def _ack(self, session: Session, submission: Submission) -> Letter:
        files = claim_store.message_attachments(session, submission.message_pk)
        replies = self.settings.replies
        context = {
            "name": submission.sender_name,
            "title": submission.title or submission.subject,
            "received_at": as_utc(submission.received_at),
            "attachments": [
                {"filename": a.filename, "readable": not a.extract_error}
                for a in files
                if not a.inline
            ],
            "decision_due": submission.decision_due,
            "decision_days": replies.decision_days,
        }
        return Letter("ack", recipient(submission), context, submission.message_pk)


def _mark_message(message: Message, kind: Kind, actor: str) -> None:
    was = f"was {message.kind}: {message.reason}"
    message.kind = kind.value
    message.rule = "reclassified"
    message.reason = f"{actor} reclassified it as a {kind} ({was})"[:4000]


def _joined(first: str, rest: str) -> str:
    return f"{first}: {rest}" if rest else first
