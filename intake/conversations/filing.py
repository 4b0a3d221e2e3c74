"""The reply hook: a reply filed on its submission, as a conversation entry; from the contributor,
maybe a new version of the article, maybe the answer to our copyright request
(``copyright.py``), and their answer to a request for information puts the piece back in
review. What a reply may decide rests on its binding (``binding.py``): a reply from anyone
else is kept, shown and flagged, never applied."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.conversations.binding import Binder, Binding
from intake.conversations.copyright import CopyrightAnswers
from intake.core.events import Ingested, StoredAttachment
from intake.core.mail import Kind
from intake.documents import articles, extract
from intake.store import conversations as conversation_store
from intake.store import dedupe as dedupe_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.text import fingerprints, quotes
from intake.text.authors import Author
from intake.workflow import cases
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.opening import content_hash
from intake.workflow.submission import Role, Status

if TYPE_CHECKING:
    from intake.store import Session

_EXCERPT = 200


class Conversations:
    """The ingest hook for replies to a submission."""

    def __init__(self, answers: CopyrightAnswers, binder: Binder) -> None:
        self.answers = answers
        self.binder = binder

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """A reply filed on a submission: a conversation entry, maybe a new version, maybe the
        answer to our copyright request."""
        if item.verdict.kind is not Kind.REPLY or item.submission_id is None:
            return
        submission = submission_store.get_submission(session, item.submission_id, for_update=True)
        new = quotes.new_text(item.parsed.text)
        binding = self.binder.bind(session, submission, item, new)
        matched = item.thread.matched if item.thread else item.verdict.refers_to
        cases.record(
            session, submission, "reply", actor=SYSTEM_ACTOR, now=item.now,
            note=f"message {item.message_pk} ({matched}; {binding.summary()}): "
            f"{_excerpt(new) or '(no new text)'}",
        )  # fmt: skip
        submission.updated_at = item.now
        docs = [a for a in item.attachments if a.kind == "document" and a.text.strip()]
        if not binding.from_contributor:
            self._stranger(session, submission, item, binding, docs)
            return
        self._new_version(session, submission, item, binding, docs)
        self.answers.read(session, submission, item, binding)
        if submission.status == Status.NEEDS_INFO:
            # The contributor answered our request for information: back to the editors.
            cases.move(
                session, submission, Status.IN_REVIEW, actor=SYSTEM_ACTOR, role=Role.CONTRIBUTOR,
                action="status", now=item.now,
                note=f"the contributor answered (message {item.message_pk})",
            )  # fmt: skip

    def _stranger(
        self,
        session: Session,
        submission: Submission,
        item: Ingested,
        binding: Binding,
        docs: list[StoredAttachment],
    ) -> None:
        """A reply from someone other than the contributor decides nothing: it is kept in the
        conversation and an editor is asked to look."""
        sender = binding.sender or "no single sender"
        files = f"; its files ({_names(docs)}) are kept on the message" if docs else ""
        cases.flag(
            session, submission,
            f"reply {item.message_pk} from {sender} is not from the contributor "
            f"({submission.sender}): kept, not applied{files} (if the address is theirs: "
            f"intake contributor add-address {submission.id} ADDRESS)",
            now=item.now,
        )  # fmt: skip

    def _new_version(
        self,
        session: Session,
        submission: Submission,
        item: Ingested,
        binding: Binding,
        docs: list[StoredAttachment],
    ) -> None:
        if not docs:
            return
        if not binding.may_revise:
            why = (
                binding.unbound() if binding.elsewhere and binding.answers is None
                else "no Message-ID of ours in its headers"
            )  # fmt: skip
            cases.flag(
                session, submission,
                f"reply {item.message_pk} brings {_names(docs)}, but it is bound to none of our "
                f"letters for #{submission.id} ({why}): kept on the message, the current text "
                "stays",
                now=item.now,
            )  # fmt: skip
            return
        read = articles.read(binding.new_text, [(a.filename, a.text) for a in docs])
        article, source = read.chosen.text, read.chosen.source
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
        # A revised piece may end with revised details (a new phone, the bank account asked
        # for): what the new version says wins, what it leaves out is kept.
        known = Author.from_json(submission.author)
        author = read.author.merged(known)
        details = "" if author == known else "; the author's details updated"
        submission.author = author.as_json()
        found = fingerprints.fingerprint(article)
        dedupe_store.replace_fingerprints(session, submission.id, found.bands if found else ())
        cases.record(
            session, submission, "version", actor=SYSTEM_ACTOR, now=item.now,
            note=f"version {version.number} from message {item.message_pk}: {source} ({chars} 字)"
            + details,
        )  # fmt: skip


def _names(docs: list[StoredAttachment]) -> str:
    shown = ", ".join(a.filename for a in docs[:5])
    return shown + (f" and {len(docs) - 5} more" if len(docs) > 5 else "")


def _excerpt(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= _EXCERPT else one_line[: _EXCERPT - 1] + "…"
