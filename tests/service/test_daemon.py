"""The background service: systemd notification, backoff, coalescing, log redaction, jobs with
fakes in-process, and `intake run` as a subprocess against the real Dovecot, PostgreSQL and
SMTP servers (ingest while running, restarts, kill -9 loops, two daemons, SIGTERM)."""

from __future__ import annotations

import io
import json
import logging
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from intake import store
from intake.adapters.memory.mailbox import CAPABILITIES, MemoryMailbox
from intake.app import App
from intake.core import config, configfile, logs
from intake.core.errors import MailboxUnavailable
from intake.core.events import Ingested
from intake.core.mail import MessageRef, RawMail
from intake.ingest.pipeline import PollResult, Progress
from intake.service.daemon import Backoff, Daemon, Lane, Notifier, ServeResult, serve
from intake.store.models import Location, MailboxState, Message, Outbox
from tests.helpers import settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
#: A safety net against hanging, never a verdict: each wait is for something that must happen,
#: and no assertion depends on how long it took.
PATIENCE = 60.0
#: An interval no timer reaches during a test: whatever happens sooner was woken up.
NEVER = 3600.0


def wait_until(check: Callable[[], object], timeout: float, what: str, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


# =========================================================================== sd_notify


@pytest.fixture
def datagram(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(2)
    yield sock
    sock.close()


def test_notify_sends_ready_status_watchdog_and_stopping(datagram: socket.socket) -> None:
    notifier = Notifier.from_env({"NOTIFY_SOCKET": datagram.getsockname()})
    assert notifier.ready("watching 1 mailbox(es)")
    assert datagram.recv(4096) == b"READY=1\nSTATUS=watching 1 mailbox(es)"
    assert notifier.watchdog()
    assert datagram.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping()
    assert datagram.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


def test_notify_abstract_namespace() -> None:
    name = f"intake-test-{secrets.token_hex(6)}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert Notifier.from_env({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(4096) == b"READY=1"


def test_notify_without_socket_is_a_no_op(tmp_path: Path) -> None:
    assert not Notifier.from_env({}).ready()
    # A socket that went away (systemd restarted) must not break the service.
    assert not Notifier(str(tmp_path / "gone")).watchdog()


def test_watchdog_interval_is_half_and_only_for_this_pid() -> None:
    assert Notifier.from_env({"WATCHDOG_USEC": "30000000"}).watchdog_interval == 15.0
    mine = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_env(mine).watchdog_interval == 15.0
    other = {"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    assert Notifier.from_env(other).watchdog_interval is None
    assert Notifier.from_env({}).watchdog_interval is None


# =========================================================================== backoff, lanes


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    backoff = Backoff(maximum=300.0, base=1.0, rng=random.Random(7))
    ceilings = [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]
    for ceiling in ceilings:
        delay = backoff.failed()
        assert ceiling / 2 <= delay <= ceiling
    assert backoff.succeeded() == len(ceilings)
    assert backoff.failed() <= 1.0


def test_lane_never_runs_twice_at_once_and_misses_no_wakeup() -> None:
    lock = threading.Lock()
    running = passes = 0
    overlap = False
    in_first_pass, release = threading.Event(), threading.Event()

    def work() -> None:
        nonlocal running, overlap, passes
        with lock:
            running += 1
            overlap |= running > 1
            passes += 1
            first = passes == 1
        if first:  # hold the first pass until every wake-up below has come and gone
            in_first_pass.set()
            assert release.wait(60)
        with lock:
            running -= 1

    lane = Lane("test", work)
    holder = threading.Thread(target=lane.run)
    holder.start()
    assert in_first_pass.wait(60)
    wakers = [threading.Thread(target=lane.run) for _ in range(49)]
    for thread in wakers:
        thread.start()
    for thread in wakers:
        thread.join(60)  # each returns at once: the pass in progress will go round again
    assert not any(thread.is_alive() for thread in wakers) and lane.busy
    release.set()
    holder.join(60)
    assert not overlap
    assert passes == 2  # 49 wake-ups during a pass fold into exactly one more pass
    lane.run()  # a wake-up after everything has finished runs the work again
    assert passes == 3 and not lane.busy


# =========================================================================== logs


def test_redaction_of_secrets_and_password_patterns() -> None:
    stream = io.StringIO()
    logs.configure("text", secrets=["s3cr3t-imap", "ok"], stream=stream)
    log = logging.getLogger("intake.test")
    log.info("login with %s failed", "s3cr3t-imap")
    log.warning("connect postgresql+psycopg://intake:hunter22@db/intake password=hunter22 ok")
    log.warning('imap: LOGIN alice "pa ss" and AUTH PLAIN AGFsaWNlAHBhc3M= and token: abc123')
    try:
        raise RuntimeError("bad password_file secret=xyz789 with s3cr3t-imap inside")
    except RuntimeError:
        log.exception("failed")
    text = stream.getvalue()
    for leaked in ("s3cr3t-imap", "hunter22", "pa ss", "AGFsaWNlAHBhc3M=", "abc123", "xyz789"):
        assert leaked not in text
    assert "login with *** failed" in text
    # "ok" is too short to mask: it would blank out ordinary words.
    assert "postgresql+psycopg://intake:***@db/intake password=*** ok" in text
    # Masks take the secret, never the words beside it.
    log.warning("mailbox m: login failed for tougao2 at imap.qq.com: NO [b'AUTHENTICATIONFAILED']")
    log.warning("smtp.password: give only one of password, password_env; secret: none given")
    text = stream.getvalue()
    assert "login failed for tougao2 at imap.qq.com: NO [b'AUTHENTICATIONFAILED']" in text
    assert "smtp.password: give only one of password, password_env; secret: none given" in text


def test_json_log_lines(tmp_path: Path) -> None:
    stream = io.StringIO()
    logs.configure("json", secrets=["topsecret"], stream=stream)
    log = logging.getLogger("intake.test")
    log.info("message %s from %s", 7, "张三 topsecret")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("job failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["level"] == "INFO" and first["logger"] == "intake.test"
    assert first["msg"] == "message 7 from 张三 ***"
    assert datetime.fromisoformat(first["ts"]).tzinfo is not None
    assert "ValueError: boom" in second["exc"]


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_secrets_of_settings(tmp_path: Path) -> None:
    password_file = tmp_path / "smtp-password"
    password_file.write_text("from-a-file\n")
    settings = configfile.from_mapping(
        {
            "database": {"url": "postgresql+psycopg://intake:dbpass99@localhost/intake"},
            "mailboxes": [{"name": "a", "host": "h", "username": "u", "password_env": "IMAP_PW"}],
            "smtp": {"host": "h", "from_address": "x@example.com", "username": "u",
                     "password_file": str(password_file)},
            "replies": {"secret": "reply-key-1"},
        },
        env={"IMAP_PW": "from-env-1"},
    )  # fmt: skip
    os.environ["IMAP_PW"] = "from-env-1"
    try:
        found = set(logs.secrets_of(settings))
    finally:
        del os.environ["IMAP_PW"]
    assert found == {"from-env-1", "from-a-file", "reply-key-1", "dbpass99"}


# =========================================================================== jobs with fakes


class FakeApp:
    """Stands in for intake.app.App: real SQLite sessions, an in-memory mailbox whose IDLE
    wakes on mail delivered to it, and scripted jobs. Its "poll" moves whatever is in INBOX."""

    def __init__(
        self,
        settings: config.Settings,
        sessions: sessionmaker[Session],
        capabilities: Iterable[str] = CAPABILITIES,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.box = MemoryMailbox("a", capabilities=capabilities)
        self.polls = 0
        self.poll_errors: list[Exception] = []
        self.deliveries = 0
        self.maintenance = 0
        self.new_per_poll = 0
        self.fail_outbox = False

    def clock(self) -> datetime:
        return datetime.now(UTC)

    def ready(self) -> None:
        pass

    def mailbox(self, config: config.MailboxConfig) -> MemoryMailbox:
        return self.box.connection()

    def poll_mailbox(
        self,
        config: config.MailboxConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> PollResult:
        self.polls += 1
        if self.poll_errors:
            raise self.poll_errors.pop(0)
        with self.box.connection() as box:
            box.select("INBOX")
            box.mark_processed(box.uids(), "Processed")
        return PollResult(fetched=self.new_per_poll, new=self.new_per_poll)

    def deliver_outbox(self, *, should_stop: Callable[[], bool] | None = None) -> object:
        self.deliveries += 1
        if self.fail_outbox:
            raise RuntimeError("smtp exploded")
        return None

    def run_maintenance(self) -> dict[str, int]:
        self.maintenance += 1
        raise RuntimeError("maintenance exploded")

    def connects(self) -> int:
        """IMAP sessions opened so far (each IDLE session selects INBOX once; polls do too)."""
        return sum(1 for name, args in self.box.calls if name == "select")


@pytest.fixture
def fake_sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    engine = store.make_engine(sqlite_url)
    store.upgrade(engine)
    yield store.session_factory(engine)
    engine.dispose()


def fake_settings(**daemon: object) -> config.Settings:
    return configfile.from_mapping(
        {
            "mailboxes": [{"name": "a", "host": "imap.invalid", "username": "u", "password": "p"}],
            "daemon": {"poll_interval": NEVER, "outbox_interval": NEVER,
                       "maintenance_interval": 0.2, "lease_seconds": 60.0,
                       "reconnect_max_seconds": 0.4, **daemon},
        },
        env={},
    )  # fmt: skip


@pytest.fixture
def running(
    fake_sessions: sessionmaker[Session],
) -> Iterator[Callable[..., tuple[FakeApp, Daemon]]]:
    started: list[tuple[FakeApp, Daemon]] = []

    def start(app: FakeApp | None = None, **daemon: object) -> tuple[FakeApp, Daemon]:
        app = app or FakeApp(fake_settings(**daemon), fake_sessions)
        d = Daemon(app, rng=random.Random(1))
        d.start()
        started.append((app, d))
        return app, d

    yield start
    for app, d in started:
        d.shutdown()
        app.box.down = True  # IDLE listeners waiting on the mailbox notice, and end


def idle_state(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session, session.begin():
        row = session.get(MailboxState, ("a", "INBOX"))
        return row.idle_state if row else None


def test_idle_news_wakes_the_poll_job_at_once(
    running: Callable[..., tuple[FakeApp, Daemon]],
) -> None:
    app, d = running()
    wait_until(lambda: idle_state(app.sessions) == "idling", PATIENCE, "IDLE state idling")
    app.box.deliver(submission())
    # The poll interval is NEVER: only IDLE's news can have woken the poll that moved it.
    wait_until(lambda: not app.box.messages("INBOX"), PATIENCE, "a poll after IDLE news")
    assert d.leases.holds("mailbox:a")


def test_new_mail_wakes_the_outbox(
    running: Callable[..., tuple[FakeApp, Daemon]], fake_sessions: sessionmaker[Session]
) -> None:
    app = FakeApp(fake_settings(), fake_sessions)
    app.new_per_poll = 1
    running(app)
    # The outbox runs once a second after start and then every NEVER seconds: a second
    # delivery comes only from the wake-up after an ingest with new mail.
    wait_until(lambda: app.deliveries >= 2, PATIENCE, "the outbox woken by new mail")


def test_failing_jobs_keep_running(
    running: Callable[..., tuple[FakeApp, Daemon]],
    fake_sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = FakeApp(fake_settings(), fake_sessions)
    app.poll_errors = [RuntimeError("bug in a parser"), MailboxUnavailable("mailbox a: refused")]
    app.fail_outbox = True
    with caplog.at_level(logging.INFO):
        running(app)
        # Two failures, each retried after a backoff of at most reconnect_max_seconds.
        wait_until(lambda: app.polls >= 3, PATIENCE, "polls after failures")
        wait_until(lambda: app.maintenance >= 3, PATIENCE, "maintenance running after raising")
        wait_until(lambda: "polling works again" in caplog.text, PATIENCE, "the recovery logged")
    text = caplog.text
    assert "mailbox a: poll failed" in text and "RuntimeError: bug in a parser" in text
    assert "mailbox a: refused; retrying in" in text
    assert "mailbox a: mailbox a:" not in text  # the adapter's text names it already
    assert "polling works again after 2 failure(s)" in text
    assert "maintenance failed" in text
    with app.sessions() as session, session.begin():
        row = session.get(MailboxState, ("a", "INBOX"))
        assert row is not None and row.last_error == "mailbox a: refused"


def test_idle_reconnects_after_the_server_goes_away(
    running: Callable[..., tuple[FakeApp, Daemon]],
) -> None:
    app, d = running()
    wait_until(lambda: idle_state(app.sessions) == "idling", PATIENCE, "idling")
    app.box.down = True
    wait_until(lambda: idle_state(app.sessions) == "reconnecting", PATIENCE, "reconnecting")
    app.box.down = False
    wait_until(lambda: idle_state(app.sessions) == "idling", PATIENCE, "idling again")
    app.box.deliver(submission())
    wait_until(lambda: not app.box.messages("INBOX"), PATIENCE, "a poll after IDLE news")


def test_unsupported_idle_and_idle_off(
    running: Callable[..., tuple[FakeApp, Daemon]], fake_sessions: sessionmaker[Session]
) -> None:
    app = FakeApp(fake_settings(), fake_sessions, capabilities={"IMAP4REV1", "MOVE"})
    running(app)
    wait_until(lambda: idle_state(fake_sessions) == "unsupported", PATIENCE, "unsupported")
    assert not any(name == "idle_wait" for name, _ in app.box.calls)


def test_standby_daemon_takes_over_when_the_holder_stops(
    running: Callable[..., tuple[FakeApp, Daemon]], fake_sessions: sessionmaker[Session]
) -> None:
    first, d1 = running(poll_interval=0.1)
    wait_until(lambda: d1.leases.holds("mailbox:a"), PATIENCE, "the first daemon's lease")
    second, d2 = running(FakeApp(fake_settings(poll_interval=0.1), fake_sessions))
    # The second daemon tried, found the lease taken and stood by, instead of polling.
    wait_until(lambda: "a" in d2.standing_by, PATIENCE, "the second daemon standing by")
    assert d2.standing_by["a"] == d1.holder
    assert second.polls == 0 and not d2.leases.holds("mailbox:a")
    d1.shutdown()  # releases its lease
    wait_until(lambda: second.polls, PATIENCE, "the standby polling")
    assert d2.leases.holds("mailbox:a") and "a" not in d2.standing_by


def test_shutdown_releases_leases_and_marks_idle_off(
    running: Callable[..., tuple[FakeApp, Daemon]],
) -> None:
    app, d = running()
    wait_until(lambda: d.leases.holds("mailbox:a"), PATIENCE, "the lease")
    wait_until(lambda: idle_state(app.sessions) == "idling", PATIENCE, "idling")
    result = d.shutdown()
    assert (result.exit_code, result.forced) == (0, False)
    assert idle_state(app.sessions) == "off"
    assert d.leases.held() == []


# =========================================================================== `intake run` for real

MAILBOX = "submissions"
IMAP_PASSWORD_ENV = "INTAKE_TEST_IMAP_PASSWORD"


def toml_config(
    path: Path,
    db_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    *,
    smtp: Any | None = None,
    idle: bool = True,
    **daemon: float,
) -> Path:
    """An intake.toml for a daemon subprocess; the IMAP password comes from the environment."""
    settings = {"poll_interval": 30.0, "lease_seconds": 3.0, "reconnect_max_seconds": 2.0, **daemon}
    lines = [
        "[database]",
        f'url = "{db_url}"',
        "[storage]",
        f'path = "{path.parent / "store"}"',
        "[[mailboxes]]",
        f'name = "{MAILBOX}"',
        f'host = "{dovecot.host}"',
        f"port = {dovecot.port}",
        'security = "none"',
        f'username = "{account[0]}"',
        f'password_env = "{IMAP_PASSWORD_ENV}"',
        "timeout = 10.0",
        f"idle = {'true' if idle else 'false'}",
        "[daemon]",
        *(f"{key} = {value}" for key, value in settings.items()),
    ]
    if smtp is not None:
        lines += [
            "[smtp]",
            f'host = "{smtp.host}"',
            f"port = {smtp.port}",
            'security = "none"',
            'from_address = "投稿 <tougao@news.example>"',
            "timeout = 5.0",
            "backoff_base_seconds = 0.5",
            "backoff_max_seconds = 2.0",
            "[replies]",
            # One reply per submission (the acknowledgment), so tests can count them.
            'copyright_request = "manual"',
        ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class DaemonProcess:
    """`intake run` in a subprocess, its log in a file."""

    def __init__(self, config_path: Path, password: str, name: str = "daemon") -> None:
        self.config_path = config_path
        self.log_path = config_path.parent / f"{name}.log"
        self.env = {
            **os.environ,
            "INTAKE_CONFIG": str(config_path),
            IMAP_PASSWORD_ENV: password,
            "PYTHONPATH": str(ROOT),
        }
        self.env.pop("NOTIFY_SOCKET", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", "from intake.cli import main; main()", *args],
            env=self.env, capture_output=True, text=True, check=check, timeout=60,
        )  # fmt: skip

    def start(self, *args: str) -> None:
        assert self.proc is None
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {self.starts}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from intake.cli import main; main()", "run", *args],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip

    def wait_started(self, timeout: float = PATIENCE) -> None:
        marker = "started as"
        count = self.starts
        wait_until(lambda: self.log().count(marker) >= count or self.proc is None
                   or self.proc.poll() is not None, timeout, "the daemon to start")  # fmt: skip
        assert self.proc is not None and self.proc.poll() is None, self.log()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = PATIENCE) -> tuple[int, float]:
        """Send ``sig``; return the exit code and how long the process took to exit (for the
        log: the verdict on a clean stop is :meth:`stopped_cleanly`, never a duration)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        return code, time.monotonic() - started

    def stopped_cleanly(self, code: int) -> bool:
        """Exit code 0 and every job finished its work in hand (shutdown was not forced, so it
        ended within its grace period: daemon.SHUTDOWN_GRACE_SECONDS, well inside systemd's)."""
        log = self.log()
        return code == 0 and "exiting without them" not in log and "service stopped" in log

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def daemons() -> Iterator[Callable[..., DaemonProcess]]:
    made: list[DaemonProcess] = []

    def make(config_path: Path, password: str, name: str = "daemon") -> DaemonProcess:
        proc = DaemonProcess(config_path, password, name)
        made.append(proc)
        return proc

    yield make
    for proc in made:
        proc.close()


class Db:
    """Read-only looks at the daemon's database from the test."""

    def __init__(self, url: str) -> None:
        self.engine = store.make_engine(url)
        store.upgrade(self.engine)
        self.sessions = store.session_factory(self.engine)

    def count(self, model: type, *where: Any) -> int:
        with self.sessions() as session, session.begin():
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def outbox_states(self) -> dict[str, int]:
        with self.sessions() as session, session.begin():
            return dict(Counter(session.scalars(select(Outbox.state))))

    def message_ids(self) -> list[str]:
        with self.sessions() as session, session.begin():
            return list(session.scalars(select(Message.message_id)))

    def state(self) -> MailboxState | None:
        with self.sessions() as session, session.begin():
            return session.get(MailboxState, (MAILBOX, "INBOX"))


@pytest.fixture
def db_for() -> Iterator[Callable[[str], Db]]:
    made: list[Db] = []

    def make(url: str) -> Db:
        made.append(Db(url))
        return made[-1]

    yield make
    for db in made:
        db.engine.dispose()


def append_many(dovecot: Dovecot, account: tuple[str, str], count: int, tag: str) -> list[str]:
    """``count`` submissions from distinct senders over one connection; their Message-IDs."""
    ids = []
    with dovecot.client(*account) as imap:
        for i in range(count):
            mid = f"{tag}-{i}-{secrets.token_hex(4)}@qq.example"
            raw = submission(
                sender=f"作者{i} <author{i}.{tag}@qq.example>",
                subject=f"投稿：《第{i}篇》",
                message_id=f"<{mid}>",
                body=f"编辑老师您好：\n\n第{i}篇稿件正文。{secrets.token_hex(8)}\n",
            )
            imap.append("INBOX", raw)
            ids.append(mid)
    return ids


@pytest.fixture
def account(imap_account: tuple[str, str]) -> tuple[str, str]:
    return imap_account


def acks_by_recipient(smtp: SmtpServer) -> Counter[str]:
    """How many replies each address got (the tests send one submission per sender)."""
    return Counter(rcpt for message in smtp.messages for rcpt in message.rcpt_tos)


def senders(ids: list[str]) -> set[str]:
    """The sender addresses append_many used for these Message-IDs."""
    return {f"author{mid.split('-')[1]}.{mid.split('-')[0]}@qq.example" for mid in ids}


def test_run_ingests_and_acknowledges_mail_as_it_arrives_and_stops_on_sigterm(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    smtp_server: SmtpServer, daemons: Callable[..., DaemonProcess], db_for: Callable[[str], Db],
) -> None:  # fmt: skip
    db = db_for(sqlite_url)
    cfg = toml_config(tmp_path / "intake.toml", sqlite_url, dovecot, account, smtp=smtp_server,
                      poll_interval=NEVER, outbox_interval=NEVER)  # fmt: skip
    daemon = daemons(cfg, account[1])
    daemon.start()
    daemon.wait_started()
    wait_until(lambda: (s := db.state()) is not None and s.idle_state == "idling", PATIENCE, "IDLE")
    ids: list[str] = []
    for n in (1, 2):
        ids += append_many(dovecot, account, 1, f"live{n}")
        # No timer fires before NEVER: IDLE woke the poll job, and the ingest woke the outbox.
        received = smtp_server.wait_for(n, timeout=PATIENCE)
        assert ids[-1] in db.message_ids()
        assert received[-1].rcpt_tos == (f"author0.live{n}@qq.example",)
    # "sent" is committed just after SMTP's answer, which the server has already recorded.
    wait_until(lambda: db.outbox_states() == {"sent": 2}, PATIENCE, "both replies recorded sent")
    status = json.loads(daemon.cli("status", "--json").stdout)
    assert status["healthy"] and status["mailboxes"][0]["idle_state"] == "idling"
    assert status["outbox"]["by_state"] == {"sent": 2}
    assert status["mailboxes"][0]["lease_holder"].split(":")[1] == str(daemon.proc.pid)  # type: ignore[union-attr]
    code, _ = daemon.stop(signal.SIGTERM)
    assert daemon.stopped_cleanly(code), daemon.log()
    log = daemon.log()
    assert log.count("INFO intake.ingest.record: message") == 2
    assert log.count("ack sent to") == 2
    assert account[1] not in log  # the IMAP password never reaches the log
    state = db.state()
    assert state is not None and state.idle_state == "off"
    assert db.count(Location, Location.moved_at.is_(None)) == 0


class RecordingNotifier(Notifier):
    """systemd's side of sd_notify, in the test: remembers each state and flags STOPPING=1."""

    def __init__(self) -> None:
        super().__init__(None)
        self.sent: list[tuple[str, ...]] = []
        self.stopping_sent = threading.Event()

    def notify(self, *assignments: str) -> bool:
        self.sent.append(assignments)
        if "STOPPING=1" in assignments:
            self.stopping_sent.set()
        return True


def test_sigterm_during_a_large_ingest_stops_after_the_message_in_hand(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    app_factory: Callable[..., App], caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """A real SIGTERM arrives while a 200-message backlog is being recorded: a hook holds the
    fifth message's transaction until the service has begun stopping, so the signal lands
    inside the ingest every time. That message commits and moves, the rest stays on the
    server, and the service exits cleanly (not forced: within its grace period)."""
    ids = append_many(dovecot, account, 200, "term")
    # No IDLE listener: its connection would outlive the service in this process.
    settings = settings_for(tmp_path, sqlite_url, dovecot, account, mailbox={"idle": False},
                            daemon={"poll_interval": NEVER, "outbox_interval": NEVER})  # fmt: skip
    app = app_factory(settings)
    notifier = RecordingNotifier()
    recorded = 0

    def signal_during_the_fifth(session: Session, item: Ingested) -> None:
        nonlocal recorded
        recorded += 1
        if recorded == 5:
            os.kill(os.getpid(), signal.SIGTERM)  # handled by serve() in the main thread
            assert notifier.stopping_sent.wait(PATIENCE)

    app.hooks().append(signal_during_the_fifth)
    with caplog.at_level(logging.INFO):
        result = serve(app, notifier=notifier)
    assert result == ServeResult(0, forced=False)
    assert "received SIGTERM" in caplog.text
    assert "stopping: finishing the work in hand" in caplog.text
    db = Db(sqlite_url)
    try:
        assert db.count(Message) == recorded == 5
        # What was committed was also moved; the rest waits on the server for the next run.
        assert db.count(Location, Location.moved_at.is_(None)) == 0
    finally:
        db.engine.dispose()
    assert len(dovecot.uids(*account, "INBOX")) == len(ids) - 5
    assert len(dovecot.uids(*account, "Processed")) == 5
    assert ("STOPPING=1", "STATUS=stopping") in notifier.sent


def test_sigterm_during_an_outbox_batch_finishes_the_message_in_hand(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    smtp_server: SmtpServer, app_factory: Callable[..., App],
) -> None:  # fmt: skip
    """A real SIGTERM arrives while the SMTP server holds the first message of a batch of six
    (a blocking server, released by the test once the service is stopping): that message is
    sent and recorded, the other five go back to the queue untouched, and the service exits
    within its grace period instead of being force-exited mid-send."""
    settings = settings_for(tmp_path, sqlite_url, dovecot, account, smtp=smtp_server,
                            mailbox={"idle": False},
                            daemon={"poll_interval": NEVER, "outbox_interval": NEVER})  # fmt: skip
    app = app_factory(settings)
    for n in range(3):  # an acknowledgment and a copyright request each
        raw = submission(sender=f"a{n}@qq.example", body=f"第{n}篇。" + "稿件正文。" * (n + 3))
        app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, n + 1), raw))
    hold = smtp_server.hold_next_data()
    notifier = RecordingNotifier()

    def terminate_while_held() -> None:
        assert hold.arrived.wait(PATIENCE)
        os.kill(os.getpid(), signal.SIGTERM)  # handled by serve() in the main thread
        assert notifier.stopping_sent.wait(PATIENCE)
        hold.release()

    helper = threading.Thread(target=terminate_while_held)
    helper.start()
    result = serve(app, notifier=notifier)  # the outbox job runs a second after start-up
    helper.join(PATIENCE)
    assert result == ServeResult(0, forced=False)
    (sent,) = smtp_server.messages
    db = Db(sqlite_url)
    try:
        with db.engine.connect() as conn:
            found = list(conn.execute(
                select(Outbox.state, Outbox.attempts, Outbox.claimed_by, Outbox.message_id)
                .order_by(Outbox.id)
            ))  # fmt: skip
    finally:
        db.engine.dispose()
    assert [(state, tries, who) for state, tries, who, _ in found] == [
        ("sent", 1, ""), *[("pending", 0, "")] * 5,
    ]  # fmt: skip
    assert f"<{found[0][3]}>".encode() in sent.data


#: The issue asks for 500 messages and 10 kills; CI runs a smaller loop within its budget.
CRASH_MESSAGES = int(os.environ.get("INTAKE_CRASH_MESSAGES", "150"))
CRASH_KILLS = int(os.environ.get("INTAKE_CRASH_KILLS", "3"))
#: "down": SMTP is down while the daemons are killed and comes up for the last run, so kills
#: hit ingest and queueing. "up": kills also hit sending; a reply a killed sender held is
#: recovered only when its claim runs out (at least 60 s), too slow for every CI run.
CRASH_SMTP = os.environ.get("INTAKE_CRASH_SMTP", "down")


@pytest.mark.slow
def test_kill_9_at_random_moments_loses_nothing_and_does_nothing_twice(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    smtp_server: SmtpServer, daemons: Callable[..., DaemonProcess], db_for: Callable[[str], Db],
) -> None:  # fmt: skip
    seed = int(os.environ.get("INTAKE_CRASH_SEED", str(random.randrange(1 << 30))))
    rng = random.Random(seed)
    db = db_for(sqlite_url)
    cfg = toml_config(tmp_path / "intake.toml", sqlite_url, dovecot, account, smtp=smtp_server,
                      poll_interval=30, outbox_interval=1, lease_seconds=1.5)  # fmt: skip
    daemon = daemons(cfg, account[1])
    ids = append_many(dovecot, account, CRASH_MESSAGES, "crash")
    if CRASH_SMTP == "down":
        smtp_server.stop()
    progress = []
    for _ in range(CRASH_KILLS):
        daemon.start()
        daemon.wait_started()
        before = db.count(Message)
        # Kill once this run has done some work (or at once), at a random point of its ingest.
        wait_until(
            lambda: db.count(Message) > before or db.count(Message) == len(ids),  # noqa: B023
            PATIENCE,
            "progress",
        )
        time.sleep(rng.uniform(0, 0.6))
        daemon.stop(signal.SIGKILL)
        progress.append(db.count(Message))
    smtp_server.start()
    daemon.start()
    daemon.wait_started()
    wait_until(lambda: db.count(Message) >= len(ids), 120 + PATIENCE,
               f"all {len(ids)} messages (seed {seed})", step=0.2)  # fmt: skip
    wait_until(
        lambda: not dovecot.uids(*account, "INBOX"), PATIENCE, f"INBOX to empty (seed {seed})"
    )
    # Rows a killed sender left "sending" are recovered once their claim runs out (60 s at
    # the least); the daemon run below waits for that only if a kill hit one.
    wait_until(lambda: len(smtp_server.messages) >= len(ids), 110 + PATIENCE,
               f"every ack (seed {seed})", step=0.2)  # fmt: skip
    # Stopped before counting: once the daemon has exited, no second copy can still arrive.
    code, _ = daemon.stop(signal.SIGTERM)
    assert daemon.stopped_cleanly(code), daemon.log()
    rows = json.loads(daemon.cli("messages", "--json").stdout)
    assert sorted(r["message_id"] for r in rows) == sorted(ids), f"seed {seed}, progress {progress}"
    assert all(r["locations"] == 1 and r["kind"] == "submission" for r in rows)
    assert len(dovecot.uids(*account, "Processed")) == len(ids)
    assert db.count(Location, Location.moved_at.is_(None)) == 0
    acks = acks_by_recipient(smtp_server)
    twice = sorted(addr for addr, n in acks.items() if n > 1)
    assert set(acks) == senders(ids) and not twice, f"seed {seed}: acknowledged twice: {twice}"


def test_dovecot_restart_and_dropped_connections_are_survived(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    daemons: Callable[..., DaemonProcess], db_for: Callable[[str], Db],
) -> None:  # fmt: skip
    db = db_for(sqlite_url)
    cfg = toml_config(tmp_path / "intake.toml", sqlite_url, dovecot, account, poll_interval=1,
                      reconnect_max_seconds=1)  # fmt: skip
    daemon = daemons(cfg, account[1])
    daemon.start()
    daemon.wait_started()
    wait_until(lambda: (s := db.state()) is not None and s.idle_state == "idling", PATIENCE, "IDLE")
    try:
        dovecot.stop()
        # Dovecot lets running sessions outlive its master; end them as a real restart or a
        # network failure would, so the IDLE connection breaks too.
        end_sessions_of(dovecot)
        wait_until(
            lambda: "retrying in" in daemon.log(), PATIENCE, "a failed poll while it is down"
        )
    finally:
        dovecot.start()
    wait_until(lambda: "IDLE reconnected" in daemon.log(), PATIENCE, "IDLE to reconnect")
    (mid,) = append_many(dovecot, account, 1, "after-restart")
    wait_until(lambda: mid in db.message_ids(), PATIENCE, "mail after the restart")
    wait_until(lambda: (s := db.state()) is not None and s.idle_state == "idling"
               and s.last_error == "", PATIENCE, "a clean state")  # fmt: skip
    assert daemon.proc is not None and daemon.proc.poll() is None  # never restarted
    assert json.loads(daemon.cli("status", "--json").stdout)["healthy"]
    assert daemon.stopped_cleanly(daemon.stop()[0]), daemon.log()


def test_smtp_down_then_up_the_outbox_drains(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, account: tuple[str, str],
    smtp_server: SmtpServer, daemons: Callable[..., DaemonProcess], db_for: Callable[[str], Db],
) -> None:  # fmt: skip
    db = db_for(sqlite_url)
    cfg = toml_config(tmp_path / "intake.toml", sqlite_url, dovecot, account, smtp=smtp_server,
                      outbox_interval=1)  # fmt: skip
    daemon = daemons(cfg, account[1])
    smtp_server.stop()
    daemon.start()
    daemon.wait_started()
    ids = append_many(dovecot, account, 3, "smtpdown")
    wait_until(lambda: db.count(Message) == 3, PATIENCE, "the ingest")
    wait_until(lambda: daemon.log().count("trying again in") >= 3, PATIENCE, "failed attempts")
    status = json.loads(daemon.cli("status", "--json").stdout)
    assert status["outbox"]["pending"] == 3 and status["healthy"]  # retrying is not a fault
    smtp_server.start()
    wait_until(lambda: db.outbox_states() == {"sent": 3}, PATIENCE, "the outbox drained")
    # Stopped before counting: once the daemon has exited, no second copy can still arrive.
    assert daemon.stopped_cleanly(daemon.stop()[0]), daemon.log()
    acks = acks_by_recipient(smtp_server)
    assert set(acks) == senders(ids) and set(acks.values()) == {1}
    assert json.loads(daemon.cli("status", "--json").stdout)["outbox"]["by_state"] == {"sent": 3}


def end_sessions_of(dovecot: Dovecot) -> None:
    """SIGTERM every IMAP session process of this Dovecot instance."""
    title = f"dovecot-intake-test-{dovecot.dir.name}/imap".encode()
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().split(b"\0")[0] == title:
                os.kill(int(proc.name), signal.SIGTERM)
        except (OSError, ProcessLookupError):
            pass


@pytest.mark.postgres
def test_two_daemons_on_one_postgres_database_ingest_and_acknowledge_once(
    tmp_path: Path, postgres: Any, dovecot: Dovecot, account: tuple[str, str],
    smtp_server: SmtpServer, daemons: Callable[..., DaemonProcess], db_for: Callable[[str], Db],
) -> None:  # fmt: skip
    url = postgres.new_database()
    db = db_for(url)
    first = daemons(toml_config(tmp_path / "a" / "intake.toml", url, dovecot, account,
                                smtp=smtp_server, poll_interval=0.5), account[1], "a")  # fmt: skip
    second = daemons(toml_config(tmp_path / "b" / "intake.toml", url, dovecot, account,
                                 smtp=smtp_server, poll_interval=0.5), account[1], "b")  # fmt: skip
    first.start()
    second.start()
    first.wait_started()
    second.wait_started()
    ids: list[str] = []
    for batch in range(4):  # mail arrives in four batches, each ingested before the next
        ids += append_many(dovecot, account, 10, f"two{batch}")
        wait_until(lambda: db.count(Message) >= len(ids), PATIENCE, f"batch {batch}")  # noqa: B023
    # Moved only after it was recorded and logged: the logs below are complete.
    wait_until(lambda: not dovecot.uids(*account, "INBOX"), PATIENCE, "INBOX to empty")
    assert sorted(db.message_ids()) == sorted(ids)
    ingested = {d: d.log().count("intake.ingest.record: message") for d in (first, second)}
    active = max(ingested, key=ingested.__getitem__)
    standby = second if active is first else first
    assert ingested[standby] == 0 and ingested[active] == len(ids)
    assert "standing by" in standby.log()
    # The active one dies (between sends: a reply it held mid-send would wait out its claim)
    # and the standby takes over once the lease expires.
    wait_until(lambda: db.outbox_states() == {"sent": len(ids)}, PATIENCE, "every ack sent")
    active.stop(signal.SIGKILL)
    more = append_many(dovecot, account, 5, "takeover")
    wait_until(lambda: db.count(Message) >= len(ids) + len(more), PATIENCE,
               "the standby taking over")  # fmt: skip
    assert "polls it now" in standby.log()
    wait_until(lambda: db.outbox_states() == {"sent": len(ids) + len(more)}, PATIENCE,
               "every ack sent")  # fmt: skip
    # Stopped before counting: with both daemons gone, nothing can still arrive or be recorded.
    assert standby.stopped_cleanly(standby.stop()[0]), standby.log()
    assert sorted(db.message_ids()) == sorted(ids + more)
    assert db.count(Location) == len(ids) + len(more)  # no message recorded at a second place
    acks = acks_by_recipient(smtp_server)
    assert set(acks) == senders(ids + more) and set(acks.values()) == {1}


def test_systemd_unit(tmp_path: Path) -> None:
    unit = (ROOT / "config" / "intake.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if "=" in line and not line.startswith("#")
    )
    assert settings["Type"] == "notify" and settings["Restart"] == "on-failure"
    assert settings["User"] == "intake" and settings["StateDirectory"] == "intake"
    assert settings["ProtectSystem"] == "strict" and settings["NoNewPrivileges"] == "yes"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    # Verify with an executable that exists here (verify checks it is executable, no more).
    copy = tmp_path / "intake.service"
    copy.write_text(unit.replace("/opt/intake/venv/bin/intake", sys.executable), encoding="utf-8")
    done = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_bad_config_exits_2_with_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "intake.toml"
    cfg.write_text("[daemon]\npoll_interval = 0\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-c", "from intake.cli import main; main()", "--config", str(cfg), "run"],
        capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == "intake: daemon.poll_interval: must be positive\n"
