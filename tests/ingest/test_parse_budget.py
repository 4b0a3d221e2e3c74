"""A time budget per message, against a real Dovecot: a message whose parse runs out of time or
kills the parse worker twice is quarantined from its stored bytes, the poll goes on with the
rest, and a poll that dies on a message never parses it a third time. The poison is made by a
parse hook on cue (tests/ingest/poison.py), never by racing a clock: a hanging parse hangs for
good, and only the budget ends it."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.app import App
from intake.store.models import Location, Message, Submission
from intake.store.schema import parse_attempts
from tests.helpers import AppFactory, settings_for, submission
from tests.ingest.poison import parses
from tests.servers import Dovecot

HOOK = "tests.ingest.poison:hook"
ROOT = Path(__file__).resolve().parents[2]


def poisoned(what: str, tally: Path, subject: str = "毒稿") -> bytes:
    return submission(subject=subject, headers={"X-Poison": f"{what} {tally}"})


def make(
    app_factory: AppFactory, tmp_path: Path, url: str, dovecot: Dovecot,
    account: tuple[str, str], *, timeout: float = 30.0, batch_size: int = 250,
) -> App:  # fmt: skip
    settings = settings_for(
        tmp_path, url, dovecot, account, mailbox={"batch_size": batch_size},
        ingest={"parse_timeout_seconds": timeout},
    )  # fmt: skip
    app = app_factory(settings)
    app.ingestor.parse_hook = HOOK
    return app


def poll(app: App) -> dict[str, int]:
    return app.poll_mailbox(app.settings.mailboxes[0]).as_json()


def quarantined(app: App) -> list[tuple[str, str]]:
    with app.sessions() as session, session.begin():
        rows = session.execute(
            select(Message.sha256, Message.reason).where(Message.kind == "quarantined")
        )
        return [(sha, reason) for sha, reason in rows]


def attempts_left(app: App) -> int:
    with app.sessions() as session, session.begin():
        return int(session.scalar(select(func.count()).select_from(parse_attempts)) or 0)


def test_a_message_that_crashes_the_worker_twice_is_quarantined_and_the_poll_goes_on(
    tmp_path: Path, db_url: str, dovecot: Dovecot, imap_account: tuple[str, str],
    app_factory: AppFactory,
) -> None:  # fmt: skip
    tally = tmp_path / "crash.tally"
    app = make(app_factory, tmp_path, db_url, dovecot, imap_account, batch_size=2)
    poison = poisoned("crash", tally)
    dovecot.append(*imap_account, "INBOX", submission(subject="第一篇"))
    dovecot.append(*imap_account, "INBOX", poison)
    for i in range(3):  # the next batches run on a new worker
        dovecot.append(*imap_account, "INBOX", submission(subject=f"后来的 {i}"))
    assert poll(app) == {"fetched": 5, "new": 4, "duplicates": 0, "quarantined": 1, "ignored": 0}
    assert parses(str(tally)) == 2
    [(sha, reason)] = quarantined(app)
    assert sha == hashlib.sha256(poison).hexdigest()
    assert "parse worker crashed" in reason and "not parsed again" in reason
    with app.sessions() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(Submission)) == 4
        assert session.scalar(select(func.count()).where(Location.moved_at.is_(None))) == 0
    with app.sessions() as session, session.begin():
        raw_path = session.scalars(select(Message.raw_path).where(Message.sha256 == sha)).one()
    assert app.blobs.get(raw_path) == poison  # kept byte-exact
    assert dovecot.uids(*imap_account, "INBOX") == []
    assert attempts_left(app) == 0
    assert poll(app)["fetched"] == 0  # nothing parsed a third time


def test_a_parse_that_never_ends_is_stopped_by_the_budget_twice_then_quarantined(
    tmp_path: Path, sqlite_url: str, dovecot: Dovecot, imap_account: tuple[str, str],
    app_factory: AppFactory,
) -> None:  # fmt: skip
    tally = tmp_path / "hang.tally"
    # The hanging parse never returns: only the budget ends it, whatever its length.
    app = make(app_factory, tmp_path, sqlite_url, dovecot, imap_account, timeout=2)
    dovecot.append(*imap_account, "INBOX", poisoned("hang", tally))
    dovecot.append(*imap_account, "INBOX", submission(subject="正常的稿件"))
    assert poll(app) == {"fetched": 2, "new": 1, "duplicates": 0, "quarantined": 1, "ignored": 0}
    assert parses(str(tally)) == 2
    [(_sha, reason)] = quarantined(app)
    assert "longer than 2 s" in reason
    assert attempts_left(app) == 0


POLL_SCRIPT = """
import sys
from intake.app import App
from intake.core import configfile as config
app = App(config.load(sys.argv[1]))
app.ingestor.parse_hook = {hook!r}
print(app.poll_mailbox(app.settings.mailboxes[0]).as_json())
"""


def test_a_poll_that_dies_while_a_failed_message_is_tried_again_never_parses_it_a_third_time(
    tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str], app_factory: AppFactory,
) -> None:  # fmt: skip
    tally = tmp_path / "kill.tally"
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    app = make(app_factory, tmp_path, url, dovecot, imap_account)
    config_file = tmp_path / "intake.toml"
    config_file.write_text(
        textwrap.dedent(f"""
        [database]
        url = "{url}"
        [storage]
        path = "{tmp_path / "store"}"
        [[mailboxes]]
        name = "submissions"
        host = "{dovecot.host}"
        port = {dovecot.port}
        security = "none"
        username = "{imap_account[0]}"
        password = "{imap_account[1]}"
        """),
        encoding="utf-8",
    )
    dovecot.append(*imap_account, "INBOX", submission(subject="前一篇"))
    poison = poisoned("crash-then-kill-poll", tally)
    dovecot.append(*imap_account, "INBOX", poison)
    dovecot.append(*imap_account, "INBOX", submission(subject="后一篇"))

    def run_poll() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", POLL_SCRIPT.format(hook=HOOK), str(config_file)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    # The first parse crashes the worker (a failure, counted); the poll dies during the retry.
    assert run_poll().returncode == -9
    assert parses(str(tally)) == 2
    assert attempts_left(app) == 3  # the batch's counts, none of them finished
    after = run_poll()
    assert after.returncode == 0, after.stderr
    assert parses(str(tally)) == 2  # quarantined from its stored bytes, not parsed again
    [(sha, reason)] = quarantined(app)
    assert sha == hashlib.sha256(poison).hexdigest()
    assert "parse worker crashed" in reason and "not parsed again" in reason
    with app.sessions() as session, session.begin():
        titles = set(session.scalars(select(Submission.title)))
    assert titles == {"前一篇", "后一篇"}
    assert attempts_left(app) == 0
    assert dovecot.uids(*imap_account, "INBOX") == []


@pytest.mark.parametrize("what", ["crash", "hang"])
def test_the_worker_after_a_failure_takes_the_rest_of_the_batch(
    what: str, tmp_path: Path, dovecot: Dovecot, imap_account: tuple[str, str],
    app_factory: AppFactory,
) -> None:  # fmt: skip
    tally = tmp_path / "tally"
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    app = make(app_factory, tmp_path, url, dovecot, imap_account, timeout=2)
    for i in range(3):
        dovecot.append(*imap_account, "INBOX", submission(subject=f"前 {i}"))
    dovecot.append(*imap_account, "INBOX", poisoned(what, tally))
    for i in range(3):
        dovecot.append(*imap_account, "INBOX", submission(subject=f"后 {i}"))
    assert poll(app) == {"fetched": 7, "new": 6, "duplicates": 0, "quarantined": 1, "ignored": 0}
    assert parses(str(tally)) == 2
