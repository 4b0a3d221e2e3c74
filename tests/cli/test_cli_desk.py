"""The desk's one-shot commands against a real database: the open queue, flags, ``--mine``,
``list`` at 80 columns (in a real pty too), the complete ``show``, ``attachment``, ``reply``,
``note --edit``, several ids per command, the staff list, ``flag clear``, compact ``stats`` and
``intake --help`` by role."""

from __future__ import annotations

import email
import email.policy
import fcntl
import json
import os
import pty
import re
import select as select_mod
import struct
import subprocess
import sys
import termios
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from intake.cli.output import display_width, plain_part, shown
from intake.cli.queue_cmds import queue_table, sparkline
from intake.cli.show_cmds import show_parts
from intake.store.models import Attachment, Event, Message, Outbox, Submission
from tests.cli.test_cli_queue import NOW, Env, add_submission, ids, make_env

ARTICLE = "今年以来，我市各地积极推动复工复产，企业生产经营逐步恢复。"


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str) -> Iterator[Env]:
    made = make_env(
        tmp_path,
        sqlite_url,
        replies={"site_name": "南方日报"},
        desk={"staff": ["li", "wang"]},
        smtp={"host": "127.0.0.1", "port": 2525, "from_address": "投稿 <tougao@news.example>",
              "security": "none"},
    )  # fmt: skip
    yield made
    made.app.close()


def fake_editor(tmp_path: Path, text: str) -> dict[str, str]:
    """$EDITOR as a program that writes ``text`` into the file it is given."""
    script = tmp_path / "editor.py"
    script.write_text(
        f"import sys, pathlib\npathlib.Path(sys.argv[1]).write_text({text!r}, encoding='utf-8')\n",
        encoding="utf-8",
    )
    return {"EDITOR": f"{sys.executable} {script}", "VISUAL": ""}


def new(env: Env, **kwargs: object) -> int:
    with env.app.sessions() as session, session.begin():
        return add_submission(session, **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the queue


def test_list_shows_the_open_queue_unless_all(env: Env) -> None:
    by_status = {s: new(env, status=s) for s in (
        "received", "in_review", "needs_info", "accepted", "declined", "published", "withdrawn",
        "duplicate",
    )}  # fmt: skip
    open_ = [by_status[s] for s in ("accepted", "needs_info", "in_review", "received")]
    assert ids(env.json("list")) == open_
    assert ids(env.json("list", "--all")) == sorted(by_status.values(), reverse=True)
    assert ids(env.json("list", "--status", "declined")) == [by_status["declined"]]
    assert env.run("list", "--all", "--status", "declined").exit_code == 1
    (env.config.parent / "empty").mkdir()
    empty = make_env(env.config.parent / "empty", f"sqlite:///{env.config.parent / 'e.db'}")
    result = empty.run("list")
    assert result.stdout.strip() == "(none)" and "--all" in result.stderr
    empty.app.close()


def test_flagged_and_flag_clear(env: Env) -> None:
    plain, flagged = new(env), new(env, subject="投稿：回信")
    with env.app.sessions() as session, session.begin():
        row = session.get(Submission, flagged)
        assert row is not None
        row.flagged = "reply is unclear"
    assert ids(env.json("list", "--flagged")) == [flagged]
    assert env.json("list")[0]["flagged"] == "reply is unclear"
    assert "⚑ 投稿：回信" in env.ok("list")
    assert "intake flag clear" in env.ok("show", str(flagged))
    out = env.ok("flag", "clear", str(flagged), "-m", "回信是同意", "--as", "li")
    assert out == f"#{flagged} flag cleared; received\n"
    assert env.json("list", "--flagged") == []
    last = env.json("show", str(flagged))["history"][-1]
    assert (last["actor"], last["action"]) == ("li", "unflagged")
    assert last["note"] == "cleared: reply is unclear (回信是同意)"
    result = env.run("flag", "clear", str(plain))
    assert (result.exit_code, result.stderr) == (1, f"intake: submission {plain} is not flagged\n")


def test_mine_is_the_current_user(env: Env) -> None:
    mine, theirs = new(env, assignee="li"), new(env, assignee="wang")
    new(env)
    assert ids(env.json("list", "--mine", "--as", "li")) == [mine]
    result = env.run("list", "--mine", "--json", env={"INTAKE_USER": "wang"})
    assert ids(json.loads(result.stdout)) == [theirs]
    assert env.run("list", "--mine", "--assignee", "li").exit_code == 1


def test_list_at_80_columns_keeps_id_status_sender_and_subject(env: Env) -> None:
    rows = [
        {"id": 12345, "status": "needs_info", "copyright_status": "not_requested",
         "received_at": NOW.isoformat(), "decision_due": NOW.isoformat(), "overdue": True,
         "assignee": "wang", "attachment_count": 3, "sender_name": "欧阳修文",
         "sender": "ouyang@qq.example", "subject": "投稿：《故乡的秋天》——一篇很长很长的散文",
         "flagged": ""},
    ] * 3  # fmt: skip
    for width, dropped in ((80, {"copyright", "att", "due"}), (120, set()), (60, None)):
        table = queue_table(rows, width)
        assert {"id", "status", "from", "subject"} <= set(table.columns)
        if dropped is not None:
            assert set(table.columns) == {
                "id", "status", "copyright", "received", "due", "assignee", "att", "from",
                "subject",
            } - dropped  # fmt: skip
    assert queue_table(rows, None).columns[2] == "copyright"  # piped: every column


def test_list_in_a_real_80_column_terminal(env: Env) -> None:
    sid = new(env, subject="投稿：《故乡的秋天》散文一篇，请编辑老师审阅", sender_name="欧阳修文",
              assignee="wang", attachments=2)  # fmt: skip
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    script = Path(sys.executable).with_name("intake")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "intake"]
    proc = subprocess.Popen(
        [*command, "--config", str(env.config), "list"],
        stdin=slave, stdout=slave, stderr=slave, close_fds=True,
        env={**environ, "TERM": "xterm-256color", "NO_COLOR": "1"},
    )  # fmt: skip
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select_mod.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    proc.wait(30)
    os.close(master)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode("utf-8", "replace"))  # bold headers
    lines = [line for line in text.replace("\r", "").splitlines() if line.strip()]
    assert lines[0].split()[:2] == ["id", "status"] and "subject" in lines[0]
    assert "from" in lines[0]
    row = next(line for line in lines if line.lstrip().startswith(str(sid)))
    assert "received" in row and "欧阳修文" in row and "故乡的秋天" in row
    assert all(display_width(line) <= 80 for line in lines)


