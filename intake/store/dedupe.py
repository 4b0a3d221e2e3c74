"""Queries and writes for duplicate detection: LSH band keys in ``fingerprints`` and the
earlier submissions they point at."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, bindparam, delete, insert, or_, select
from sqlalchemy.orm import Session

from intake.store.models import Fingerprint, Submission


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
    add_fingerprints(session, submission_id, bands)


def add_fingerprints(
    session: Session, submission_id: int, bands: Sequence[tuple[int, str]]
) -> None:
    """Store the band keys of a new submission (one that has none yet)."""
    if bands:
        session.execute(
            insert(Fingerprint),
            [{"submission_id": submission_id, "band": b, "key": k} for b, k in bands],
        )


def candidates(
    session: Session,
    bands: Sequence[tuple[int, str]],
    *,
    exclude: int,
    min_shared: int = 1,
    limit: int = 20,
) -> list[tuple[int, int]]:
    """Submissions sharing at least ``min_shared`` band keys, as (id, bands shared), most shared
    first.

    ``band IN (…) AND key IN (…)`` is answered from ``ix_fingerprints_band_key`` by SQLite and
    PostgreSQL alike (a row-value ``(band, key) IN`` makes SQLite scan the table); rows whose key
    belongs to another band are dropped here.
    """
    if not bands:
        return []
    wanted = {(b, k) for b, k in bands}
    rows = session.execute(
        select(Fingerprint.submission_id, Fingerprint.band, Fingerprint.key).where(
            Fingerprint.band.in_(sorted({b for b, _ in wanted})),
            Fingerprint.key.in_(sorted({k for _, k in wanted})),
            Fingerprint.submission_id != exclude,
        )
    )
    shared = Counter(int(sid) for sid, band, key in rows if (band, key) in wanted)
    ranked = sorted(
        ((sid, n) for sid, n in shared.items() if n >= min_shared), key=lambda p: (-p[1], p[0])
    )
    return ranked[:limit]


def first_exact_match(
    session: Session, *, content_hash: str, attachments_hash: str, before: int
) -> Earlier | None:
    """The earliest submission with the same article hash or the same set of attachments."""
    if not content_hash and not attachments_hash:
        return None
    query = _first_exact_query(bool(content_hash), bool(attachments_hash))
    params = {"content": content_hash, "files": attachments_hash, "before": before}
    row = session.execute(query, params).first()
    return Earlier(*row) if row is not None else None


def earlier(session: Session, ids: Sequence[int]) -> list[Earlier]:
    if not ids:
        return []
    return [Earlier(*row) for row in session.execute(_earlier_query(), {"ids": list(ids)})]


_EarlierQuery = Select[int, str, str, str, int | None, str, str]


# Built once: the dedupe hook asks for every new submission, and building a query costs more
# than running it.
def _columns() -> _EarlierQuery:
    return select(
        Submission.id,
        Submission.sender,
        Submission.article_text,
        Submission.article_source,
        Submission.duplicate_of,
        Submission.content_hash,
        Submission.attachments_hash,
    ).order_by(Submission.id)


@functools.cache
def _earlier_query() -> _EarlierQuery:
    return _columns().where(Submission.id.in_(bindparam("ids", expanding=True)))


@functools.cache
def _first_exact_query(content: bool, files: bool) -> _EarlierQuery:
    conditions: list[ColumnElement[bool]] = []
    if content:
        conditions.append(Submission.content_hash == bindparam("content"))
    if files:
        conditions.append(Submission.attachments_hash == bindparam("files"))
    return _columns().where(Submission.id < bindparam("before"), or_(*conditions)).limit(1)
