"""One transaction per FETCH batch, against a real Dovecot: a failure in one message rolls back
its savepoint and quarantines it alone; the replies of a submission commit with it; a poll
killed (SIGKILL) inside a batch transaction or between its commit and the MOVE, or failing
there, loses nothing and records nothing twice. The kills happen at named points of a child
poll, never after a delay."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.app import App
from intake.core import configfile as config_mod
from intake.core.mail import Kind
from intake.store.models import Location, Message, Outbox, Submission
from tests.helpers import AppFactory, submission
from tests.servers import Dovecot

ROOT = Path(__file__).resolve().parents[2]

#: A child poll on the real mailbox that dies (SIGKILL) or raises at a named point:
#: "recorded:N" after N messages of the batch are recorded (inside its transaction), "moving"
#: after the batch committed, before the server is asked to move anything.
CHILD = """
import os, signal, sys
from intake.app import App
from intake.core import configfile as config
point, action = sys.argv[2], sys.argv[3]
app = App(config.load(sys.argv[1]))
box_config = app.settings.mailboxes[0]

def die():
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise RuntimeError("injected failure at " + point)

class Box:
    def __init__(self, real):
        self.real = real
    def __getattr__(self, name):
        return getattr(self.real, name)
    def mark_processed(self, uids, folder):
        if point == "moving":
            die()
        return self.real.mark_processed(uids, folder)

def progress(done, total):
    if point.startswith("recorded:") and done == int(point.split(":")[1]):
        die()

with app.mailbox(box_config) as real:
    print(app.ingestor.poll(Box(real), box_config, progress).as_json())
"""


def write_config(tmp_path: Path, url: str, dovecot: Dovecot, account: tuple[str, str]) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(
        textwrap.dedent(f"""
        [database]
        url = "{url}"
        [storage]
        path = "{tmp_path / "store"}"
        [smtp]
        host = "127.0.0.1"
        port = 2
        security = "none"
        from_address = "投稿 <tougao@news.example>"
        [[mailboxes]]
        name = "submissions"
        host = "{dovecot.host}"
        port = {dovecot.port}
        security = "none"
        username = "{account[0]}"
        password = "{account[1]}"
        batch_size = 4
        """),
        encoding="utf-8",
    )
    return path


def child_poll(config_file: Path, point: str, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(config_file), point, action],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def counts(app: App) -> dict[str, int]:
    with app.sessions() as session, session.begin():

        def n(model: type, *where: object) -> int:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "messages": n(Message),
            "submissions": n(Submission),
            "acknowledgments": n(Outbox, Outbox.template == "ack"),
            "unmoved": n(Location, Location.moved_at.is_(None)),
        }


@pytest.mark.parametrize(
    ("point", "action"),
    [("recorded:2", "kill"), ("recorded:2", "raise"), ("moving", "kill"), ("moving", "raise")],
)
def test_a_poll_stopped_inside_or_after_a_batch_loses_nothing_and_doubles_nothing(
    point: str, action: str, tmp_path: Path, db_url: str, dovecot: Dovecot,
    imap_account: tuple[str, str], app_factory: AppFactory,
) -> None:  # fmt: skip
    config_file = write_config(tmp_path, db_url, dovecot, imap_account)
    app = app_factory(config_mod.load(config_file))
    for i in range(6):
        sender = f"作者{i} <w{i}@qq.example>"
        raw = submission(sender=sender, subject=f"稿件 {i}", body=f"正文{i}" * 40)
        dovecot.append(*imap_account, "INBOX", raw)
    stopped = child_poll(config_file, point, action)
    assert stopped.returncode == (-9 if action == "kill" else 1), stopped.stderr
    after_stop = counts(app)
    if point.startswith("recorded"):
        assert after_stop["messages"] == 0  # the batch's transaction never committed
    else:
        assert after_stop["messages"] == 4 and after_stop["unmoved"] == 4  # committed, not moved
    assert len(dovecot.uids(*imap_account, "INBOX")) == 6  # nothing moved before a commit
    assert app.poll_mailbox(app.settings.mailboxes[0]).as_json()["fetched"] == (
        6 if point.startswith("recorded") else 2
    )
    assert counts(app) == {"messages": 6, "submissions": 6, "acknowledgments": 6, "unmoved": 0}
    assert dovecot.uids(*imap_account, "INBOX") == []
    assert len(dovecot.uids(*imap_account, "Processed")) == 6


def test_a_message_that_fails_to_record_is_quarantined_alone_in_its_batch(
    tmp_path: Path, db_url: str, dovecot: Dovecot, imap_account: tuple[str, str],
    app_factory: AppFactory,
) -> None:  # fmt: skip
    config_file = write_config(tmp_path, db_url, dovecot, imap_account)
    app = app_factory(config_mod.load(config_file))
    failing = "炸弹稿"

    def hook(session: object, item: object) -> None:  # a hook that fails on one message
        if getattr(getattr(item, "parsed", None), "subject", "") == failing:
            raise RuntimeError("hook failed on this one")

    app.ingestor.recorder.hooks = (*app.ingestor.recorder.hooks, hook)
    for i, subject in enumerate(("第一篇", failing, "第三篇")):
        raw = submission(subject=subject, body=subject * 30, sender=f"作者 <w{i}@qq.example>")
        dovecot.append(*imap_account, "INBOX", raw)
    result = app.poll_mailbox(app.settings.mailboxes[0]).as_json()
    assert (result["new"], result["quarantined"]) == (2, 1)
    with app.sessions() as session, session.begin():
        kinds = sorted(session.scalars(select(Message.kind)))
        titles = sorted(session.scalars(select(Submission.title)))
        acks = session.scalar(select(func.count()).select_from(Outbox))
    assert kinds == [Kind.QUARANTINED, Kind.SUBMISSION, Kind.SUBMISSION]
    assert titles == ["第一篇", "第三篇"]  # its submission and letters rolled back with it
    assert acks == 4  # two acknowledgments and two copyright requests, none for the failed one
    assert dovecot.uids(*imap_account, "INBOX") == []
