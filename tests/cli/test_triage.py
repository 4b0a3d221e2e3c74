"""``intake triage``: a full round driven by Textual's own test driver (Pilot) on a real
database, with the suite's real SMTP server receiving the letters; and once in a real tmux
session at 80x24, driven with send-keys and read with capture-pane."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select, update

from intake.app import App
from intake.cli.output import display_width
from intake.cli.triage import Triage
from intake.cli.workdesk import Desk, queue_cells
from intake.core.mail import MessageRef, RawMail
from intake.store.models import Attachment, Claim, Message, Outbox, Submission
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


def detail_text(app: Triage) -> str:
    """What the right pane holds, as text."""
    from rich.console import Console
    from textual.widgets import Static

    out = io.StringIO()
    Console(file=out, width=120, color_system=None).print(app.query_one("#detail", Static).content)
    return out.getvalue()


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
    raw = (Path(__file__).parent.parent / "data" / "claims" / "claim-zh-qq-url.eml").read_bytes()
    desk_app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, 1), raw))
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
        assert len(lines) <= 24 and all(display_width(line) <= 80 for line in lines)
        assert "《秋收》第3篇" in first and "submission  #3" in first
        # Chinese subjects take two cells a character: the panes' border stays in one column.
        border = {display_width(line.split("│")[0]) for line in lines if "│" in line}
        assert len(border) == 1, first
        subprocess.run([*base, "send-keys", "-t", "desk", "j"], check=True, env=env)
        assert "submission  #2" in wait_for("submission  #2")
        subprocess.run([*base, "send-keys", "-t", "desk", "a"], check=True, env=env)
        wait_for("assign #2 to")
        subprocess.run([*base, "send-keys", "-t", "desk", "wang", "Enter"], check=True, env=env)
        wait_for("#2 assigned to wang")
        # Tab: the claims, worked with the same keys.
        subprocess.run([*base, "send-keys", "-t", "desk", "Tab"], check=True, env=env)
        claims = wait_for("claim       #1")
        assert "老屋的桂花树" in claims and "1 open claim; Tab: the queue (3)" in claims
        subprocess.run([*base, "send-keys", "-t", "desk", "v"], check=True, env=env)
        wait_for("claim #1 under investigation: received -> investigating")
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


# --------------------------------------------------------------------------- claims


@pytest.fixture
def claims_app(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Iterator[App]:
    """A queue of two pieces, one published at the page two claims name."""
    settings = settings_for(
        tmp_path, sqlite_url, smtp=smtp_server, replies={"site_name": "南方日报"},
        site={"name": "南山新闻网", "domains": ["nsnews.example"]}, desk={"staff": ["li"]},
    )  # fmt: skip
    app = make_app(settings)
    with app.sessions() as session, session.begin():
        add_submission(session, subject="投稿：《秋收》", article=ARTICLE)
        sid = add_submission(session, subject="投稿：江畔晨读", article="江畔晨读。" * 40)
        session.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(status="published", title="江畔晨读", published_url=LAWYER_URL)
        )
    claims = Path(__file__).parent.parent / "data" / "claims"
    for uid, name in enumerate(["claim-zh-lawyer-letter-pdf.eml", "claim-zh-qq-url.eml"], 1):
        raw = (claims / name).read_bytes()
        app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, uid), raw))
    yield app
    app.close()


LAWYER_URL = "https://www.nsnews.example/wenhua/2024/0301/60015.html"


def test_claims_are_worked_on_the_desk(
    claims_app: App, smtp_server: SmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "opened.pdf"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" {opened}\n')
    opener.chmod(0o755)
    monkeypatch.setenv("INTAKE_OPENER", str(opener))
    monkeypatch.setenv("VISUAL", "")
    with claims_app.sessions() as session, session.begin():
        lawyer, qq = session.scalars(select(Claim.id).order_by(Claim.id)).all()

    async def round_() -> None:
        app = Triage(Desk(claims_app, "li"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert "1 in the open queue; Tab: 2 open claims" in status_line(app)
            await pilot.press("v")  # a claim's key does nothing in the queue
            await pilot.press("tab")
            await pilot.pause()
            assert app.view == "claims" and {r["id"] for r in app.rows} == {lawyer, qq}
            assert status_line(app).startswith("2 open claims; Tab: the queue (1)")
            await pilot.press("y")  # a submission's key does nothing on a claim
            await pilot.pause()
            assert app.current == lawyer
            detail = detail_text(app)
            assert "律师函" in detail and "evidence" in detail and "侵犯了委托人" in detail
            # The matched article, and back.
            await pilot.press("m")
            await pilot.pause()
            assert (
                app.matched == 2
                and status_line(app) == f"claim #{lawyer} names #2; m: back to the claim"
            )
            assert "江畔晨读。江畔晨读。" in detail_text(app)
            await pilot.press("m")
            await pilot.pause()
            assert app.matched is None
            # The evidence, opened.
            await pilot.press("o")
            await pilot.pause()
            assert status_line(app).startswith(f"claim #{lawyer} attachment 1 opened")
            # assign, note, ask for evidence (the letter first), resolve as paid.
            await pilot.press("a", "l", "i", "enter")
            await pilot.pause()
            assert status_line(app) == f"claim #{lawyer} assigned to li: received -> investigating"
            monkeypatch.setenv("EDITOR", fake_editor(tmp_path, "已转法务"))
            await pilot.press("n")
            await pilot.pause()
            assert status_line(app) == f"claim #{lawyer} note added"
            await pilot.press("i", *"请提供首发报纸的版面", "enter")
            await pilot.pause()
            assert type(app.screen).__name__ == "LetterView"
            await pilot.press("enter")
            await pilot.pause()
            assert status_line(app).startswith(
                f"claim #{lawyer} evidence asked for: investigating -> needs_info; "
                "letter claim_needs_info queued"
            )
            await pilot.press("x", *"paid", "enter", *"800元", "enter", "enter")
            await pilot.pause()
            assert type(app.screen).__name__ == "LetterView"
            await pilot.press("enter")
            await pilot.pause()
            assert status_line(app).startswith(
                f"claim #{lawyer} resolved (paid): needs_info -> resolved_paid; letter claim_paid"
            )
            # Resolved, it leaves the open claims; the other is selected.
            assert [r["id"] for r in app.rows] == [qq] and app.current == qq
            await pilot.press("v")
            await pilot.pause()
            assert status_line(app) == f"claim #{qq} under investigation: received -> investigating"
            await pilot.press("tab")
            await pilot.pause()
            assert app.view == "queue" and app.current == 1
            await pilot.press("q")

    asyncio.run(round_())
    delivery = claims_app.deliver_outbox()
    assert delivery.sent >= 2
    subjects = [
        str(email.message_from_bytes(m.data, policy=email.policy.default)["Subject"])
        for m in smtp_server.wait_for(delivery.sent)
    ]
    assert any("请补充投诉材料" in s for s in subjects), subjects
    assert opened.read_bytes().startswith(b"%PDF")
    with claims_app.sessions() as session, session.begin():
        claim = session.get(Claim, lawyer)
        assert claim is not None
        assert (claim.status, claim.assignee, claim.amount) == ("resolved_paid", "li", "800元")
        letters = session.scalars(
            select(Outbox.template).where(Outbox.claim_id == lawyer).order_by(Outbox.id)
        ).all()
        assert letters == ["claim_ack", "claim_needs_info", "claim_paid"]


def test_the_queue_marks_mail_nobody_on_the_desk_has_acted_on(desk_app: App) -> None:
    desk = Desk(desk_app, "li")
    assert not any(row["unanswered"] for row in desk.queue())
    now = desk_app.clock()
    with desk_app.sessions() as session, session.begin():
        session.add(
            Message(
                sha256="aa" * 32, body_sha256="ab" * 32, size=10, raw_path="",
                message_id="re@qq.example", sender="zhangsan@qq.example", subject="回复：稿件",
                received_at=now, ingested_at=now, kind="reply", body_text="请问何时刊出？",
                submission_id=2,
            )
        )  # fmt: skip
    rows = {row["id"]: row for row in desk.queue()}
    assert [i for i, row in rows.items() if row["unanswered"]] == [2]
    assert queue_cells(rows[2], 30)[2].startswith("✉ ")
    desk.note(2, "已回电话")  # anyone on the desk acting on it has seen it
    assert not any(row["unanswered"] for row in desk.queue())