# --------------------------------------------------------------------------- show


def test_show_prints_cover_note_photos_captions_and_every_reply(env: Env) -> None:
    sid = new(env, body="编辑老师好：稿件见附件。\n电话 13812345678\n图2 IMG_1.jpg：晨练的市民",
              article=ARTICLE, attachments=1)  # fmt: skip
    with env.app.sessions() as session, session.begin():
        submission = session.get(Submission, sid)
        assert submission is not None
        submission.article_source = "稿件0.docx"
        session.add(
            Attachment(
                message_pk=submission.message_pk, submission_id=sid, filename="IMG_1.jpg",
                safe_name="IMG_1.jpg", content_type="image/jpeg", size=2_345_678, sha256="cd" * 32,
                blob_path="", kind="image",
                meta={"format": "jpeg", "width": 4032, "height": 3024,
                      "taken_at": "2026-11-19T07:30:00", "camera": "Apple iPhone 12",
                      "caption": "晨练的市民"},
            )
        )  # fmt: skip
        reply = Message(
            sha256="ee" * 32, body_sha256="ef" * 32, size=100, raw_path="",
            message_id="r1@qq.example", sender="zhangsan@qq.example", sender_name="张三",
            subject="Re: 稿件", received_at=NOW, ingested_at=NOW, kind="reply",
            body_text="好的，我同意修改。\n\n> 编辑部：请修改第二段\n> 谢谢",
            submission_id=sid,
        )  # fmt: skip
        session.add(reply)
    out = env.ok("show", str(sid))
    for expected in ("cover note", "电话 13812345678", "JPEG, 4032×3024, taken 2026-11-19 07:30",
                     "Apple iPhone 12", "captions:", "2  IMG_1.jpg: 晨练的市民",
                     "reply from zhangsan@qq.example", "好的，我同意修改。",
                     f"intake attachment {sid} N"):  # fmt: skip
        assert expected in out, expected
    assert "请修改第二段" not in out  # the quoted mail is not what they said
    data = env.json("show", str(sid))
    assert data["cover_note"].startswith("编辑老师好")
    assert [m["text"] for m in data["conversation"]] == ["", "好的，我同意修改。"]


