"""``intake storage verify`` and ``intake storage migrate`` end to end: mail polled from Dovecot
into one store, moved to the other and back, every object checked by sha256 each way; damage
found and named; an interrupted move resumed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake import store
from intake.adapters.blobstore import LocalBlobStore
from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.cli import cli
from intake.core.errors import StorageError
from intake.service import storage as service
from intake.store import schema
from tests.helpers import nested, submission
from tests.servers import Dovecot

PHOTO = bytes(range(256)) * 2000  # 512,000 bytes


def write_config(
    tmp_path: Path, dovecot: Dovecot, account: tuple[str, str], db_url: str, backend: str
) -> Path:
    path = tmp_path / f"intake-{backend}.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[storage]
backend = "{backend}"
path = "{tmp_path / "store"}"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.tls_port}
security = "tls"
ca_file = "{dovecot.ca_file}"
username = "{account[0]}"
password = "{account[1]}"
timeout = 10.0
""",
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def as_json(config: Path, *args: str) -> tuple[int, dict[str, object]]:
    code, out, err = run(config, *args, "--json")
    assert out, err
    return code, json.loads(out)


@pytest.fixture
def mail(dovecot: Dovecot, imap_account: tuple[str, str]) -> dict[str, bytes]:
    """What the mailbox holds: a submission with a photo, a plain one, one unparseable."""
    found = {
        "photo": submission(attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" + PHOTO)]),
        "plain": submission(subject="第二篇"),
        "broken": nested(80),
    }
    for raw in found.values():
        dovecot.append(*imap_account, "INBOX", raw)
    return found


def test_a_store_moves_to_the_database_and_back_checked_each_way(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    db_url: str,
    mail: dict[str, bytes],
) -> None:
    files = write_config(tmp_path, dovecot, imap_account, db_url, "filesystem")
    database = write_config(tmp_path, dovecot, imap_account, db_url, "database")
    assert run(files, "db", "upgrade")[0] == 0
    assert run(files, "poll")[0] == 0
    code, report = as_json(files, "storage", "verify")
    assert code == 0 and report["ok"] and report["objects"] == 4  # three messages, one photo
    assert report["bytes"] == sum(map(len, mail.values())) + len(PHOTO) + 2

    # Into the database; run again, as after an interruption: nothing is copied twice.
    code, moved = as_json(files, "storage", "migrate", "--to", "database")
    assert code == 0 and (moved["copied"], moved["present"], moved["deleted"]) == (4, 0, 0)
    code, moved = as_json(files, "storage", "migrate", "--to", "database")
    assert code == 0 and (moved["copied"], moved["present"]) == (0, 4)
    code, report = as_json(database, "storage", "verify")
    assert code == 0 and report["objects"] == 4

    # The files go once the configuration names the database; the mail reads from there.
    code, moved = as_json(database, "storage", "migrate", "--to", "database", "--delete-source")
    assert code == 0 and (moved["present"], moved["deleted"]) == (4, 4)
    left = [p.name for p in (tmp_path / "store").rglob("*") if p.is_file()]
    assert left == ["reply-secret"]  # the reply key stays where storage.path says
    shown = CliRunner().invoke(cli, ["--config", str(database), "show", "1", "--raw"])
    assert shown.exit_code == 0 and shown.stdout_bytes == mail["photo"]

    # And back to files, checked: then the files alone answer for every object.
    code, moved = as_json(database, "storage", "migrate", "--to", "filesystem")
    assert code == 0 and moved["copied"] == 4
    engine = store.make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(schema.blob_chunks.delete())
            conn.execute(schema.blobs.delete())
    finally:
        engine.dispose()
    code, report = as_json(files, "storage", "verify")
    assert code == 0 and report["ok"] and report["objects"] == 4
    assert LocalBlobStore(tmp_path / "store").get(_raw_path(mail["broken"])) == mail["broken"]


def test_verify_names_what_is_missing_or_damaged_and_exits_1(
    tmp_path: Path,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    sqlite_url: str,
    mail: dict[str, bytes],
) -> None:
    files = write_config(tmp_path, dovecot, imap_account, sqlite_url, "filesystem")
    assert run(files, "db", "upgrade")[0] == 0
    assert run(files, "poll")[0] == 0
    root = tmp_path / "store"
    (root / _raw_path(mail["plain"])).unlink()
    damaged = root / _raw_path(mail["photo"])
    damaged.write_bytes(mail["photo"].replace(b"Subject", b"Subjekt"))
    code, report = as_json(files, "storage", "verify")
    assert code == 1 and not report["ok"]
    problems = {p["path"]: p for p in report["problems"]}  # type: ignore[attr-defined]
    missing = problems[_raw_path(mail["plain"])]
    assert missing["problem"] == "missing" and missing["named_by"] == ["message 2"]
    assert problems[_raw_path(mail["photo"])]["problem"].startswith("wrong hash")
    code, out, _ = run(files, "storage", "verify")
    assert code == 1 and "NOT OK" in out and "missing (message 2)" in out

    # A damaged or missing source is reported, never copied; the rest is moved.
    code, moved = as_json(files, "storage", "migrate", "--to", "database")
    assert code == 1 and moved["copied"] == 2
    reasons = sorted(p["problem"] for p in moved["problems"])  # type: ignore[attr-defined]
    assert reasons == ["missing in the source", "wrong hash in the source: not copied"]


def test_delete_source_waits_until_the_configuration_names_the_target(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str], sqlite_url: str
) -> None:
    files = write_config(tmp_path, dovecot, imap_account, sqlite_url, "filesystem")
    assert run(files, "db", "upgrade")[0] == 0
    code, _, err = run(files, "storage", "migrate", "--to", "database", "--delete-source")
    assert code == 1
    assert 'backend is "filesystem"' in err and 'set backend = "database"' in err


