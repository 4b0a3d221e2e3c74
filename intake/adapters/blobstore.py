"""Content-addressed storage of raw messages and attachments on the local file system (the
``filesystem`` backend; ``intake.store.blobs`` is the ``database`` one).

A blob lives at ``<root>/<kind>/<aa>/<bb>/<sha256>``. Writes go to a temporary file in the
same directory, are fsynced, then renamed into place, so a crash never leaves a partial blob
under its final name. The same content is written once. Files are written at once, never in a
database transaction: a blob is durable before any row that names it commits.

Files are 0640 and directories 0750 (before the umask): the service user owns them and its
group (``intake``) reads them, so editors in that group can run ``show --raw`` and ``export``
(docs/operations.md, "Permissions"); nobody else can.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from intake.core.errors import StorageError
from intake.core.ports import BlobStore, blob_address

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

#: Readable by the group: see the module's docstring.
FILE_MODE = 0o640
#: Bytes read at a time by :meth:`LocalBlobStore.chunks`.
CHUNK_BYTES = 1024 * 1024


class LocalBlobStore(BlobStore):
    """The :class:`~intake.core.ports.BlobStore` in a directory on the local file system."""

    #: Files are durable when ``put`` returns, outside any transaction.
    transactional = False

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def put(self, kind: str, data: bytes, session: Session | None = None) -> tuple[str, str]:
        digest, rel = blob_address(kind, data)
        final = self.root / rel
        if final.exists() and final.stat().st_size == len(data):
            return digest, rel
        try:
            final.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, FILE_MODE)
                os.replace(tmp, final)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
            _fsync_dir(final.parent)
        except OSError as exc:
            raise StorageError(f"cannot store blob {rel}: {exc.strerror or exc}") from exc
        return digest, rel

    def get(self, path: str) -> bytes:
        try:
            return self._resolve(path).read_bytes()
        except OSError as exc:
            raise StorageError(f"cannot read blob {path}: {exc.strerror or exc}") from exc

    def chunks(self, path: str) -> Iterator[bytes]:
        try:
            with self._resolve(path).open("rb") as fh:
                while block := fh.read(CHUNK_BYTES):
                    yield block
        except OSError as exc:
            raise StorageError(f"cannot read blob {path}: {exc.strerror or exc}") from exc

    def exists(self, path: str) -> bool:
        return self._resolve(path).exists()

    def delete(self, path: str) -> None:
        try:
            self._resolve(path).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot delete blob {path}: {exc.strerror or exc}") from exc

    def _resolve(self, path: str) -> Path:
        # Paths come from our own database, but never let one leave the store.
        full = (self.root / path).resolve()
        if not full.is_relative_to(self.root.resolve()):
            raise StorageError(f"blob path outside the store: {path!r}")
        return full


class WriteAhead:
    """Writes blobs on one background thread, so their fsyncs overlap the caller's parsing.

    ``put`` returns a future; a caller waits for it before recording anything that names the
    blob. Closing waits for the writes already started and drops the ones not yet begun. For a
    transactional store the thread only hashes: the blob is written later, in the transaction
    that records the rows naming it.
    """

    def __init__(self, blobs: BlobStore) -> None:
        self._blobs = blobs
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-blobs")

    def put(self, kind: str, data: bytes) -> Future[tuple[str, str]]:
        if self._blobs.transactional:
            return self._pool.submit(blob_address, kind, data)
        return self._pool.submit(self._blobs.put, kind, data)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> WriteAhead:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