def test_show_parts_render_author_details_masked_as_given() -> None:
    data = {
        "id": 3, "status": "received", "copyright_status": "not_requested", "sender": "a@b.example",
        "sender_name": "", "subject": "s\x1b]52;c;ZXZpbA==\x07", "received_at": NOW.isoformat(),
        "decision_due": None, "overdue": False, "assignee": "", "char_count": 1, "word_count": 1,
        "article_source": "body", "published_url": "", "duplicate_of": None, "flagged": "",
        "copyright_requested_at": None, "text": "正文\x1b[2J", "attachments": [],
        "conversation": [], "outbox": [], "consent": {}, "versions": [], "claims": [],
        "history": [], "author": {"name": "张三", "phone": "138****5678", "account": ""},
    }  # fmt: skip
    text = "\n".join(plain_part(part) for part in show_parts(data))
    assert "phone  138****5678" in text and "name   张三" in text and "account" not in text
    assert "\x1b" not in text and "\\x1b]52" in text and "\\x1b[2J" in text


def test_show_raw_on_a_pipe_is_exact() -> None:
    assert shown("a\x1b[31mb\r\nc", multiline=True) == "a\\x1b[31mb\nc"
    assert shown("x\u202eexe.txt\n").strip() == "x\\u202eexe.txt"


# --------------------------------------------------------------------------- attachment


def test_attachment_save_open_and_pipe(env: Env, tmp_path: Path) -> None:
    payload = b"PK\x03\x04 a document"
    digest, path = env.app.blobs.put("att", payload)
    sid = new(env)
    with env.app.sessions() as session, session.begin():
        submission = session.get(Submission, sid)
        assert submission is not None
        session.add(
            Attachment(
                message_pk=submission.message_pk, submission_id=sid, filename="../../稿件.docx",
                safe_name="稿件.docx", content_type="application/octet-stream",
                size=len(payload), sha256=digest, blob_path=path, kind="document",
            )
        )  # fmt: skip
    folder = tmp_path / "saved"
    folder.mkdir()
    assert env.ok("attachment", str(sid), "1", "--save", str(folder)) == (
        f"#{sid} attachment 1 saved to {folder / '稿件.docx'}\n"
    )
    assert (folder / "稿件.docx").read_bytes() == payload
    again = env.run("attachment", str(sid), "1", "--save", str(folder))
    assert again.exit_code == 1 and "exists" in again.stderr
    assert env.run("attachment", str(sid), "1", "--save", str(folder), "--force").exit_code == 0
    named = tmp_path / "other.docx"
    env.ok("attachment", str(sid), "1", "--save", str(named))
    assert named.read_bytes() == payload
    # --open hands a private copy to the viewer.
    seen = tmp_path / "opened"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" {seen}\n')
    opener.chmod(0o755)
    out = env.ok("attachment", str(sid), "1", "--open", env={"INTAKE_OPENER": str(opener)})
    assert out.startswith(f"#{sid} attachment 1 opened (")
    for _ in range(100):
        if seen.exists() and seen.read_bytes():
            break
        import time

        time.sleep(0.05)
    assert seen.read_bytes() == payload
    # Piped: the bytes.
    assert env.run("attachment", str(sid), "1").stdout_bytes == payload
    result = env.run("attachment", str(sid), "2")
    assert result.exit_code == 1
    assert result.stderr == f"intake: submission {sid} has 1 attachment: there is no number 2\n"
    assert env.run("attachment", "999", "1").stderr == "intake: no submission with id 999\n"


# --------------------------------------------------------------------------- answering


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_reply_sends_free_text_threaded_with_the_desks_signature(env: Env, tmp_path: Path) -> None:
    sid = new(env, status="in_review")
    with env.app.sessions() as session, session.begin():
        later = Message(
            sha256="aa" * 32, body_sha256="ab" * 32, size=10, raw_path="",
            message_id="latest@qq.example", sender="zhangsan@qq.example", subject="Re: 稿件",
            received_at=NOW, ingested_at=NOW, kind="reply", body_text="补充", submission_id=sid,
        )  # fmt: skip
        session.add(later)
    words = "来稿收到。第二段的数据请注明出处。"
    dry = env.ok("reply", str(sid), "-m", words, "--dry-run")
    assert dry.startswith("dry run, nothing changed") and words in dry
    assert env.json("show", str(sid))["outbox"] == []
    out = env.ok("reply", str(sid), "-m", words, "--as", "li")
    assert out.startswith(f"#{sid} in_review; letter reply queued (outbox #")
    with env.app.sessions() as session, session.begin():
        row = session.scalars(select(Outbox)).one()
        msg = parsed(row.raw)
        assert (
            row.template == "reply" and not row.automatic and row.to_addr == "zhangsan@qq.example"
        )
        assert msg["In-Reply-To"] == "<latest@qq.example>"
        assert str(msg["Subject"]).startswith(f"[投稿 #{sid}] 回复：")
        body = msg.get_body(("plain",))
        assert body is not None and words in body.get_content()
        assert "南方日报编辑部" in body.get_content()
    data = env.json("show", str(sid))
    assert data["status"] == "in_review"
    assert data["outbox"][0]["text"].count(words) == 1
    assert data["history"][-1]["note"].startswith("reply queued as outbox #")
    # --edit: written in $EDITOR; nothing written sends nothing.
    editor = fake_editor(tmp_path, "张三，您好！\n\n请补充作者简介。\n")
    out = env.ok("reply", str(sid), "--edit", env=editor)
    assert "letter reply queued" in out
    assert "请补充作者简介" in env.json("show", str(sid))["outbox"][-1]["text"]
    result = env.run("reply", str(sid))
    assert result.exit_code == 1 and "-m TEXT or --edit" in result.stderr
    unchanged = {"EDITOR": "true", "VISUAL": ""}
    result = env.run("reply", str(sid), "--edit", env=unchanged)
    assert result.exit_code == 1 and "nothing was written" in result.stderr


