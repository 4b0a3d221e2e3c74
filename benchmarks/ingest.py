"""Ingest throughput and memory, against a private Dovecot (run on demand, prints numbers).

    .venv/bin/python benchmarks/ingest.py [--messages 10000]

1. APPENDs a seeded mixed corpus to Dovecot: CPython's email test messages cycled (each made
   unique by a header), 5% with a 200 KiB attachment, 0.5% with a 5 MiB one.
2. (a) a bare loop: imapclient FETCH BODY.PEEK[] in batches of 100 (imaplib debug level 0),
   mailparser parse, one SQLite row per message, committed one by one;
   (b) `intake poll` on the same mailbox, as a subprocess.
   Prints messages/s for both and the ratio b/a (target >= 0.5).
3. Peak RSS of `intake poll` ingesting one message with a 25 MiB attachment (target <= 250 MB).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import mailparser
from imapclient import IMAPClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import Dovecot, find_cpython_email_data  # noqa: E402


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


def corpus(count: int, seed: int = 20261127) -> list[bytes]:
    data_dir = find_cpython_email_data()
    if data_dir is None:
        raise SystemExit("CPython's email test data is missing")
    samples = [p.read_bytes() for p in sorted(data_dir.glob("msg_*.txt"))]
    rng = random.Random(seed)
    messages = []
    for seq in range(count):
        roll = rng.random()
        if roll < 0.005:
            messages.append(with_attachment(seq, 5 * 1024 * 1024, rng))
        elif roll < 0.055:
            messages.append(with_attachment(seq, 200 * 1024, rng))
        else:
            base = samples[seq % len(samples)]
            messages.append(crlf(b"X-Bench-Seq: %d\n" % seq + base))
    return messages


def append_all(port: int, user: str, password: str, messages: list[bytes]) -> float:
    started = time.perf_counter()
    imap = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60)
    imap._imap.debug = 0
    imap.login(user, password)
    for raw in messages:
        imap.append("INBOX", raw)
    imap.logout()
    return time.perf_counter() - started


def bare_loop(port: int, user: str, password: str, db_path: Path) -> tuple[int, float]:
    db = sqlite3.connect(db_path)
    db.execute("create table m (uid integer primary key, subject text, sender text, size integer)")
    started = time.perf_counter()
    count = 0
    imap = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60)
    imap._imap.debug = 0
    imap.login(user, password)
    imap.select_folder("INBOX")
    uids = sorted(imap.search("ALL"))
    for start in range(0, len(uids), 100):
        batch = uids[start : start + 100]
        for uid, item in imap.fetch(batch, ["BODY.PEEK[]"]).items():
            raw = item[b"BODY[]"]
            parsed = mailparser.parse_from_bytes(raw)
            db.execute(
                "insert into m values (?, ?, ?, ?)",
                (uid, parsed.subject, str(parsed.from_), len(raw)),
            )
            db.commit()
            count += 1
    imap.logout()
    db.close()
    return count, time.perf_counter() - started


def write_config(path: Path, work: Path, dovecot: Dovecot, user: str, password: str) -> None:
    path.write_text(
        f"""
[database]
url = "sqlite:///{work}/intake.db"
[storage]
path = "{work}/store"
[[mailboxes]]
name = "bench"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
password = "{password}"
[site]
domains = ["news.example"]
""",
        encoding="utf-8",
    )


def intake(config: Path, *args: str) -> tuple[float, int]:
    """Run an intake command; returns (seconds, peak RSS of the child in KiB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/intake"), "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"intake {' '.join(args)} failed")
    return elapsed, usage.ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--memory-only", action="store_true", help="only the 25 MiB RSS run")
    parser.add_argument("--append-big", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--append-corpus", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--bare", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.append_corpus:
        count, port, user, password = args.append_corpus
        messages = corpus(int(count))
        total_mb = sum(len(m) for m in messages) / 1e6
        seconds = append_all(int(port), user, password, messages)
        print(f"corpus: {len(messages)} messages, {total_mb:.0f} MB, appended in {seconds:.1f} s")
        return
    if args.bare:
        port, user, password, db_path = args.bare
        print(json.dumps(bare_loop(int(port), user, password, Path(db_path))))
        return
    if args.append_big:
        port, user, password = args.append_big
        imap = IMAPClient("127.0.0.1", port=int(port), ssl=False)
        imap.login(user, password)
        imap.append("INBOX", with_attachment(1, 25 * 1024 * 1024, random.Random(1)))
        imap.logout()
        return
    with Dovecot() as dovecot, tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        work = Path(tmp)
        if not args.memory_only:
            throughput(dovecot, work, args.messages)
        memory(dovecot, work)


def throughput(dovecot: Dovecot, work: Path, count: int) -> None:
    user, password = dovecot.add_user("bench")
    # The corpus and the bare loop live in child processes: a peak RSS is inherited across
    # fork and exec, so this process must stay small for the measured `intake poll`.
    print(child("--append-corpus", str(count), str(dovecot.port), user, password))
    count, a_seconds = json.loads(
        child("--bare", str(dovecot.port), user, password, str(work / "bare.db"))
    )
    a_rate = count / a_seconds
    print(
        f"(a) bare fetch+parse+insert: {count} messages in {a_seconds:.1f} s = {a_rate:.0f} msg/s"
    )

    config = work / "intake.toml"
    write_config(config, work, dovecot, user, password)
    intake(config, "db", "upgrade")
    b_seconds, b_rss = intake(config, "poll", "--json")
    b_rate = count / b_seconds
    print(f"(b) intake poll: {count} messages in {b_seconds:.1f} s = {b_rate:.0f} msg/s")
    print(f"ratio b/a = {b_rate / a_rate:.2f} (target >= 0.5); poll peak RSS {b_rss / 1024:.0f} MB")


def child(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, __file__, *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def memory(dovecot: Dovecot, work: Path) -> None:
    big_user, big_password = dovecot.add_user("big")
    # Built and appended by a child process: a peak RSS is inherited across fork and exec,
    # so this process must stay small for the measured `intake poll` to start from zero.
    child("--append-big", str(dovecot.port), big_user, big_password)
    big = work / "big"
    big.mkdir()
    big_config = big / "intake.toml"
    write_config(big_config, big, dovecot, big_user, big_password)
    intake(big_config, "db", "upgrade")
    _, rss = intake(big_config, "poll")
    print(
        f"peak RSS ingesting one message with a 25 MiB attachment: {rss / 1024:.0f} MB "
        "(target <= 250 MB)"
    )


if __name__ == "__main__":
    main()
