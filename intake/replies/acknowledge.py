"""The acknowledgment hook: a new submission gets its acknowledgment (or the "duplicate" notice)
and, when ``replies.copyright_request = "auto"``, the copyright request; an oversize message gets
the oversize notice. Each runs inside the message's ingest transaction."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from intake.core.config import Settings
from intake.core.events import Ingested, StoredAttachment
from intake.core.mail import Kind
from intake.replies.letters import Letter, Letters, recipient
from intake.replies.queue import reply_target
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.text.addresses import normalised_or_lower
from intake.workflow import cases
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.submission import CopyrightStatus, Role

log = logging.getLogger(__name__)


def same_mailbox(first: str, second: str) -> bool:
    """Whether two stored senders are one mailbox (in any spelling)."""
    return bool(first) and normalised_or_lower(first) == normalised_or_lower(second)


def readable(attachment: StoredAttachment) -> bool:
    """Whether an editor can open the file: read without error, and a document gave text."""
    if attachment.error:
        return False
    return attachment.kind != "document" or bool(attachment.text.strip())


class Acknowledgments:
    """The ingest hook that answers new submissions and oversize mail."""

    def __init__(self, settings: Settings, letters: Letters) -> None:
        self.settings = settings
        self.letters = letters

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """Acknowledgment + copyright request for a new submission; the oversize notice."""
        if item.verdict.kind is Kind.OVERSIZE:
            self._oversize(session, item)
        elif item.verdict.kind is Kind.SUBMISSION and item.submission_id is not None:
            self._acknowledge(session, item, item.submission_id)

    def _acknowledge(self, session: Session, item: Ingested, submission_id: int) -> None:
        submission = submission_store.get_submission(session, submission_id)
        target = reply_target(item.parsed)
        if not item.auto_reply_allowed or target is None:
            why = item.auto_reply_reason or "no address to reply to"
            self._note(session, submission, item.now, f"no automatic reply: {why}")
            return
        hours = self.settings.replies.duplicate_grace_hours
        if hours > 0:
            since = item.received_at - timedelta(hours=hours)
            earlier = outbox_store.same_piece_since(session, submission, since)
            if earlier is not None:
                why = f"no acknowledgment: the same piece as #{earlier.id}, within {hours} hours"
                self._note(session, submission, item.now, why)
                return
        if submission.duplicate_of is not None:
            original = session.get(Submission, submission.duplicate_of)
            # Only the same sender hears about the earlier piece: another sender must not
            # learn what someone else sent (a copied article is a matter for the editors).
            if original is not None and same_mailbox(original.sender, submission.sender):
                title = {"title": original.title or original.subject}
                letter = Letter("duplicate", target, title, item.message_pk, automatic=True)
                self.letters.send(
                    session, original, letter, actor=SYSTEM_ACTOR, now=item.now,
                    history=submission,
                )  # fmt: skip
                return
        received = item.received_at
        days = self.settings.replies.decision_days
        context: dict[str, object] = {
            "title": submission.title or submission.subject,
            "received_at": received,
            "attachments": self._attachments(item),
            "decision_due": received + timedelta(days=days),
            "decision_days": days,
        }
        ack = self.letters.send(
            session, submission, Letter("ack", target, context, item.message_pk, automatic=True),
            actor=SYSTEM_ACTOR, now=item.now,
        )  # fmt: skip
        if (
            self.settings.replies.copyright_request == "auto"
            and ack.outbox_id is not None
            and submission.copyright_status == CopyrightStatus.NOT_REQUESTED
        ):
            # The request goes to the contributor's own address, never to a Reply-To: only
            # an answer from the mailbox that received it is bound to it (binding.py).
            to = recipient(submission)
            request = Letter("copyright_request", to, {}, item.message_pk, automatic=True)
            sent = self.letters.send(session, submission, request, actor=SYSTEM_ACTOR, now=item.now)
            if sent.outbox_id is not None:
                cases.move(
                    session, submission, CopyrightStatus.REQUESTED, actor=SYSTEM_ACTOR,
                    role=Role.SYSTEM, action="copyright_request", now=item.now,
                    note=f"terms {submission.terms_version}; outbox #{sent.outbox_id}",
                )  # fmt: skip

    def _oversize(self, session: Session, item: Ingested) -> None:
        target = reply_target(item.parsed)
        if not item.auto_reply_allowed or target is None:
            log.info("oversize message %d: no reply: %s", item.message_pk, item.auto_reply_reason)
            return
        limit = self.settings.ingest.max_message_bytes / (1024 * 1024)
        context = {"limit_mb": int(limit) if limit == int(limit) else round(limit, 1)}
        letter = Letter("oversize", target, context, item.message_pk, automatic=True)
        self.letters.send(session, None, letter, actor=SYSTEM_ACTOR, now=item.now)

    @staticmethod
    def _attachments(item: Ingested) -> list[dict[str, object]]:
        inline = [a.inline for a in item.parsed.attachments]
        if len(inline) != len(item.attachments):  # not expected; list every file then
            inline = [False] * len(item.attachments)
        return [
            {"filename": stored.filename, "readable": readable(stored)}
            for stored, is_inline in zip(item.attachments, inline, strict=True)
            if not is_inline  # pictures in the body and signature logos are not "files sent"
        ]

    @staticmethod
    def _note(session: Session, submission: Submission, now: datetime, note: str) -> None:
        log.info("submission %d: %s", submission.id, note)
        cases.record(session, submission, "reply", actor=SYSTEM_ACTOR, now=now, note=note)
