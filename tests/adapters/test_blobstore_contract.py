"""The blob store port, one suite run against every backend in ``BACKENDS``.

To add a backend (a database, an object store), add one entry: a function that takes the test's
``request`` and ``tmp_path`` (so it can ask for fixtures such as ``db_url``) and returns a
``Backend``. Every test below then runs against it too; what is specific to one backend (file
modes, fsync) stays in that backend's own test module.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from intake import store
from intake.adapters.blobstore import LocalBlobStore, WriteAhead
from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.core.errors import StorageError
from intake.core.ports import BlobStore, blob_address
from intake.store.blobs import DatabaseBlobStore


@dataclass
class Backend:
    store: BlobStore
    break_raw_writes: Callable[[], None]  # call first: then put("raw", ...) raises StorageError
    sessions: sessionmaker[Session]  # transactions that rows naming a blob are written in


def _engine(request: pytest.FixtureRequest, url: str) -> Engine:
    engine = store.make_engine(url)
    request.addfinalizer(engine.dispose)
    store.upgrade(engine)
    return engine


def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    return _engine(request, f"sqlite:///{tmp_path / 'intake.db'}")


def memory(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    blobs = MemoryBlobStore()
    sessions = store.session_factory(_sqlite(request, tmp_path))
    return Backend(blobs, lambda: blobs.fail_writes(kinds=["raw"]), sessions)


def filesystem(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    root = tmp_path / "store"

    def break_raw_writes() -> None:
        root.mkdir(exist_ok=True)
        (root / "raw").write_text("not a directory")  # nothing can be created under raw/

    sessions = store.session_factory(_sqlite(request, tmp_path))
    return Backend(LocalBlobStore(root), break_raw_writes, sessions)


#: Small pieces, so every test's blobs of a few hundred KiB span several of them.
PIECE = 64 * 1024


def database_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    engine = _sqlite(request, tmp_path)

    def break_raw_writes() -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER disk_full BEFORE INSERT ON blobs WHEN NEW.kind = 'raw' "
                    "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
                )
            )

    blobs = DatabaseBlobStore(engine, chunk_bytes=PIECE)
    return Backend(blobs, break_raw_writes, store.session_factory(engine))


def database_postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    engine = _engine(request, request.getfixturevalue("postgres").new_database())

    def break_raw_writes() -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "IF NEW.kind = 'raw' THEN RAISE EXCEPTION 'could not extend file'; END IF; "
                    "RETURN NEW; END $$"
                )
            )
            conn.execute(
                text(
                    "CREATE TRIGGER disk_full BEFORE INSERT ON blobs "
                    "FOR EACH ROW EXECUTE FUNCTION disk_full()"
                )
            )

    blobs = DatabaseBlobStore(engine, chunk_bytes=PIECE)
    return Backend(blobs, break_raw_writes, store.session_factory(engine))


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Backend]] = {
    "memory": memory,
    "filesystem": filesystem,
    "database-sqlite": database_sqlite,
    "database-postgresql": database_postgresql,
}


@pytest.fixture(
    params=[
        pytest.param(name, marks=pytest.mark.postgres) if "postgresql" in name else name
        for name in sorted(BACKENDS)
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield BACKENDS[request.param](request, tmp_path)


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
        if backend.store.transactional:
            # Only addressed ahead: the bytes go in with the rows that name them.
            assert done.result() == blob_address("att", RAW)
            assert failed.result() == blob_address("raw", RAW)
            assert not backend.store.exists(done.result()[1])
            return
        assert backend.store.get(done.result()[1]) == RAW
        with pytest.raises(StorageError):
            failed.result()


def test_chunks_give_back_the_same_bytes_in_bounded_pieces(blobs: BlobStore) -> None:
    data = bytes(range(256)) * 1500  # 384,000 bytes: several pieces of a database store
    _, path = blobs.put("raw", data)
    pieces = list(blobs.chunks(path))
    assert b"".join(pieces) == data
    assert all(len(piece) <= 4 * 1024 * 1024 for piece in pieces)
    with pytest.raises(StorageError):
        list(blobs.chunks("att/00/00/" + "0" * 64))


def test_a_blob_put_in_a_transaction_is_there_once_it_commits(backend: Backend) -> None:
    with backend.sessions() as session, session.begin():
        sha, path = backend.store.put("att", RAW, session)
    assert sha == hashlib.sha256(RAW).hexdigest()
    assert backend.store.get(path) == RAW
    with backend.sessions() as session, session.begin():
        assert backend.store.put("att", RAW, session) == (sha, path)  # stored once


def test_a_rolled_back_transaction_keeps_a_blob_only_where_writes_are_immediate(
    backend: Backend,
) -> None:
    with backend.sessions() as session:
        session.begin()
        _, path = backend.store.put("raw", RAW, session)
        session.rollback()
    # A transactional store rolls back with the rows; the others wrote it at once.
    assert backend.store.exists(path) is not backend.store.transactional


def test_a_failed_write_in_a_transaction_stores_nothing(backend: Backend) -> None:
    backend.break_raw_writes()
    with pytest.raises(StorageError), backend.sessions() as session, session.begin():
        backend.store.put("raw", RAW, session)
    sha = hashlib.sha256(RAW).hexdigest()
    assert not backend.store.exists(f"raw/{sha[:2]}/{sha[2:4]}/{sha}")
