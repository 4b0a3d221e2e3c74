"""The ``database`` blob store: raw mail and attachments as rows of ``blobs`` and
``blob_chunks``, and the queries that find every blob a row names (``intake storage``).

A blob is written in the transaction of the rows that name it (``put(kind, data, session)``),
so one commit makes a message and its bytes durable together, a rollback leaves neither, and a
backup of the database is a backup of everything. Its bytes go in pieces of
:data:`CHUNK_BYTES`, one statement each, and are read back the same way: a 50 MB message is
never held more than twice (the caller's copy and the one being assembled), never as one
escaped SQL literal. The paths are the file-system store's (``<kind>/<aa>/<bb>/<sha256>``), so
moving between the two stores changes no row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, delete, select, union
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from intake.core.clock import utcnow
from intake.core.errors import StorageError
from intake.core.ports import BlobStore, Clock, blob_address
from intake.store import reading, schema

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Bytes per row of ``blob_chunks``.
CHUNK_BYTES = 1024 * 1024

_PATH = re.compile(r"(raw|att)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}")
_blobs, _chunks = schema.blobs, schema.blob_chunks


class DatabaseBlobStore(BlobStore):
    """The :class:`~intake.core.ports.BlobStore` in intake's own database."""

    #: ``put(..., session)`` writes in that session's transaction.
    transactional = True

    def __init__(
        self, engine: Engine, *, clock: Clock = utcnow, chunk_bytes: int = CHUNK_BYTES
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.chunk_bytes = chunk_bytes

    def put(self, kind: str, data: bytes, session: Session | None = None) -> tuple[str, str]:
        sha, path = blob_address(kind, data)
        try:
            if session is not None:
                # Part of the caller's transaction: it commits, or rolls back, with the rows.
                # A failure here is the store's, not the message's (StorageError stops a poll,
                # as a full disk does, rather than quarantining mail that did nothing wrong).
                self._write(session.connection(), kind, sha, path, data)
            else:
                with self.engine.begin() as conn:
                    self._write(conn, kind, sha, path, data)
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot store blob {path}: {_reason(exc)}") from None
        return sha, path

    def get(self, path: str) -> bytes:
        size, _ = self._header(path)
        whole = bytearray(size)
        at = 0
        for piece in self.chunks(path):
            whole[at : at + len(piece)] = piece
            at += len(piece)
        if at != size:
            raise StorageError(f"cannot read blob {path}: {at} of its {size} bytes are stored")
        return bytes(whole)

    def chunks(self, path: str) -> Iterator[bytes]:
        _, count = self._header(path)
        for seq in range(count):
            # One piece per query: no driver ever buffers the whole blob for a cursor.
            query = select(_chunks.c.data).where(_chunks.c.path == path, _chunks.c.seq == seq)
            try:
                with reading(self.engine) as conn:
                    piece = conn.scalar(query)
            except SQLAlchemyError as exc:
                raise StorageError(f"cannot read blob {path}: {_reason(exc)}") from None
            if piece is None:
                raise StorageError(f"cannot read blob {path}: piece {seq} of {count} is missing")
            yield bytes(piece)

    def exists(self, path: str) -> bool:
        if not _PATH.fullmatch(path):
            return False
        try:
            with reading(self.engine) as conn:
                return conn.scalar(select(_blobs.c.size).where(_blobs.c.path == path)) is not None
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot look up blob {path}: {_reason(exc)}") from None

    def delete(self, path: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(_chunks).where(_chunks.c.path == path))
                conn.execute(delete(_blobs).where(_blobs.c.path == path))
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot delete blob {path}: {_reason(exc)}") from None

    # ------------------------------------------------------------------ inside

    def _write(self, conn: Connection, kind: str, sha: str, path: str, data: bytes) -> None:
        size = len(data)
        count = -(-size // self.chunk_bytes)
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        header = (
            insert(_blobs)
            .values(
                path=path, kind=kind, sha256=sha, size=size, chunks=count, stored_at=self.clock()
            )
            .on_conflict_do_nothing(index_elements=["path"])
            .returning(_blobs.c.path)
        )
        # Stored before, or by a transaction that committed while this one waited on the key
        # (PostgreSQL): the pieces are there too, since they commit with their header.
        if conn.execute(header).first() is None:
            return
        view = memoryview(data)
        step = self.chunk_bytes
        for seq in range(count):
            piece = view[seq * step : (seq + 1) * step]
            conn.execute(_chunks.insert(), {"path": path, "seq": seq, "data": piece})

    def _header(self, path: str) -> tuple[int, int]:
        """(size, pieces) of the blob at ``path``; StorageError when there is none."""
        if not _PATH.fullmatch(path):
            raise StorageError(f"cannot read blob {path}: not a blob path")
        try:
            with reading(self.engine) as conn:
                row = conn.execute(
                    select(_blobs.c.size, _blobs.c.chunks).where(_blobs.c.path == path)
                ).first()
        except SQLAlchemyError as exc:
            raise StorageError(f"cannot read blob {path}: {_reason(exc)}") from None
        if row is None:
            raise StorageError(f"cannot read blob {path}: not in the database")
        return int(row.size), int(row.chunks)


# --------------------------------------------------------------------------- what rows name


def named_paths(conn: Connection, after: str = "", limit: int = 500) -> list[str]:
    """The next ``limit`` distinct blob paths after ``after`` (in path order) that a message,
    an attachment or a consent record names: every object the store must hold."""
    m, a, c = schema.messages, schema.attachments, schema.consents
    paths = union(
        select(m.c.raw_path.label("path")).where(m.c.raw_path > after),
        select(a.c.blob_path.label("path")).where(a.c.blob_path > after),
        select(c.c.raw_path.label("path")).where(c.c.raw_path > after),
    ).subquery()
    query = select(paths.c.path).where(paths.c.path != "").order_by(paths.c.path).limit(limit)
    return [str(p) for p in conn.scalars(query)]


def naming_rows(conn: Connection, path: str) -> list[str]:
    """What names ``path``: "message 12", "attachment 40 (submission 3)", "consent 5"."""
    m, a, c = schema.messages, schema.attachments, schema.consents
    found = [f"message {pk}" for pk in conn.scalars(select(m.c.id).where(m.c.raw_path == path))]
    for pk, submission in conn.execute(
        select(a.c.id, a.c.submission_id).where(a.c.blob_path == path)
    ):
        found.append(f"attachment {pk}" + (f" (submission {submission})" if submission else ""))
    found += [f"consent {pk}" for pk in conn.scalars(select(c.c.id).where(c.c.raw_path == path))]
    return found


def _reason(exc: SQLAlchemyError) -> str:
    detail = getattr(exc, "orig", None) or exc
    return f"{type(detail).__name__}: {str(detail).splitlines()[0] if str(detail) else ''}"


__all__ = ["CHUNK_BYTES", "DatabaseBlobStore", "named_paths", "naming_rows"]
