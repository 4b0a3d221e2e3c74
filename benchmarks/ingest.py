"""Ingest throughput and memory on distinct contributions, against a private Dovecot and
PostgreSQL (run on demand, prints numbers).

    .venv/bin/python benchmarks/ingest.py [--messages 10000] [--no-postgres] [--no-profile]

1. APPENDs a seeded corpus of distinct contributions (benchmarks/corpus.py: each message its
   own Message-ID, sender, subject and article; 5 % with a real ~200 KiB JPEG photo, 0.5 % with
   a real ~5 MiB PDF) to Dovecot.
2. Bare loops: imapclient FETCH BODY.PEEK[] in batches of 100 (imaplib debug level 0),
   mailparser parse, one row per message, committed once per batch and once per message;
   writing to SQLite and to PostgreSQL.
3. `intake poll` on the same mailbox, as a subprocess (SQLite, then PostgreSQL, the mail moved
   back in between), with [smtp] set so that every submission is acknowledged. Prints
   messages/s, the ratio against the per-batch bare loop on the same database (targets: >= 0.5
   on SQLite, >= 0.4 on PostgreSQL) and the poll's peak RSS.
4. The time per message of each stage, from a cProfile of `intake poll` on SQLite (the main
   process; the raw-write thread and the parse worker show as waits).
5. Peak RSS of `intake poll` ingesting one message with a 25 MiB attachment (target <= 250 MB).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import pstats
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mailparser
from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import corpus  # noqa: E402

from tests.servers import Dovecot, Postgres  # noqa: E402

BATCH = 100


def crlf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def with_attachment(seq: int, size: int, rng: random.Random) -> bytes:
    payload = base64.encodebytes(rng.randbytes(size))
    return crlf(
        b"From: =?utf-8?b?5byg5LiJ?= <writer%d@qq.example>\n" % seq
        + b"To: tougao@news.example\nSubject: =?utf-8?b?5oqV56i/?= %d\n" % seq
        + b"Message-ID: <bench-%d@qq.example>\nMIME-Version: 1.0\n" % seq
        + b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
        + b"Content-Type: text/plain; charset=utf-8\n\n"
        + "稿件见附件，请查收。\n".encode()
        + b'--b\nContent-Type: image/jpeg; name="photo.jpg"\n'
        + b"Content-Transfer-Encoding: base64\n"
        + b'Content-Disposition: attachment; filename="photo.jpg"\n\n'
        + payload
        + b"--b--\n"
    )


def imap(port: int, user: str, password: str) -> IMAPClient:
    client = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=120)
    client._imap.debug = 0  # imapclient sets 5, which formats every response (5x slower)
    client.login(user, password)
    return client


def append_all(port: int, user: str, password: str, count: int) -> tuple[int, float, float]:
    started = time.perf_counter()
    client = imap(port, user, password)
    total = 0
    for raw in corpus(count):
        client.append("INBOX", raw)
        total += len(raw)
    client.logout()
    return count, total / 1e6, time.perf_counter() - started


def move_back(port: int, user: str, password: str) -> int:
    """Put every processed message back into INBOX for the next run (new UIDs)."""
    client = imap(port, user, password)
    client.select_folder("Processed")
    uids = client.search("ALL")
    if uids:
        client.move(uids, "INBOX")
    client.logout()
    return len(uids)


def bare_loop(
    port: int, user: str, password: str, connect: Callable[[], Any], mark: str, per_batch: bool
) -> tuple[int, float, float]:
    """FETCH in batches of 100, mailparser, one row per message; commit per batch or message."""
    db = connect()
    db.execute(
        "create table m (uid integer primary key, message_id text, subject text, sender text,"
        " size integer)"
    )
    db.commit()
    insert = f"insert into m values ({', '.join([mark] * 5)})"
    started, cpu = time.perf_counter(), time.process_time()
    count = 0
    client = imap(port, user, password)
    client.select_folder("INBOX")
    uids = sorted(client.search("ALL"))
    for start in range(0, len(uids), BATCH):
        batch = uids[start : start + BATCH]
        for uid, item in client.fetch(batch, ["BODY.PEEK[]"]).items():
            raw = item[b"BODY[]"]
            parsed = mailparser.parse_from_bytes(raw)
            row = (uid, parsed.message_id, parsed.subject, str(parsed.from_), len(raw))
            db.execute(insert, row)
            if not per_batch:
                db.commit()
            count += 1
        if per_batch:
            db.commit()
    client.logout()
    db.close()
    return count, time.perf_counter() - started, time.process_time() - cpu


def write_config(path: Path, work: Path, url: str, dovecot: Dovecot, user: str, pw: str) -> None:
    path.write_text(
        f"""
