"""Prometheus metrics: `intake run --metrics-address` against Dovecot, scraped over HTTP."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from intake.core import configfile
from intake.service.metrics import Metrics
from tests.helpers import AppFactory, settings_for, submission
from tests.servers import Dovecot, free_port

ROOT = Path(__file__).resolve().parents[2]


def value(text: str, series: str) -> float:
    """The value of one series in an exposition, 0 when absent."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        return str(answer.read().decode())


def test_metrics_of_a_running_service(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    dovecot.append(*imap_account, "INBOX", submission())
    path = tmp_path / "intake.toml"
    path.write_text(
        f"""[database]
url = "sqlite:///{tmp_path}/intake.db"
[storage]
path = "{tmp_path}/store"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{imap_account[0]}"
password = "{imap_account[1]}"
[daemon]
poll_interval = 600
""",
        encoding="utf-8",
    )
    intake = [sys.executable, "-m", "intake", "--config", str(path)]
    subprocess.run([*intake, "db", "upgrade"], check=True, capture_output=True, cwd=ROOT)
    port = free_port()
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [*intake, "run", "--log-format", "json", "--metrics-address", f"127.0.0.1:{port}"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    text = ""
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                text = scrape(port)
            except (urllib.error.URLError, ConnectionError):
                text = ""
            if 'intake_idle_connected{mailbox="submissions"} 1.0' in text and value(
                text, 'intake_polls_total{mailbox="submissions",result="ok"}'
            ):
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        log.close()
    assert 'intake_idle_connected{mailbox="submissions"} 1.0' in text
    # IDLE's first wake-up may add a second poll right after the first.
    assert value(text, 'intake_polls_total{mailbox="submissions",result="ok"}') >= 1
    assert 'intake_messages{kind="submission"} 1.0' in text
    assert value(text, 'intake_poll_duration_seconds_count{mailbox="submissions"}') >= 1
    assert 'intake_backlog{mailbox="submissions"} 0.0' in text
    assert "intake_quarantined 0.0" in text and "intake_healthy 1.0" in text
    assert 'intake_replies_total{result="sent"} 0.0' in text
    lines = (tmp_path / "run.log").read_text(encoding="utf-8").splitlines()
    assert any('"event": "message_recorded"' in line and '"uid": ' in line for line in lines)
    assert proc.returncode == 0


def test_collected_from_the_database(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    settings = settings_for(tmp_path, f"sqlite:///{tmp_path}/intake.db", dovecot, imap_account)
    app = app_factory(settings)
    metrics = Metrics(app.sessions, settings, app.clock)
    app.logins.listen(metrics.login_event)
    app.logins.refused("tougao@qq.com", "smtp", "smtp.qq.com", "535 Error", "x")
    metrics.delivered(2, 1, 0)
    metrics.poll_done("submissions", 0.3, False)
    text = metrics.text().decode()
    assert 'intake_auth_failures_total{account="tougao@qq.com",service="smtp"} 1.0' in text
    assert 'intake_login_refused{account="tougao@qq.com",service="smtp"} 1.0' in text
    assert 'intake_replies_total{result="sent"} 2.0' in text
    assert 'intake_polls_total{mailbox="submissions",result="failed"} 1.0' in text
    assert "intake_healthy 0.0" in text and "intake_database_up 1.0" in text
    assert configfile.parse_address("[::1]:9464", "x") == ("::1", 9464)
