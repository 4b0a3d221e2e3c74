"""Contributor text never reaches the terminal raw: every human output of the CLI, piped and on
a real pseudo-terminal, with hostile subjects, names, bodies, file names and reasons; ``--json``
keeps the exact text with every control escaped."""

from __future__ import annotations

import hashlib
import json
import os
import pty
import re
import select
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intake.store import submissions as submission_store
from intake.store.models import Attachment, Claim, Event, Message, Outbox
from tests.cli.test_cli_queue import Env, add_submission, make_env

NOW = datetime.now(UTC).replace(microsecond=0)

#: What an attacker puts in a subject, a name, a body, a file name.
HOSTILE = {
    "osc52": "\x1b]52;c;cm0gLXJmIH4=\x07",  # write the clipboard
    "osc0": "\x1b]0;you have been pwned\x1b\\",  # window title, ST terminator
    "osc8": "\x1b]8;;https://evil.example/\x1b\\click me\x1b]8;;\x1b\\",  # a hidden link
    "csi": "\x1b[2J\x1b[H\x1b[31mred",  # clear the screen, move, colour
    "c1": "\x9b2J\x9d0;t\x9c",  # 8-bit CSI, OSC and ST as code points
    "bidi": "invoice\u202egpj.exe\u2066x\u2069\u200e\u200f\u061c",
    "invisible": "\ufeffzero\u200bwidth\u00ad",
    "controls": "\x07bell\x08back\x7fdel\x00nul\rover",
}
EVERYTHING = "".join(HOSTILE.values())
ESC_FREE = re.compile(r"\x1b\[[0-9;]*m")  # rich's own styling (bold headings) on a terminal


def unsafe(text: str) -> list[str]:
    """The characters of ``text`` a terminal would act on (line breaks and tabs allowed)."""
    return [
        c
        for c in text
        if c not in "\n\t"
        and (unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") and c != "\u200d")
    ]


def hostile_data(session: Session) -> tuple[int, int]:
    """A submission and a claim whose every contributor field is hostile."""
    sid = add_submission(
        session,
        subject=f"投稿{EVERYTHING}",
        sender_name=f"张三{HOSTILE['bidi']}",
        article=f"正文{EVERYTHING}\n第二段{HOSTILE['osc52']}",
        body=f"编辑老师{HOSTILE['csi']}",
    )
    message_pk = session.query(Message.id).filter(Message.submission_id == sid).scalar()
    session.add(
        Attachment(
            message_pk=message_pk,
            submission_id=sid,
            filename=f"稿件{HOSTILE['bidi']}{HOSTILE['osc8']}.docx",
            safe_name="gaojian.docx",
            content_type="application/octet-stream",
            size=10,
            sha256="cd" * 32,
            blob_path="att/cd/cd/" + "cd" * 32,
            kind="document",
            text=f"附件{HOSTILE['osc0']}",
            text_chars=2,
            extract_error=f"bad file {HOSTILE['c1']}",
        )
    )
    session.add(
        Outbox(
            submission_id=sid,
            template="ack",
            to_addr="zhangsan@qq.example",
            subject=f"Re: {EVERYTHING}",
            message_id="x1@news.example",
            raw=b"raw",
            next_attempt_at=NOW,
            created_at=NOW,
            last_error=f"550 {HOSTILE['csi']}",
        )
    )
    submission_store.add_event(
        session, at=NOW, actor="intake", action="note", submission_id=sid,
        note=f"note {EVERYTHING}",
    )  # fmt: skip
    claim_message = Message(
        sha256=hashlib.sha256(os.urandom(8)).hexdigest(),
        body_sha256=hashlib.sha256(os.urandom(8)).hexdigest(),
        size=100,
        raw_path="",
        message_id="claim@x.example",
        sender="lawyer@x.example",
        sender_name=f"律师{HOSTILE['osc0']}",
        subject=f"侵权{EVERYTHING}",
        received_at=NOW,
        ingested_at=NOW,
        kind="claim",
        reason=f"claim {HOSTILE['c1']}",
    )
    session.add(claim_message)
    session.flush()
    claim = Claim(
        status="received",
        claimant="lawyer@x.example",
        claimant_name=f"律师{HOSTILE['osc0']}",
        subject=f"侵权{EVERYTHING}",
        received_at=NOW,
        message_pk=claim_message.id,
        urls=[f"https://news.example/a{HOSTILE['osc8']}"],
        work_title=f"作品{HOSTILE['bidi']}",
        demand="removal",
        deadline=NOW + timedelta(days=3),
        score=3.0,
        signals=[f"signal{HOSTILE['csi']}"],
        assignee="",
        amount="",
        body_text=f"请删除{EVERYTHING}",
        updated_at=NOW,
    )
    session.add(claim)
    session.flush()
    claim_message.claim_id = claim.id
    session.add(
        Event(claim_id=claim.id, at=NOW, actor="intake", action="received", from_status="",
              to_status="received", note=f"n{HOSTILE['osc52']}")
    )  # fmt: skip
    session.add(
        Message(
            sha256=hashlib.sha256(os.urandom(8)).hexdigest(),
            body_sha256=hashlib.sha256(os.urandom(8)).hexdigest(),
            size=100,
            raw_path="",
            message_id=f"q{HOSTILE['osc0']}@x.example",
            sender=f"x{HOSTILE['csi']}@x.example",
            subject=f"坏{EVERYTHING}",
            received_at=NOW,
            ingested_at=NOW,
            kind="quarantined",
            reason=f"parse: header {EVERYTHING}",
        )
    )
    return sid, claim.id


@pytest.fixture
def hostile(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Env, int, int]]:
    env = make_env(tmp_path, sqlite_url)
    with env.app.sessions() as session, session.begin():
        sid, cid = hostile_data(session)
    yield env, sid, cid
    env.app.close()


