"""Acknowledgment latency of the background service (run on demand, prints numbers).

    .venv/bin/python benchmarks/latency.py [--messages 20] [--poll-messages 8] [--poll-interval 3]

Starts a private Dovecot and the tests' SMTP server, runs `intake run` as a subprocess against
them (IMAP over implicit TLS, SQLite), then for each message: APPEND one submission and time
from the APPEND's completion until its acknowledgment has arrived at the SMTP server.

1. IDLE (the default): p50 / p95 / max over --messages (target: p95 <= 1.5 s; Dovecot batches
   IDLE notices, about 0.5 s).
2. Polling only (idle = false, poll_interval = --poll-interval): p50 / max over
   --poll-messages (target: every one under poll_interval + 1 s).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import submission  # noqa: E402
from tests.servers import Dovecot  # noqa: E402
from tests.smtpserver import SmtpServer  # noqa: E402

PASSWORD_ENV = "INTAKE_BENCH_IMAP_PASSWORD"


def write_config(
    directory: Path, dovecot: Dovecot, user: str, smtp: SmtpServer, idle: bool, poll: float
) -> Path:
    path = directory / "intake.toml"
    path.write_text(
        f"""[database]
url = "sqlite:///{directory / "intake.db"}"
[storage]
path = "{directory / "store"}"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.tls_port}
security = "tls"
ca_file = "{dovecot.ca_file}"
username = "{user}"
password_env = "{PASSWORD_ENV}"
idle = {"true" if idle else "false"}
[smtp]
host = "{smtp.host}"
port = {smtp.port}
security = "none"
from_address = "投稿 <tougao@news.example>"
[replies]
copyright_request = "manual"
[daemon]
poll_interval = {poll}
""",
        encoding="utf-8",
    )
    return path


def measure(
    dovecot: Dovecot, count: int, *, idle: bool, poll: float, rng: random.Random
) -> list[float]:
    user, password = dovecot.add_user("bench")
    with tempfile.TemporaryDirectory(prefix="intake-latency-") as tmp, SmtpServer() as smtp:
        directory = Path(tmp)
        config = write_config(directory, dovecot, user, smtp, idle, poll)
        env = {**os.environ, "INTAKE_CONFIG": str(config), PASSWORD_ENV: password}
        env["PYTHONPATH"] = str(ROOT)
        env.pop("NOTIFY_SOCKET", None)
        cli = [sys.executable, "-c", "from intake.cli import main; main()"]
        subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
        with open(directory / "daemon.log", "wb") as log:
            daemon = subprocess.Popen([*cli, "run"], env=env, stdout=log, stderr=log)
        try:
            _wait_for_log(directory / "daemon.log", "IDLE: listening" if idle else "started as", 20)
            time.sleep(1.0)  # let the first poll and the IDLE listener settle
            latencies = []
            for i in range(count):
                raw = submission(
                    sender=f"作者{i} <author{i}.{secrets.token_hex(3)}@qq.example>",
                    subject=f"投稿：《第{i}篇》",
                    body=f"编辑老师您好：\n\n第{i}篇稿件。{secrets.token_hex(8)}\n",
                )
                dovecot.append(user, password, "INBOX", raw)
                appended = time.monotonic()
                smtp.wait_for(i + 1, timeout=poll + 30)
                latencies.append(time.monotonic() - appended)
                # Arrivals at random phases of the poll cycle, not in step with it.
                time.sleep(rng.uniform(0.2, 1.0 if idle else poll))
            return latencies
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(15)


def _wait_for_log(path: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.05)
    raise SystemExit(f"the daemon did not log {text!r} in {timeout} s:\n{path.read_text()}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--poll-messages", type=int, default=8)
    parser.add_argument("--poll-interval", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with Dovecot() as dovecot:
        idle = measure(dovecot, args.messages, idle=True, poll=60.0, rng=rng)
        print(
            f"IDLE: {len(idle)} messages: p50 {statistics.median(idle):.3f} s, "
            f"p95 {percentile(idle, 0.95):.3f} s, max {max(idle):.3f} s "
            f"(target p95 <= 1.5 s: {'ok' if percentile(idle, 0.95) <= 1.5 else 'MISSED'})"
        )
        if args.poll_messages:
            polled = measure(
                dovecot, args.poll_messages, idle=False, poll=args.poll_interval, rng=rng
            )
            limit = args.poll_interval + 1.0
            print(
                f"polling only (poll_interval {args.poll_interval:g} s): {len(polled)} messages: "
                f"p50 {statistics.median(polled):.3f} s, max {max(polled):.3f} s "
                f"(target every one < {limit:g} s: {'ok' if max(polled) < limit else 'MISSED'})"
            )


if __name__ == "__main__":
    main()