def test_note_edit_and_several_ids(env: Env, tmp_path: Path) -> None:
    a, b = new(env), new(env)
    out = env.ok("note", str(a), str(b), "--edit", env=fake_editor(tmp_path, "都要核实数据\n"))
    assert out.splitlines() == [
        f"#{a} note added; received -> in_review",
        f"#{b} note added; received -> in_review",
    ]
    assert env.json("show", str(b))["history"][-1]["note"] == "都要核实数据"
    assert env.run("note", str(a), "text", "--edit").exit_code == 1
    assert env.run("note", str(a)).exit_code == 1
    assert env.ok("note", str(a), "--edit", env=fake_editor(tmp_path, "一个")).startswith(f"#{a}")


def test_several_ids_each_in_its_own_transaction(env: Env) -> None:
    a, b, c = new(env), new(env, status="declined"), new(env)
    result = env.run("decline", str(a), str(b), "4242", str(c), "--no-notify", "-m", "不合适")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"#{a} received -> declined",
        f"#{c} received -> declined",
    ]
    assert result.stderr.splitlines() == [
        f"intake: #{b}: submission {b} is already declined (allowed: in_review)",
        "intake: #4242: no submission with id 4242",
    ]
    assert env.json("show", str(c))["status"] == "declined"
    data = json.loads(env.run("assign", str(a), "999", "li", "--json").stdout)
    assert [d.get("error", "") for d in data] == ["", "no submission with id 999"]


def test_assign_only_to_the_desks_staff(env: Env) -> None:
    a, b, c = new(env), new(env), new(env)
    out = env.ok("assign", str(a), str(b), str(c), "li")
    assert out.count("assigned to li") == 3
    result = env.run("assign", str(a), "zhao")
    assert result.exit_code == 1
    assert result.stderr == "intake: 'zhao' is not on the desk's staff list (li, wang)\n"
    assert env.ok("assign", str(a), "-").startswith(f"#{a} unassigned")


# --------------------------------------------------------------------------- stats and help


def test_stats_summary_first_and_the_days_on_one_line(env: Env) -> None:
    for days in (0, 0, 1, 5):
        new(env, received_at=NOW - __import__("datetime").timedelta(days=days, hours=1))
    lines = env.ok("stats").splitlines()
    assert lines[0].split() == ["all", "time"] and "submissions" in lines[1]
    chart = [line for line in lines if line.startswith("last 30 days")]
    assert len(chart) == 1 and len(lines) < 16
    assert sparkline([0, 1, 4, 8]) == " ▂▅█" and sparkline([0, 0]) == "··"


def test_help_groups_commands_by_role_without_loading_textual(env: Env) -> None:
    probe = (
        "import sys\n"
        "from intake.cli import cli\n"
        "try:\n    cli.main(['--help'], prog_name='intake')\n"
        "except SystemExit:\n    pass\n"
        "print('TEXTUAL', 'textual' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    out = done.stdout
    sections = [line for line in out.splitlines() if line and not line.startswith(" ")]
    assert sections[-5:] == [
        "The desk (editors):", "Rights (copyright and claims):", "Mailboxes and replies:",
        "Administration:", "TEXTUAL False",
    ]  # fmt: skip
    assert out.index("  triage") < out.index("  request-copyright") < out.index("  poll")
    assert "Other commands" not in out


def test_every_command_module_is_grouped() -> None:
    from intake.cli import COMMAND_MODULES, COMMAND_ROLES

    grouped = {name for names in COMMAND_ROLES.values() for name in names}
    assert {name for names in COMMAND_MODULES.values() for name in names} == grouped


def test_no_event_is_written_by_reading(env: Env) -> None:
    sid = new(env)
    env.ok("show", str(sid))
    env.ok("list", "--all")
    with env.app.sessions() as session:
        assert len(list(session.scalars(select(Event)))) == 1
