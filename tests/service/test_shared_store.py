"""One store for every machine (``[storage] backend = "database"``), with real processes: two
daemons with their own working folders polling one Dovecot mailbox into one PostgreSQL
database store every message once, and a third machine reads it back byte for byte; a poll
killed with SIGKILL at a chosen point (``INTAKE_CRASH_AT``, never a timer) loses nothing and
doubles nothing when the next one runs."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from intake import store
from intake.core.faults import CRASH_AT
from intake.store import schema
from tests.helpers import submission
from tests.servers import Dovecot, Postgres

SECRET = "one reply key for every machine of the desk"


def write_config(
    folder: Path, db_url: str, dovecot: Dovecot, account: tuple[str, str], backend: str
) -> Path:
    """A machine of its own: its working folder, the shared database and mailbox."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "intake.toml"
    path.write_text(
        f"""
[database]
url = "{db_url}"
[storage]
backend = "{backend}"
path = "{folder / "store"}"
[replies]
secret = "{SECRET}"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.tls_port}
security = "tls"
ca_file = "{dovecot.ca_file}"
username = "{account[0]}"
password = "{account[1]}"
timeout = 10.0
batch_size = 4
""",
        encoding="utf-8",
    )
    return path


def intake(config: Path, *args: str, crash_at: str = "") -> subprocess.Popen[bytes]:
    """``intake`` as its own process, as a daemon's machine runs it."""
    env = {k: v for k, v in os.environ.items() if k != CRASH_AT}
    if crash_at:
        env[CRASH_AT] = crash_at
    return subprocess.Popen(
        [sys.executable, "-m", "intake", "--config", str(config), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def finish(proc: subprocess.Popen[bytes]) -> tuple[int, bytes, str]:
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err.decode("utf-8", "replace")


def corpus() -> list[bytes]:
    """Twelve contributions; two carry the same photo, one is sent twice byte for byte."""
    photo = b"\xff\xd8" + bytes(range(256)) * 1200
    mail = [
        submission(
            subject=f"稿件 {i}", body=f"第 {i} 篇。" * (i + 1), message_id=f"<m{i}@qq.example>"
        )
        for i in range(9)
    ]
    mail.append(submission(subject="照片一", attachments=[("a.jpg", "image/jpeg", photo)]))
    mail.append(submission(subject="照片二", attachments=[("b.jpg", "image/jpeg", photo)]))
    mail.append(mail[0])
    return mail


def counts(engine: Engine) -> dict[str, int]:
    with store.reading(engine) as conn:
        return {
            t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
            for t in (schema.messages, schema.locations, schema.submissions, schema.blobs)
        }


def named_blobs(engine: Engine) -> set[str]:
    m, a = schema.messages, schema.attachments
    with store.reading(engine) as conn:
        raw = set(conn.scalars(select(m.c.raw_path).where(m.c.raw_path != "")))
        return raw | set(conn.scalars(select(a.c.blob_path)))


def stored_blobs(engine: Engine) -> set[str]:
    with store.reading(engine) as conn:
        return set(conn.scalars(select(schema.blobs.c.path)))


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = store.make_engine(db_url)
    store.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.mark.postgres
def test_two_daemons_on_two_machines_share_one_store(
    tmp_path: Path, postgres: Postgres, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    db_url = postgres.new_database()
    engine = store.make_engine(db_url)
    try:
        store.upgrade(engine)
        first, second, third = (
            write_config(tmp_path / name, db_url, dovecot, imap_account, "database")
            for name in ("machine-a", "machine-b", "machine-c")
        )
        mail = corpus()
        for raw in mail:
            dovecot.append(*imap_account, "INBOX", raw)
        # Both poll at once, as two daemons do when one's lease runs out while it works.
        polls = [intake(first, "poll", "--json"), intake(second, "poll", "--json")]
        results = [finish(p) for p in polls]
        assert [code for code, _, _ in results] == [0, 0], [err for _, _, err in results]
        distinct = len(set(mail))
        found = counts(engine)
        assert found["messages"] == found["submissions"] == distinct
        assert found["locations"] == len(mail)  # each server copy noted once
        # Every blob a row names is stored once: the raw messages and one photo.
        assert stored_blobs(engine) == named_blobs(engine)
        assert found["blobs"] == distinct + 1
        assert not [p for p in tmp_path.rglob("raw") if p.is_dir()]  # no machine kept files
        assert dovecot.uids(*imap_account, "INBOX") == []

        # A third machine, with nothing of the other two's folders, reads every message back.
        with store.reading(engine) as conn:
            rows = conn.execute(
                select(schema.submissions.c.id, schema.messages.c.raw_path).join(
                    schema.messages, schema.messages.c.id == schema.submissions.c.message_pk
                )
            ).all()
        by_sha = {hashlib.sha256(raw).hexdigest(): raw for raw in mail}
        for submission_id, raw_path in rows:
            code, out, err = finish(intake(third, "show", str(submission_id), "--raw"))
            assert code == 0, err
            assert out == by_sha[raw_path.rsplit("/", 1)[-1]]
        photo_id = next(i for i, path in rows if b"a.jpg" in by_sha[path.rsplit("/", 1)[-1]])
        code, _, err = finish(intake(third, "export", str(photo_id), "--to", str(tmp_path / "x")))
        assert code == 0, err
        assert (tmp_path / "x" / "a.jpg").read_bytes() == b"\xff\xd8" + bytes(range(256)) * 1200
        code, out, _ = finish(intake(third, "storage", "verify", "--json"))
        assert code == 0 and json.loads(out)["objects"] == distinct + 1
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["database", "filesystem"])
@pytest.mark.parametrize("point", ["ingest.before_commit:3", "poll.before_move:2"])
def test_a_poll_killed_mid_ingest_loses_nothing_and_doubles_nothing(
    tmp_path: Path,
    engine: Engine,
    db_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    backend: str,
    point: str,
) -> None:
    config = write_config(tmp_path / "machine", db_url, dovecot, imap_account, backend)
    mail = corpus()
    for raw in mail:
        dovecot.append(*imap_account, "INBOX", raw)
    code, _, err = finish(intake(config, "poll", crash_at=point))
    assert code == -signal.SIGKILL, err
    before = counts(engine)
    assert before["messages"] < len(set(mail))  # it died with work left
    if backend == "database":  # nothing of the transaction it died in was kept
        assert stored_blobs(engine) == named_blobs(engine)

    code, out, err = finish(intake(config, "poll", "--json"))
    assert code == 0, err
    after = counts(engine)
    assert after["messages"] == after["submissions"] == len(set(mail))
    assert after["locations"] == len(mail)
    assert dovecot.uids(*imap_account, "INBOX") == []
    code, out, err = finish(intake(config, "storage", "verify", "--json"))
    assert code == 0, err
    assert json.loads(out)["objects"] == len(set(mail)) + 1
    if backend == "database":
        assert stored_blobs(engine) == named_blobs(engine)
