"""Queries and writes for duplicate detection: LSH band keys in ``fingerprints`` and the
earlier submissions they point at."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, insert, or_, select, tuple_
from sqlalchemy.orm import Session

from intake.models import Fingerprint, Submission


@dataclass(frozen=True, slots=True)
class Earlier:
    """An earlier submission that may be the original of a new one."""

    id: int
    sender: str
    article_text: str
    article_source: str
    duplicate_of: int | None
    content_hash: str
    attachments_hash: str


def replace_fingerprints(
    session: Session, submission_id: int, bands: Sequence[tuple[int, str]]
) -> None:
    """Store the band keys of a submission's current article (dropping older ones)."""
    session.execute(delete(Fingerprint).where(Fingerprint.submission_id == submission_id))
    if bands:
        session.execute(
            insert(Fingerprint),
            [{"submission_id": submission_id, "band": b, "key": k} for b, k in bands],
        )


def candidates(
    session: Session, bands: Sequence[tuple[int, str]], *, exclude: int, limit: int = 20
) -> list[tuple[int, int]]:
    """Submissions sharing at least one band key, as (id, bands shared), most shared first.

    One indexed lookup per band through ``ix_fingerprints_band_key``.
    """
    if not bands:
        return []
    shared = func.count().label("shared")
    rows = session.execute(
        select(Fingerprint.submission_id, shared)
        .where(
            tuple_(Fingerprint.band, Fingerprint.key).in_([tuple(b) for b in bands]),
            Fingerprint.submission_id != exclude,
        )
        .group_by(Fingerprint.submission_id)
        .order_by(shared.desc(), Fingerprint.submission_id)
        .limit(limit)
    )
    return [(int(sid), int(n)) for sid, n in rows]


def exact_matches(
    session: Session, *, content_hash: str, attachments_hash: str, before: int
) -> list[Earlier]:
    """Earlier submissions with the same article hash or the same set of attachments."""
    conditions = []
    if content_hash:
        conditions.append(Submission.content_hash == content_hash)
    if attachments_hash:
        conditions.append(Submission.attachments_hash == attachments_hash)
    if not conditions:
        return []
    return _earlier(session, Submission.id < before, or_(*conditions))


def earlier(session: Session, ids: Sequence[int]) -> list[Earlier]:
    if not ids:
        return []
    return _earlier(session, Submission.id.in_(list(ids)))


def _earlier(session: Session, *where: ColumnElement[bool]) -> list[Earlier]:
    rows = session.execute(
        select(
            Submission.id,
            Submission.sender,
            Submission.article_text,
            Submission.article_source,
            Submission.duplicate_of,
            Submission.content_hash,
            Submission.attachments_hash,
        )
        .where(*where)
        .order_by(Submission.id)
    )
    return [Earlier(*row) for row in rows]