class FailingAfter(MemoryBlobStore):
    """A target whose disk fills up after ``n`` writes (an interrupted migration)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def put(self, kind: str, data: bytes, session: Session | None = None) -> tuple[str, str]:
        if self.left == 0:
            raise StorageError("cannot store blob: No space left on device")
        self.left -= 1
        return super().put(kind, data, session)


def test_an_interrupted_migration_resumes_where_it_stopped(tmp_path: Path) -> None:
    engine = store.make_engine(f"sqlite:///{tmp_path / 'intake.db'}")
    store.upgrade(engine)
    source = LocalBlobStore(tmp_path / "store")
    paths = [source.put("att", b"piece %d" % i)[1] for i in range(5)]
    with engine.begin() as conn:  # rows that name them
        conn.execute(
            schema.messages.insert(),
            [_message_row(i, path) for i, path in enumerate(paths)],
        )
    target = FailingAfter(2)
    with pytest.raises(StorageError):
        service.migrate(engine, source, target, names=("filesystem", "memory"))
    target.left = -1  # the disk has room again
    done = service.migrate(engine, source, target, names=("filesystem", "memory"))
    assert (done.objects, done.present, done.copied, done.ok) == (5, 2, 3, True)
    assert service.verify(engine, target, "memory").ok
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(schema.messages)) == 5
    engine.dispose()


def _message_row(i: int, path: str) -> dict[str, object]:
    from datetime import UTC, datetime

    now = datetime(2026, 11, 20, tzinfo=UTC)
    sha = path.rsplit("/", 1)[-1]
    return {"sha256": sha, "body_sha256": sha, "size": 7, "raw_path": path, "kind": "own",
            "received_at": now, "ingested_at": now, "defects": []}  # fmt: skip


def _raw_path(raw: bytes) -> str:
    sha = hashlib.sha256(raw).hexdigest()
    return f"raw/{sha[:2]}/{sha[2:4]}/{sha}"
