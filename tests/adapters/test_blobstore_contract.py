"""The blob store port, one suite run against every backend in ``BACKENDS``.

To add a backend (a database, an object store), add one entry: a function that takes the test's
``request`` and ``tmp_path`` (so it can ask for fixtures such as ``db_url``) and returns a
``Backend``. Every test below then runs against it too; what is specific to one backend (file
modes, fsync) stays in that backend's own test module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake.adapters.blobstore import LocalBlobStore, WriteAhead
from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.core.errors import StorageError
from intake.core.ports import BlobStore


@dataclass
class Backend:
    store: BlobStore
    break_raw_writes: Callable[[], None]  # call first: then put("raw", ...) raises StorageError


def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    store = MemoryBlobStore()
    return Backend(store, lambda: store.fail_writes(kinds=["raw"]))


def filesystem(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    root = tmp_path / "store"

    def break_raw_writes() -> None:
        root.mkdir(exist_ok=True)
        (root / "raw").write_text("not a directory")  # nothing can be created under raw/

    return Backend(LocalBlobStore(root), break_raw_writes)


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "memory": memory,
    "filesystem": filesystem,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    return BACKENDS[request.param](request, tmp_path)


@pytest.fixture
def blobs(backend: Backend) -> BlobStore:
    return backend.store


RAW = b"From: a@b\r\nSubject: =?gb2312?b?1eLKx7HqzOI=?=\r\n\r\n\xff\xfe\x00 raw bytes \r\n"


def test_put_returns_the_sha256_and_a_content_addressed_path(blobs: BlobStore) -> None:
    sha, path = blobs.put("raw", RAW)
    assert sha == hashlib.sha256(RAW).hexdigest()
    assert path == f"raw/{sha[:2]}/{sha[2:4]}/{sha}"
    assert blobs.get(path) == RAW and blobs.exists(path)


@pytest.mark.parametrize("data", [b"", b"\x00", bytes(range(256)) * 4096], ids=len)
def test_any_bytes_come_back_exactly(blobs: BlobStore, data: bytes) -> None:
    _, path = blobs.put("att", data)
    assert blobs.get(path) == data


def test_the_same_bytes_are_stored_once_per_kind(blobs: BlobStore) -> None:
    first = blobs.put("raw", RAW)
    assert blobs.put("raw", RAW) == first
    sha, att = blobs.put("att", RAW)
    assert sha == first[0] and att != first[1] and att.startswith("att/")
    assert blobs.get(att) == RAW


def test_delete_removes_and_tolerates_a_missing_blob(blobs: BlobStore) -> None:
    _, path = blobs.put("att", b"photo")
    blobs.delete(path)
    assert not blobs.exists(path)
    blobs.delete(path)
    with pytest.raises(StorageError):
        blobs.get(path)


def test_unknown_kinds_and_paths_are_storage_errors(blobs: BlobStore) -> None:
    with pytest.raises(StorageError, match="unknown blob kind"):
        blobs.put("../x", b"")
    with pytest.raises(StorageError):
        blobs.get("raw/00/00/" + "0" * 64)
    with pytest.raises(StorageError):
        blobs.get("../../etc/passwd")
    assert not blobs.exists("raw/00/00/" + "0" * 64)


def test_a_failed_write_is_a_storage_error_and_stores_nothing(backend: Backend) -> None:
    backend.break_raw_writes()
    with pytest.raises(StorageError, match="cannot store blob"):
        backend.store.put("raw", RAW)
    sha = hashlib.sha256(RAW).hexdigest()
    assert not backend.store.exists(f"raw/{sha[:2]}/{sha[2:4]}/{sha}")


def test_write_ahead_writes_through_the_port(backend: Backend) -> None:
    backend.break_raw_writes()
    with WriteAhead(backend.store) as ahead:
        done = ahead.put("att", RAW)
        failed = ahead.put("raw", RAW)
        assert backend.store.get(done.result()[1]) == RAW
        with pytest.raises(StorageError):
            failed.result()
