"""The content-addressed blob store: byte-exact, idempotent, private, and confined."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from intake.adapters.blobstore import LocalBlobStore, WriteAhead
from intake.core.errors import StorageError


def test_put_get_roundtrip(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = b"From: a@b\r\n\r\n\xff\xfe raw bytes \r\n"
    sha, path = store.put("raw", data)
    assert sha == hashlib.sha256(data).hexdigest()
    assert path == f"raw/{sha[:2]}/{sha[2:4]}/{sha}"
    assert store.get(path) == data
    assert (tmp_path / path).stat().st_mode & 0o777 == 0o640
    assert store.put("raw", data) == (sha, path)
    assert not list((tmp_path / path).parent.glob(".tmp-*"))


def test_paths_cannot_escape(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "store")
    with pytest.raises(StorageError, match="outside the store"):
        store.get("../../etc/passwd")
    with pytest.raises(StorageError, match="unknown blob kind"):
        store.put("../x", b"")


def test_unwritable_store_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot store blob"):
        LocalBlobStore(blocker).put("att", b"x")


def test_write_ahead_stores_on_its_thread_and_reports_failures(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    with WriteAhead(store) as ahead:
        first = ahead.put("raw", b"one")
    assert first.result() == store.put("raw", b"one")
    assert store.get(first.result()[1]) == b"one"
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with WriteAhead(LocalBlobStore(blocker)) as failing:
        future = failing.put("att", b"x")
        with pytest.raises(StorageError, match="cannot store blob"):
            future.result()