def commands(sid: int, cid: int) -> list[list[str]]:
    return [
        ["list"], ["show", str(sid)], ["messages"], ["quarantine"], ["claims"],
        ["claim", "show", str(cid)], ["outbox"], ["consent", str(sid)], ["versions", str(sid)],
        ["list", "--search", "投稿"],
    ]  # fmt: skip


def test_every_human_output_shows_controls_visibly(hostile: tuple[Env, int, int]) -> None:
    env, sid, cid = hostile
    for args in commands(sid, cid):
        result = env.run(*args)
        assert result.exit_code == 0, (args, result.output, result.exception)
        shown = result.stdout + result.stderr
        assert not unsafe(shown), (args, unsafe(shown), shown)
    show = env.ok("show", str(sid))
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in show  # visible, for the editor to see
    assert "invoice\\u202egpj.exe" in show
    assert "正文" in show and "第二段" in show.split("正文", 1)[1]  # the body keeps its lines


def test_json_is_exact_and_escaped(hostile: tuple[Env, int, int]) -> None:
    env, sid, cid = hostile
    for args in commands(sid, cid):
        result = env.run(*args, "--json")
        assert result.exit_code == 0, (args, result.output, result.exception)
        assert not unsafe(result.stdout.replace("\n", "")), (args, unsafe(result.stdout))
        json.loads(result.stdout)
    data = env.json("show", str(sid))
    stored = EVERYTHING.replace("\x00", "\ufffd")  # no database holds a NUL: stored as U+FFFD
    assert data["subject"] == f"投稿{stored}"
    assert data["attachments"][0]["filename"] == f"稿件{HOSTILE['bidi']}{HOSTILE['osc8']}.docx"
    assert env.json("claim", "show", str(cid))["text"] == f"请删除{stored}"


def test_error_lines_show_controls_visibly(hostile: tuple[Env, int, int]) -> None:
    env, _, _ = hostile
    result = env.run("unsuppress", f"x{HOSTILE['osc52']}@x.example")
    assert result.exit_code == 1
    assert result.stderr.startswith("intake: ") and result.stderr.count("\n") == 1
    assert not unsafe(result.stderr) and "\\x1b]52" in result.stderr


# --------------------------------------------------------------------------- a real terminal


def run_on_terminal(config: Path, *args: str) -> bytes:
    """``intake ARGS`` in a fresh process whose stdout and stderr are a pseudo-terminal; what
    the terminal received."""
    script = Path(sys.executable).with_name("intake")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "intake"]
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "160", "LINES": "40",
           "PAGER": "cat", "INTAKE_USER": "editor"}  # fmt: skip
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [*command, "--config", str(config), *args],
        stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True,
    )  # fmt: skip
    os.close(slave)
    received = bytearray()
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's other side closed
                break
            if not chunk:
                break
            received += chunk
    finally:
        os.close(master)
        process.wait(timeout=60)
    assert process.returncode == 0, bytes(received)
    return bytes(received)


@pytest.mark.parametrize("command", [["list"], ["show"], ["claims"], ["claim", "show"],
                                     ["messages"], ["outbox"], ["quarantine"]])  # fmt: skip
def test_nothing_from_contributors_reaches_a_real_terminal(
    hostile: tuple[Env, int, int], command: list[str]
) -> None:
    env, sid, cid = hostile
    args = [*command, str(cid if command[0] == "claim" else sid)] if "show" in command else command
    received = run_on_terminal(env.config, *args)
    text = received.decode("utf-8")
    assert "\x1b" not in ESC_FREE.sub("", text), text  # only rich's own colours and bold
    assert not [c for c in text if 0x80 <= ord(c) <= 0x9F], text
    assert not [c for c in text if unicodedata.category(c) == "Cf" and c != "\u200d"], text
    assert "\\x1b" in text  # the hostile text is there, shown
