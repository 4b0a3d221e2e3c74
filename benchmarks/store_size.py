"""Bytes on disk per message in each store, for sizing (run on demand, prints numbers).

    .venv/bin/python benchmarks/store_size.py [--messages 2000] [--no-postgres]

Ingests one seeded corpus (CPython's email test messages, each copy with its own Message-ID; 5 %
with a 200 KiB photo, 0.5 % with a 5 MiB PDF: random bytes, as incompressible as the real
thing) through the whole pipeline, from an in-memory mailbox, into:

1. files + SQLite (``[storage] backend = "filesystem"``): the store's files as allocated on
   disk, plus the database file;
2. the database store on SQLite: the database file;
3. the database store on PostgreSQL: the database's growth (``pg_database_size``).

Prints bytes per message (total and the raw mail's own size) and the growth per year at a
few desk volumes.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import random
import sqlite3
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from intake import store  # noqa: E402
from intake.adapters.memory import MemoryMailbox  # noqa: E402
from intake.app import App  # noqa: E402
from intake.core import configfile  # noqa: E402
from tests.servers import Postgres, find_cpython_email_data  # noqa: E402

#: Messages a day at which the yearly growth is shown.
VOLUMES = (20, 100, 500)


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def with_attachment(seq: int, name: str, ctype: str, size: int, rng: random.Random) -> bytes:
    payload = base64.encodebytes(rng.randbytes(size))
    return crlf(
        b"From: =?utf-8?b?5byg5LiJ?= <writer%d@qq.example>\n" % seq
        + b"To: tougao@news.example\nSubject: =?utf-8?b?5oqV56i/?= %d\n" % seq
        + b"Message-ID: <size-%d@qq.example>\nMIME-Version: 1.0\n" % seq
        + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
        + b"Content-Type: text/plain; charset=utf-8\n\n"
        + "稿件见附件，请查收。\n".encode()
        + f'--b\nContent-Type: {ctype}; name="{name}"\n'.encode()
        + b"Content-Transfer-Encoding: base64\n"
        + f'Content-Disposition: attachment; filename="{name}"\n\n'.encode()
        + payload
        + b"--b--\n"
    )


def corpus(count: int, seed: int = 20261127) -> Iterator[bytes]:
    data_dir = find_cpython_email_data()
    if data_dir is None:
        raise SystemExit("CPython's email test data is missing")
    samples = [p.read_bytes() for p in sorted(data_dir.glob("msg_*.txt"))]
    rng = random.Random(seed)
    for seq in range(count):
        roll = rng.random()
        if roll < 0.005:
            yield with_attachment(seq, "article.pdf", "application/pdf", 5 << 20, rng)
        elif roll < 0.055:
            yield with_attachment(seq, "photo.jpg", "image/jpeg", 200 << 10, rng)
        else:
            base = samples[seq % len(samples)]
            # Each copy its own message: a new Message-ID (an earlier one is replaced).
            lines = [
                ln for ln in crlf(base).split(b"\r\n") if not ln.lower().startswith(b"message-id:")
            ]
            yield b"Message-ID: <size-%d@example.org>\r\n" % seq + b"\r\n".join(lines)


def ingest(work: Path, url: str, backend: str, count: int) -> int:
    """Poll the corpus into a fresh configuration; returns the raw bytes ingested."""
    settings = configfile.from_mapping(
        {
            "database": {"url": url},
            "storage": {"path": str(work / "store"), "backend": backend},
            "mailboxes": [{"name": "m", "host": "imap.invalid", "username": "u", "password": "p"}],
            "ingest": {"max_message_bytes": 50 << 20},
        },
        env={},
    )
    app = App(settings)
    store.upgrade(app.engine)
    box = MemoryMailbox("m")
    raw_bytes = 0
    for raw in corpus(count):
        box.deliver(raw)
        raw_bytes += len(raw)
    with box.connection() as session:
        app.ingestor.poll(session, settings.mailboxes[0])
    app.close()
    return raw_bytes


def allocated(path: Path) -> int:
    """Bytes a tree takes on disk (allocated blocks, as du counts them)."""
    return sum(p.stat().st_blocks * 512 for p in path.rglob("*") if p.is_file())


def sqlite_size(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return allocated(path.parent)


def pg_size(url: str) -> int:
    engine = store.make_engine(url)
    with engine.connect() as conn:
        conn.execute(text("CHECKPOINT"))
        size = int(conn.scalar(text("SELECT pg_database_size(current_database())")) or 0)
    engine.dispose()
    return size


def report(label: str, total: int, raw: int, count: int) -> None:
    per = total / count
    years = ", ".join(f"{n}/day: {per * n * 365 / 1e9:.1f} GB" for n in VOLUMES)
    print(f"{label:22} {per / 1e3:6.1f} kB/message ({total / raw:.2f} x raw); a year at {years}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    count = args.messages
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files, db_sqlite = root / "files", root / "db-sqlite"
        raw = ingest(files, f"sqlite:///{files}/db/intake.db", "filesystem", count)
        each = raw / count / 1e3
        print(f"corpus: {count} messages, {raw / 1e6:.1f} MB of raw mail ({each:.1f} kB each)")
        store_bytes = allocated(files / "store")
        db_bytes = sqlite_size(files / "db" / "intake.db")
        report("files (store)", store_bytes, raw, count)
        report("files + SQLite rows", store_bytes + db_bytes, raw, count)
        ingest(db_sqlite, f"sqlite:///{db_sqlite}/db/intake.db", "database", count)
        report("database, SQLite", sqlite_size(db_sqlite / "db" / "intake.db"), raw, count)
        if not args.no_postgres:
            server = stack.enter_context(Postgres())
            url = server.new_database()
            empty = server.new_database()
            engine = store.make_engine(empty)
            store.upgrade(engine)
            engine.dispose()
            baseline = pg_size(empty)
            ingest(root / "db-pg", url, "database", count)
            report("database, PostgreSQL", pg_size(url) - baseline, raw, count)


if __name__ == "__main__":
    main()
