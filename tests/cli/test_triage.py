"""``intake triage``: a full round driven by Textual's own test driver (Pilot) on a real
database, with the suite's real SMTP server receiving the letters; and once in a real tmux
session at 80x24, driven with send-keys and read with capture-pane."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.app import App
from intake.cli.triage import Triage
from intake.cli.workdesk import Desk
from intake.store.models import Attachment, Outbox, Submission
from tests.cli.test_cli_queue import add_submission
from tests.helpers import make_app, settings_for
from tests.smtpserver import SmtpServer

ARTICLE = "秋天的田野里，稻谷金黄，农民们在忙着收割。" * 5


def fake_editor(tmp_path: Path, text: str) -> str:
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text({text!r}, encoding='utf-8')\n",
        encoding="utf-8",
    )
    return f"{sys.executable} {script}"


@pytest.fixture
def desk_app(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Iterator[App]:
    settings = settings_for(
        tmp_path,
        sqlite_url,
        smtp=smtp_server,
        replies={"site_name": "南方日报", "copyright_request": "manual"},
        desk={"staff": ["li", "wang"]},
    )
    app = make_app(settings)
    payload = b"%PDF-1.4 the article"
    digest, path = app.blobs.put("att", payload)
    with app.sessions() as session, session.begin():
        for i in range(3):
            sid = add_submission(
                session, subject=f"投稿：《秋收》第{i + 1}篇", article=ARTICLE, sender_name="张三"
            )
        submission = session.get(Submission, sid)
        assert submission is not None
        session.add(
            Attachment(
                message_pk=submission.message_pk, submission_id=sid, filename="秋收.pdf",
                safe_name="秋收.pdf", content_type="application/pdf", size=len(payload),
                sha256=digest, blob_path=path, kind="document", text="正文", text_chars=2,
            )
        )  # fmt: skip
    yield app
    app.close()


def status_line(app: Triage) -> str:
    return str(app.query_one("#status").render())


def test_a_full_round_at_80x24(
    desk_app: App, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened.pdf"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" {opened}\n')
    opener.chmod(0o755)
    monkeypatch.setenv("INTAKE_OPENER", str(opener))
    monkeypatch.setenv("VISUAL", "")

    async def round_() -> None:
        app = Triage(Desk(desk_app, "li"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert app.current == 3  # the newest first
            assert "3 in the open queue" in status_line(app)
            # assign: a name not on the staff list is refused, then li.
            await pilot.press("a", *"zhao", "enter")
            await pilot.pause()
            assert "not on the desk's staff list" in status_line(app)
            await pilot.press("a", *"li", "enter")
            await pilot.pause()
            assert status_line(app) == "#3 assigned to li: received -> in_review"
            # note, written in $EDITOR.
            monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "图片需核实来源"))
            await pilot.press("n")
            await pilot.pause()
            assert status_line(app) == "#3 note added"
            # accept with a note for the letter; the letter is shown first, then sent.
            await pilot.press("y", *"请补充一张照片", "enter")
            await pilot.pause()
            letter = app.screen
            assert type(letter).__name__ == "LetterView"
            await pilot.press("enter")
            await pilot.pause()
            assert status_line(app).startswith("#3 accept: in_review -> accepted; letter accepted")
            # reply in the editor's own words, edited once more before it goes.
            monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "谢谢，稿件已采用。"))
            await pilot.press("r")
            await pilot.pause()
            monkeypatch.setenv(
                "EDITOR", fake_editor(tmp_path, "张三老师：谢谢，稿件已采用，下周刊出。")
            )
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("enter")
            await pilot.pause()
            assert status_line(app).startswith("#3 answered; letter reply queued (outbox #")
            # open the attachment: a private copy goes to the viewer.
            await pilot.press("o")
            await pilot.pause()
            assert status_line(app).startswith("#3 attachment 1 opened")
            # next: the piece below.
            await pilot.press("j")
            await pilot.pause()
            assert app.current == 2
            # decline without a letter, then Escape changes nothing.
            await pilot.press("d", "enter")
            await pilot.pause()
            await pilot.press("escape")
            await pilot.pause()
            assert status_line(app) == "nothing changed"
            await pilot.press("q")

    asyncio.run(round_())
    delivery = desk_app.deliver_outbox()
    assert delivery.sent == 2
    accepted, reply = smtp_server.wait_for(2)

    def text(raw: bytes) -> tuple[str, str]:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        body = msg.get_body(("plain",))
        assert body is not None
        return str(msg["Subject"]), body.get_content()

    subject, body = text(accepted.data)
    assert subject.startswith("[投稿 #3] 稿件采用通知") and "请补充一张照片" in body
    subject, body = text(reply.data)
    assert (
        subject.startswith("[投稿 #3] 回复")
        and "下周刊出" in body
        and "谢谢，稿件已采用。\n" not in body
    )
    for _ in range(100):
        if opened.exists() and opened.stat().st_size:
            break
        time.sleep(0.05)
    assert opened.read_bytes() == b"%PDF-1.4 the article"
    with desk_app.sessions() as session, session.begin():
        rows = list(session.scalars(select(Outbox).order_by(Outbox.id)))
        assert [r.template for r in rows] == ["accepted", "reply"]
        assert all(r.state == "sent" for r in rows)
        three = session.get(Submission, 3)
        two = session.get(Submission, 2)
        assert three is not None and two is not None
        assert (three.status, three.assignee) == ("accepted", "li")
        assert two.status == "received"


def test_search_and_the_empty_queue(desk_app: App) -> None:
    async def run() -> None:
        app = Triage(Desk(desk_app, "li"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            await pilot.press("slash", *"第2篇", "enter")
            await pilot.pause()
            assert [r["id"] for r in app.rows] == [2] and app.current == 2
            await pilot.press("slash", *"没有这篇", "enter")
            await pilot.pause()
            assert app.rows == [] and app.current is None
            await pilot.press("a", "y", "o")  # nothing selected: nothing happens
            await pilot.press("slash", "ctrl+u", "enter")
            await pilot.pause()
            assert len(app.rows) == 3

    asyncio.run(run())


def _tmux() -> str:
    found = shutil.which("tmux")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("tmux is not installed (scripts/test installs it as root)")
        pytest.skip("tmux is not installed")
    return found


def test_in_a_real_tmux_session(desk_app: App, tmp_path: Path) -> None:
    tmux = _tmux()
    config = tmp_path / "intake.toml"
    settings = desk_app.settings
    config.write_text(
        f'[database]\nurl = "{settings.database.url}"\n'
        f'[storage]\npath = "{settings.storage.path}"\n'
        '[desk]\nstaff = ["li", "wang"]\n',
        encoding="utf-8",
    )
    script = Path(sys.executable).with_name("intake")
    command = (
        f"{script} --config {config} triage"
        if script.exists()
        else (f"{sys.executable} -m intake --config {config} triage")
    )
    socket = f"intake-test-{os.getpid()}"
    base = [tmux, "-L", socket]
    env = {**os.environ, "INTAKE_USER": "wang", "TERM": "xterm-256color"}

    def screen() -> str:
        done = subprocess.run([*base, "capture-pane", "-p", "-t", "desk"], capture_output=True,
                              text=True, timeout=10, env=env)  # fmt: skip
        return done.stdout

    def wait_for(text: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = screen()
            if text in shown:
                return shown
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    subprocess.run(
        [*base, "new-session", "-d", "-s", "desk", "-x", "80", "-y", "24", command],
        check=True, timeout=10, env=env,
    )  # fmt: skip
    try:
        first = wait_for("3 in the open queue")
        lines = first.splitlines()
        assert len(lines) <= 24 and all(len(line) <= 80 for line in lines)
        assert "《秋收》第3篇" in first and "submission  #3" in first
        subprocess.run([*base, "send-keys", "-t", "desk", "j"], check=True, env=env)
        assert "submission  #2" in wait_for("submission  #2")
        subprocess.run([*base, "send-keys", "-t", "desk", "a"], check=True, env=env)
        wait_for("assign #2 to")
        subprocess.run([*base, "send-keys", "-t", "desk", "wang", "Enter"], check=True, env=env)
        wait_for("#2 assigned to wang")
        subprocess.run([*base, "send-keys", "-t", "desk", "q"], check=True, env=env)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            alive = subprocess.run(
                [*base, "has-session", "-t", "desk"], capture_output=True, env=env
            )
            if alive.returncode != 0:
                break
            time.sleep(0.2)
    finally:
        subprocess.run([*base, "kill-server"], capture_output=True, env=env)
    with desk_app.sessions() as session, session.begin():
        two = session.get(Submission, 2)
        assert two is not None and (two.assignee, two.status) == ("wang", "in_review")
