"""Content-addressed blobs in memory: the fake :class:`~intake.core.ports.BlobStore` beside
:class:`intake.adapters.blobstore.LocalBlobStore`, whose writes fail on cue (a full disk)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from intake.core import ports
from intake.core.errors import StorageError
from intake.core.ports import BlobStore

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class MemoryBlobStore(BlobStore):
    """Content-addressed blobs in a dict, under the paths the file-system store uses; written at
    once, like files. :meth:`fail_writes` makes ``put`` raise StorageError (a full or read-only
    disk) until :meth:`heal` is called.
    """

    KINDS = ports.BLOB_KINDS
    transactional = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[str, bytes] = {}
        self._broken = ""
        self._broken_kinds: frozenset[str] = frozenset()

    def put(self, kind: str, data: bytes, session: Session | None = None) -> tuple[str, str]:
        digest, rel = ports.blob_address(kind, data)
        with self._lock:
            if self._broken and kind in self._broken_kinds:
                raise StorageError(f"cannot store blob {rel}: {self._broken}")
            self._blobs.setdefault(rel, bytes(data))
        return digest, rel

    def get(self, path: str) -> bytes:
        with self._lock:
            found = self._blobs.get(path)
        if found is None:
            raise StorageError(f"cannot read blob {path}: No such file or directory")
        return found

    def chunks(self, path: str) -> Iterator[bytes]:
        yield self.get(path)

    def exists(self, path: str) -> bool:
        with self._lock:
            return path in self._blobs

    def delete(self, path: str) -> None:
        with self._lock:
            self._blobs.pop(path, None)

    def paths(self) -> list[str]:
        with self._lock:
            return sorted(self._blobs)

    def fail_writes(
        self, reason: str = "No space left on device", kinds: Iterable[str] = KINDS
    ) -> None:
        with self._lock:
            self._broken, self._broken_kinds = reason, frozenset(kinds)

    def heal(self) -> None:
        with self._lock:
            self._broken = ""
