"""The reply hook: a contributor's reply filed on its submission, as a conversation entry, maybe a
new version of the article, maybe the answer to our copyright request (``copyright.py``), and
the contributor's answer to a request for information puts the piece back in review."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.conversations.copyright import CopyrightAnswers
from intake.core.events import Ingested
from intake.core.mail import Kind
from intake.documents import articles, extract
from intake.store import conversations as conversation_store
from intake.store import dedupe as dedupe_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.text import fingerprints, quotes
from intake.workflow import cases
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.opening import content_hash
from intake.workflow.submission import Role, Status

if TYPE_CHECKING:
    from intake.store import Session

_EXCERPT = 200


class Conversations:
    """The ingest hook for replies to a submission."""

    def __init__(self, answers: CopyrightAnswers) -> None:
        self.answers = answers

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """A reply filed on a submission: a conversation entry, maybe a new version, maybe the
        answer to our copyright request."""
        if item.verdict.kind is not Kind.REPLY or item.submission_id is None:
            return
        submission = submission_store.get_submission(session, item.submission_id, for_update=True)
        new = quotes.new_text(item.parsed.text)
        matched = item.thread.matched if item.thread else item.verdict.refers_to
        cases.record(
            session, submission, "reply", actor=SYSTEM_ACTOR, now=item.now,
            note=f"message {item.message_pk} ({matched}): {_excerpt(new) or '(no new text)'}",
        )  # fmt: skip
        self._new_version(session, submission, item, new)
        self.answers.read(session, submission, item, new)
        if submission.status == Status.NEEDS_INFO:
            # The contributor answered our request for information: back to the editors.
            cases.move(
                session, submission, Status.IN_REVIEW, actor=SYSTEM_ACTOR, role=Role.CONTRIBUTOR,
                action="status", now=item.now,
                note=f"the contributor answered (message {item.message_pk})",
            )  # fmt: skip
        submission.updated_at = item.now

    def _new_version(
        self, session: Session, submission: Submission, item: Ingested, new: str
    ) -> None:
        docs = [a for a in item.attachments if a.kind == "document" and a.text.strip()]
        if not docs:
            return
        article, source = articles.choose_article(new, [(a.filename, a.text) for a in docs])
        digest = content_hash(article)
        if digest and digest == submission.content_hash:
            cases.record(
                session, submission, "version", actor=SYSTEM_ACTOR, now=item.now,
                note=f"message {item.message_pk}: the same text as the current version",
            )  # fmt: skip
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
        found = fingerprints.fingerprint(article)
        dedupe_store.replace_fingerprints(session, submission.id, found.bands if found else ())
        cases.record(
            session, submission, "version", actor=SYSTEM_ACTOR, now=item.now,
            note=f"version {version.number} from message {item.message_pk}: {source} ({chars} 字)",
        )  # fmt: skip


def _excerpt(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _EXCERPT else one_line[: _EXCERPT - 1] + "…"
