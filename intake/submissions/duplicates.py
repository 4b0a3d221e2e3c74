"""Duplicate submissions: the ingest hook that links a new piece to the earlier one it repeats
(the same text or files, or a near-identical text), and the staff action that undoes it.

The hook runs BEFORE the acknowledgment hook (``intake.app.HOOKS``): it sets ``duplicate_of``
on a new submission, which the acknowledgment reads to send the "duplicate" notice instead
(to the same sender only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from intake.core.errors import UsageError
from intake.core.events import Ingested
from intake.core.mail import Kind
from intake.store import dedupe as dedupe_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.text import fingerprints as dedupe
from intake.text.addresses import normalised_or_lower
from intake.workflow import cases
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.submission import Role, Status

if TYPE_CHECKING:
    from intake.store import Session

_CANDIDATES = 20  # near-duplicate candidates compared exactly, most shared bands first


@dataclass(frozen=True, slots=True)
class Original:
    """The earlier piece a submission repeats, how similar it is, and in what way."""

    id: int
    similarity: float
    how: str


@dataclass(frozen=True, slots=True)
class DuplicateCleared:
    """What ``intake not-duplicate`` undid."""

    submission_id: int
    was_duplicate_of: int | None
    from_status: str
    to_status: str


class Duplicates:
    """The ingest hook for new submissions; ``near_threshold`` is ``dedupe.near_threshold``."""

    def __init__(self, near_threshold: float) -> None:
        self.near_threshold = near_threshold

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """A new submission: fingerprint it and link it to the piece it repeats, if any."""
        if item.verdict.kind is not Kind.SUBMISSION or item.submission_id is None:
            return
        # Plain columns, not the ORM object: every new submission passes here, few match.
        (piece,) = dedupe_store.earlier(session, [item.submission_id])
        found = dedupe.fingerprint(piece.article_text)
        match = find_original(session, piece, found, self.near_threshold)
        if found is not None:
            dedupe_store.add_fingerprints(session, piece.id, found.bands)
        if match is not None:
            submission = submission_store.get_submission(session, piece.id)
            _mark_duplicate(session, submission, match, now=item.now)


def _mark_duplicate(
    session: Session, submission: Submission, match: Original, *, now: datetime
) -> None:
    original = submission_store.get_submission(session, match.id)
    submission.duplicate_of = original.id
    submission.similarity = round(match.similarity, 4)
    submission.updated_at = now
    if normalised_or_lower(original.sender) != normalised_or_lower(submission.sender):
        # Another sender's copy is for an editor (plagiarism? co-authors?), never "already
        # received": the acknowledgment hook only sends that to the same sender.
        reason = f"{match.how} as #{original.id} from another sender"
        cases.flag(session, submission, reason, now=now)
        return
    if match.similarity >= 1.0 and submission.status == Status.RECEIVED:
        cases.move(
            session, submission, Status.DUPLICATE, actor=SYSTEM_ACTOR, role=Role.SYSTEM,
            action="duplicate", now=now, note=f"{match.how} as #{original.id}",
        )  # fmt: skip
        # The move clears the link only when a piece leaves "duplicate"; entering, it stays.
        submission.duplicate_of = original.id
        submission.similarity = round(match.similarity, 4)
        return
    cases.record(
        session, submission, "near_duplicate", actor=SYSTEM_ACTOR, now=now,
        note=f"{match.how} to #{original.id}",
    )  # fmt: skip


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


def clear_duplicate(
    session: Session, submission_id: int, *, actor: str, now: datetime, note: str = ""
) -> DuplicateCleared:
    """Undo duplicate detection (``intake not-duplicate``): unlink, and a submission marked
    ``duplicate`` goes back to ``received``, where intake found it."""
    submission = submission_store.get_submission(session, submission_id, for_update=True)
    if submission.duplicate_of is None and submission.status != Status.DUPLICATE:
        raise UsageError(f"submission {submission_id} is not marked as a duplicate")
    was = submission.duplicate_of
    why = (f"not a duplicate of #{was}" if was else "not a duplicate") + (
        f": {note}" if note else ""
    )
    before = submission.status
    if before == Status.DUPLICATE:
        cases.move(
            session, submission, Status.RECEIVED, actor=actor, role=Role.STAFF,
            action="not_duplicate", now=now, note=why,
        )  # fmt: skip
    else:
        submission.duplicate_of = None
        submission.similarity = None
        submission.updated_at = now
        cases.record(session, submission, "not_duplicate", actor=actor, now=now, note=why)
    return DuplicateCleared(submission.id, was, before, submission.status)