[database]
url = "{url}"
[storage]
path = "{work}/store"
[smtp]
host = "127.0.0.1"
port = 2
security = "none"
from_address = "投稿 <tougao@news.example>"
[[mailboxes]]
name = "bench"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password = "{pw}"
batch_size = {BATCH}
[site]
domains = ["news.example"]
""",
        encoding="utf-8",
    )


def intake(config: Path, *args: str, python: list[str] | None = None) -> tuple[float, int, float]:
    """Run an intake command; returns (seconds, peak RSS of the child in KiB, CPU seconds of
    the child and the workers it waited for)."""
    started = time.perf_counter()
    command = python or [str(ROOT / ".venv/bin/intake")]
    proc = subprocess.Popen([*command, "--config", str(config), *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"intake {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def child(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--memory-only", action="store_true", help="only the 25 MiB RSS run")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled poll")
    parser.add_argument("--no-memory", action="store_true", help="skip the 25 MiB RSS run")
    parser.add_argument("--append-big", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--append-corpus", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=5, help=argparse.SUPPRESS)
    parser.add_argument("--move-back", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.append_corpus:
        count, port, user, password = args.append_corpus
        print(json.dumps(append_all(int(port), user, password, int(count))))
        return
    if args.move_back:
        port, user, password = args.move_back
        print(move_back(int(port), user, password))
        return
    if args.bare:
        port, user, password, url, commit = args.bare
        print(json.dumps(bare(int(port), user, password, url, commit == "batch")))
        return
    if args.append_big:
        port, user, password = args.append_big
        client = imap(int(port), user, password)
        client.append("INBOX", with_attachment(1, 25 * 1024 * 1024, random.Random(1)))
        client.logout()
        return
    with Dovecot() as dovecot, tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        work = Path(tmp)
        if not args.memory_only:
            postgres = None if args.no_postgres else Postgres()
            try:
                if postgres is not None:
                    postgres.start()
                throughput(dovecot, postgres, work, args.messages, not args.no_profile)
            finally:
                if postgres is not None:
                    postgres.close()
        if not args.no_memory:
            memory(dovecot, work)


def bare(
    port: int, user: str, password: str, url: str, per_batch: bool
) -> tuple[int, float, float]:
    if url.startswith("postgresql"):
        import psycopg

        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        return bare_loop(port, user, password, lambda: psycopg.connect(dsn), "%s", per_batch)
    return bare_loop(port, user, password, lambda: sqlite3.connect(url), "?", per_batch)


def throughput(
    dovecot: Dovecot, postgres: Postgres | None, work: Path, count: int, profile: bool
) -> None:
    user, password = dovecot.add_user("bench")
    box = (str(dovecot.port), user, password)
    # The corpus and the bare loops live in child processes: a peak RSS is inherited across
    # fork and exec, so this process must stay small for the measured `intake poll`.
    count, megabytes, seconds = json.loads(child("--append-corpus", str(count), *box))
    print(f"corpus: {count} distinct contributions, {megabytes:.0f} MB, "
          f"appended in {seconds:.0f} s")  # fmt: skip
    databases = [("SQLite", lambda name: str(work / f"{name}.db"))]
    if postgres is not None:
        databases.append(("PostgreSQL", lambda name: postgres.new_database()))
    for label, make_url in databases:
        rates = {}
        for commit in ("message", "batch"):
            done, secs, cpu = json.loads(child("--bare", *box, make_url(f"bare-{commit}"), commit))
            rates[commit] = done / secs
            print(f"{label:10} bare loop, commit per {commit:7}: {done} in {secs:5.1f} s = "
                  f"{rates[commit]:4.0f} msg/s, {1000 * cpu / done:5.2f} ms CPU/msg")  # fmt: skip
        url = make_url("intake")
        if label == "SQLite":
            url = f"sqlite:///{url}"
        seconds, rss, cpu = run_poll(dovecot, work / label, url, user, password)
        rate = count / seconds
        target = 0.5 if label == "SQLite" else 0.4
        print(
            f"{label:10} intake poll:                 {count} in {seconds:5.1f} s = "
            f"{rate:4.0f} msg/s, {1000 * cpu / count:5.2f} ms CPU/msg (workers included)"
        )
        print(f"{label:10} ratio {rate / rates['batch']:.2f} against the per-batch loop "
              f"(target >= {target}); poll peak RSS {rss / 1024:.0f} MB")  # fmt: skip
        child("--move-back", *box)
    if profile:
        stages(dovecot, work / "profile", user, password, count)
        child("--move-back", *box)


def run_poll(
    dovecot: Dovecot,
    work: Path,
    url: str,
    user: str,
    password: str,
    *,
    python: list[str] | None = None,
) -> tuple[float, int, float]:
    work.mkdir()
    config = work / "intake.toml"
    write_config(config, work, url, dovecot, user, password)
    intake(config, "db", "upgrade")
    return intake(config, "poll", "--json", python=python)


#: The stages of one message in `intake poll`, as (label, function name, file suffix).
STAGES = (
    ("FETCH (IMAP)", "fetch", "intake/adapters/imap.py"),
    ("wait for the raw write", "result", "concurrent/futures/_base.py"),
    ("wait for the parse worker", "result", "intake/ingest/parseahead.py"),
    ("parse in-process (no worker)", "parse_or_reason", "intake/ingest/parsing.py"),
    ("classify (the thread's part)", "classify", "intake/ingest/classify/chain.py"),
    ("find thread", "_find_thread", "intake/ingest/record.py"),
    ("known before?", "_seen_before", "intake/ingest/record.py"),
    ("read documents", "_extract", "intake/ingest/record.py"),
    ("store attachments + decide", "_decide", "intake/ingest/record.py"),
    ("core rows", "write", "intake/ingest/rows.py"),
    ("hook: duplicates", "ingest_hook", "intake/submissions/duplicates.py"),
    ("hook: acknowledgment", "ingest_hook", "intake/replies/acknowledge.py"),
    ("hook: desk", "ingest_hook", "intake/replies/desk.py"),
    ("savepoints and commits (flushes)", "commit", "sqlalchemy/orm/session.py"),
    ("quarantine", "hold", "intake/ingest/quarantine.py"),
    ("move on the server", "_mark", "intake/ingest/poll.py"),
    ("whole poll", "poll", "intake/ingest/poll.py"),
)


def stages(dovecot: Dovecot, work: Path, user: str, password: str, count: int) -> None:
    work.mkdir()
    out = work / "poll.prof"
    runner = [
        str(ROOT / ".venv/bin/python"), "-c",
        "import cProfile, sys; from intake.cli import main; sys.argv[0] = 'intake'; "
        f"cProfile.run('main()', {str(out)!r})",
    ]  # fmt: skip
    try:
        run_poll(dovecot, work / "db", f"sqlite:///{work}/intake.db", user, password,
                 python=runner)  # fmt: skip
    except SystemExit:
        pass  # click exits through SystemExit; the profile is written first
    stats = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    print(f"time per message by stage (cProfile of `intake poll` on SQLite, {count} messages; "
          "cumulative, so stages nest):")  # fmt: skip
    for label, name, suffix in STAGES:
        total = sum(
            value[3]
            for (path, _line, func), value in stats.items()
            if func == name and path.endswith(suffix)
        )
        print(f"  {label:32} {1000 * total / count:7.2f} ms")


def memory(dovecot: Dovecot, work: Path) -> None:
    big_user, big_password = dovecot.add_user("big")
    # Built and appended by a child process: a peak RSS is inherited across fork and exec,
    # so this process must stay small for the measured `intake poll` to start from zero.
    child("--append-big", str(dovecot.port), big_user, big_password)
    big = work / "big"
    big.mkdir()
    big_config = big / "intake.toml"
    write_config(big_config, big, f"sqlite:///{big}/intake.db", dovecot, big_user, big_password)
    intake(big_config, "db", "upgrade")
    _, rss, _cpu = intake(big_config, "poll")
    print(
        f"peak RSS ingesting one message with a 25 MiB attachment: {rss / 1024:.0f} MB "
        "(target <= 250 MB)"
    )


if __name__ == "__main__":
    main()
