"""Looking after the store of raw mail and attachments: ``intake storage verify`` (is every blob a
row names there, with the bytes its name promises?) and ``intake storage migrate`` (copy them
from one backend to the other, resumable, each copy checked by sha256).

Both walk the blob paths that rows name (messages, attachments, consent records) in path order,
a page at a time, so a store of any size is walked in constant memory. A blob's name is its
sha256 (``<kind>/<aa>/<bb>/<sha256>``): hashing what the store gives back is the whole check.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine

from intake import store
from intake.core.errors import StorageError
from intake.core.ports import BlobStore
from intake.store import blobs as blob_store

#: Told the number of objects walked so far, now and then.
Progress = Callable[[int], None]

#: Objects between two calls of a ``Progress``.
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class Problem:
    """A blob a row names that the store cannot give back as named."""

    path: str
    problem: str  # missing, wrong hash (…), unreadable: …
    named_by: tuple[str, ...] = ()  # "message 12", "attachment 40 (submission 3)"


@dataclass(frozen=True)
class Verified:
    """What ``intake storage verify`` found."""

    backend: str
    objects: int = 0
    bytes: int = 0
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Migrated:
    """What ``intake storage migrate`` did."""

    source: str
    target: str
    objects: int = 0  # named by rows
    copied: int = 0
    bytes_copied: int = 0
    present: int = 0  # in the target already, with the right bytes (a run resumed)
    deleted: int = 0  # from the source, after the target's copy was checked
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Tally:
    objects: int = 0
    bytes: int = 0
    copied: int = 0
    bytes_copied: int = 0
    present: int = 0
    deleted: int = 0
    problems: list[Problem] = field(default_factory=list)


def check(blobs: BlobStore, path: str) -> tuple[int, str]:
    """``(size, problem)`` of the blob at ``path``: its bytes hashed a piece at a time against
    the sha256 its path names; ``problem`` is "" when they match."""
    digest = hashlib.sha256()
    size = 0
    try:
        for piece in blobs.chunks(path):
            digest.update(piece)
            size += len(piece)
    except StorageError as exc:
        return 0, "missing" if not blobs.exists(path) else f"unreadable: {exc}"
    expected = path.rsplit("/", 1)[-1]
    if digest.hexdigest() != expected:
        return size, f"wrong hash (sha256 {digest.hexdigest()}, {size} bytes)"
    return size, ""


def verify(
    engine: Engine, blobs: BlobStore, backend: str, progress: Progress | None = None
) -> Verified:
    """Check every blob a row names in ``blobs`` (the ``backend`` store)."""
    tally = _Tally()
    for path in _walk(engine, tally, progress):
        size, problem = check(blobs, path)
        tally.bytes += size
        if problem:
            tally.problems.append(_problem(engine, path, problem))
    return Verified(backend, tally.objects, tally.bytes, tuple(tally.problems))


def migrate(
    engine: Engine,
    source: BlobStore,
    target: BlobStore,
    *,
    names: tuple[str, str],
    delete_source: bool = False,
    progress: Progress | None = None,
) -> Migrated:
    """Copy every blob a row names from ``source`` to ``target`` (``names``: theirs).

    A blob the target holds with the right bytes is left as it is, so a run that was
    interrupted is simply run again. Each copy is read back from the target and hashed
    before it counts; a blob missing or damaged in the source is a problem, never copied.
    With ``delete_source`` a blob leaves the source once the target's copy checked out.
    """
    tally = _Tally()
    for path in _walk(engine, tally, progress):
        problem = _move(source, target, path, tally)
        if problem:
            tally.problems.append(_problem(engine, path, problem))
        elif delete_source:
            source.delete(path)
            tally.deleted += 1
    return Migrated(
        names[0],
        names[1],
        tally.objects,
        tally.copied,
        tally.bytes_copied,
        tally.present,
        tally.deleted,
        tuple(tally.problems),
    )


def _walk(engine: Engine, tally: _Tally, progress: Progress | None) -> Iterator[str]:
    """Every blob path rows name, a page at a time, counted in ``tally``."""
    after = ""
    while True:
        with store.reading(engine) as conn:
            page = blob_store.named_paths(conn, after)
        if not page:
            return
        for path in page:
            tally.objects += 1
            if progress is not None and tally.objects % PROGRESS_EVERY == 0:
                progress(tally.objects)
            yield path
        after = page[-1]


def _move(source: BlobStore, target: BlobStore, path: str, tally: _Tally) -> str:
    """Copy one blob; "" when the target holds it with the right bytes afterwards."""
    if target.exists(path):
        size, problem = check(target, path)
        if not problem:
            tally.present += 1
            tally.bytes += size
            return ""
        target.delete(path)  # damaged: a file of the right size would otherwise be kept
    try:
        data = source.get(path)
    except StorageError:
        return "missing in the source" if not source.exists(path) else "unreadable in the source"
    expected = path.rsplit("/", 1)[-1]
    if hashlib.sha256(data).hexdigest() != expected:
        return "wrong hash in the source: not copied"
    kind = path.split("/", 1)[0]
    _, stored_at = target.put(kind, data)
    size, problem = check(target, stored_at)
    if stored_at != path or problem:
        return f"the copy did not check out: {problem or stored_at}"
    tally.copied += 1
    tally.bytes_copied += size
    tally.bytes += size
    return ""


def _problem(engine: Engine, path: str, problem: str) -> Problem:
    with store.reading(engine) as conn:
        return Problem(path, problem, tuple(blob_store.naming_rows(conn, path)))


__all__ = ["Migrated", "Problem", "Verified", "check", "migrate", "verify"]
