"""The SQLite database, and its -wal and -shm files, are never created readable by others,
whatever the umask intake runs under outside systemd: 0600, or 0660 in a directory shared with
a group (the state directory, 2770)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from intake import store


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    old = os.umask(0o002)  # the loosest common umask: files 0664
    try:
        yield
    finally:
        os.umask(old)


def modes(directory: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in directory.iterdir()}


@pytest.mark.parametrize(("dir_mode", "file_mode"), [(0o755, 0o600), (0o2770, 0o660)])
def test_a_new_database_and_its_wal_files_are_private(
    tmp_path: Path, permissive_umask: None, dir_mode: int, file_mode: int
) -> None:
    directory = tmp_path / "state"
    directory.mkdir()
    os.chmod(directory, dir_mode)
    engine = store.make_engine(f"sqlite:///{directory / 'intake.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
        conn.execute(text("INSERT INTO t VALUES (1)"))
        # the -wal and -shm files exist while a connection is open
        assert modes(directory) == {
            "intake.db": file_mode,
            "intake.db-wal": file_mode,
            "intake.db-shm": file_mode,
        }
    engine.dispose()


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "intake.db"
    path.touch()
    os.chmod(path, 0o640)
    store.make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
