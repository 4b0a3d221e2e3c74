"""``intake send``, ``intake outbox [retry]`` and the suppression commands, against a real
database and the suite's SMTP server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from intake.core.mail import MessageRef, RawMail
from intake.store.models import Event
from tests.cli.test_cli_queue import Env, _intake, make_env
from tests.helpers import submission
from tests.smtpserver import SmtpServer

OUTBOX_KEYS = {
    "id", "submission_id", "claim_id", "to", "subject", "template", "state", "automatic",
    "attempts", "last_error", "message_id", "created_at", "next_attempt_at", "sent_at",
    "in_sent_folder", "handed_at",
}  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Iterator[Env]:
    smtp = {
        "host": smtp_server.host,
        "port": smtp_server.port,
        "security": "none",
        "from_address": "投稿 <tougao@news.example>",
        "timeout": 10.0,
        "backoff_base_seconds": 0.0,
    }
    made = make_env(tmp_path, sqlite_url, smtp=smtp, replies={"site_name": "示例新闻网"})
    yield made
    made.app.close()


def ingest(env: Env, uid: int = 1, **kwargs: Any) -> None:
    ref = MessageRef("submissions", "INBOX", 1, uid)
    env.app.ingestor.ingest(RawMail(ref, submission(**kwargs), datetime.now(UTC)))


def test_send_and_list(env: Env, smtp_server: SmtpServer) -> None:
    ingest(env)
    rows = env.json("outbox")
    assert [(r["id"], r["template"], r["state"]) for r in rows] == [
        (2, "copyright_request", "pending"),
        (1, "ack", "pending"),
    ]
    assert all(set(r) == OUTBOX_KEYS for r in rows)
    assert rows[1]["to"] == "zhangsan@qq.example" and rows[1]["subject"].startswith("[投稿 #1]")
    assert rows[1]["sent_at"] is None and rows[1]["automatic"] is True
    assert env.json("send") == {"sent": 2, "retried": 0, "failed": 0, "held": 0}
    assert len(smtp_server.wait_for(2)) == 2
    sent = env.json("outbox", "--state", "sent")
    assert len(sent) == 2 and all(datetime.fromisoformat(r["sent_at"]).tzinfo for r in sent)
    assert env.json("outbox", "--state", "pending") == []
    assert env.json("send") == {"sent": 0, "retried": 0, "failed": 0, "held": 0}
    table = env.ok("outbox")
    assert "zhangsan@" in table and "收稿回执" in table and "sent" in table
    assert env.ok("send") == "0 sent, 0 to retry, 0 failed\n"


def test_failed_reply_shows_reason_and_can_be_retried(env: Env, smtp_server: SmtpServer) -> None:
    ingest(env)
    smtp_server.fail_next("550 5.7.1 Message rejected as spam", times=2, stage="RCPT")
    assert env.json("send") == {"sent": 0, "retried": 0, "failed": 2, "held": 0}
    failed = env.json("outbox", "--state", "failed")
    assert len(failed) == 2 and "550 5.7.1 Message rejected as spam" in failed[0]["last_error"]
    assert env.ok("outbox", "retry", "1", "--as", "editor") == "outbox #1 queued again\n"
    (row,) = env.json("outbox", "--state", "pending")
    assert (row["id"], row["attempts"]) == (1, 0)
    with env.app.sessions() as session, session.begin():
        event = session.scalars(select(Event).where(Event.action == "reply_retry")).one()
        assert (event.actor, event.submission_id) == ("editor", 1)
        assert "550 5.7.1" in event.note
    assert env.json("send") == {"sent": 1, "retried": 0, "failed": 0, "held": 0}
    done = env.run("outbox", "retry", "1")
    assert (done.exit_code, done.stderr) == (
        1,
        "intake: outbox row 1 is sent, not failed or held: nothing to retry\n",
    )
    done = env.run("outbox", "retry", "99")
    assert (done.exit_code, done.stderr) == (1, "intake: no outbox row with id 99\n")


def test_suppression_commands(env: Env) -> None:
    out = env.ok("suppress", "ZhangSan@QQ.example", "--days", "3", "--reason", "作者要求")
    assert out.startswith("zhangsan@qq.example suppressed until ")
    assert out.endswith(" UTC (any spelling of it)\n")
    done = env.run("suppress", "not an address")
    assert (done.exit_code, done.stderr) == (
        1,
        "intake: not an email address: no @ in 'not an address'\n",
    )
    (row,) = env.json("suppressions")
    assert (row["address"], row["reason"]) == ("zhangsan@qq.example", "作者要求")
    ingest(env)  # suppressed: no acknowledgment
    assert env.json("outbox") == []
    assert "zhangsan@qq.example" in env.ok("suppressions")
    assert env.ok("unsuppress", "zhangsan@qq.example") == "zhangsan@qq.example may get mail again\n"
    assert env.json("suppressions") == []
    done = env.run("unsuppress", "zhangsan@qq.example")
    assert (done.exit_code, done.stderr) == (
        1,
        "intake: zhangsan@qq.example is not on the suppression list\n",
    )


def test_suppression_takes_any_spelling_and_holds_what_waits(
    env: Env, smtp_server: SmtpServer
) -> None:
    ingest(env)  # the ack and the copyright request wait for the next run
    out = env.ok("suppress", "ＺｈａｎｇＳａｎ@ＱＱ．example", "--reason", "作者要求")
    assert out.startswith("zhangsan@qq.example suppressed until ")
    assert env.json("send") == {"sent": 0, "retried": 0, "failed": 0, "held": 2}
    assert smtp_server.messages == []
    held = env.json("outbox", "--state", "held")
    assert [r["id"] for r in held] == [2, 1]
    assert held[0]["last_error"].startswith("not sent: zhangsan@qq.example is suppressed until")
    assert "held" in env.ok("outbox") and "not sent: zhangsan@qq" in env.ok("outbox")
    done = env.run("outbox", "retry", "1")
    assert done.exit_code == 1 and "`intake unsuppress zhangsan@qq.example` first" in done.stderr
    out = env.ok("unsuppress", "ZHANGSAN+tag@qq.example")
    assert out == (
        "zhangsan@qq.example may get mail again\n"
        "held letters to it stay held: outbox 1 2; `intake outbox retry ID` sends one\n"
    )
    env.ok("outbox", "retry", "1")
    assert env.json("send")["sent"] == 1
    assert env.json("status")["outbox"]["held"] == 1


def test_check_says_whether_letters_to_non_ascii_addresses_can_go(
    env: Env, smtp_server: SmtpServer
) -> None:
    out = env.ok("check")
    assert f"smtp: ok (127.0.0.1:{smtp_server.port}; no SMTPUTF8: no letters to 张三@…)" in out
    ingest(env, sender="张三 <张三@qq.example>", utf8=True)  # recorded, answered with a note
    (row,) = env.json("list")
    assert row["sender"] == "张三@qq.example"
    assert env.json("outbox") == []
    history = env.json("show", str(row["id"]))["history"]
    assert any("needs SMTPUTF8" in entry["note"] for entry in history)


def test_list_from_finds_every_spelling(env: Env) -> None:
    ingest(env, 1, sender="张三 <ZhangSan@QQ.example>")
    ingest(env, 2, sender="李四 <lisi@例子.中国>", body="另一篇稿件。", utf8=True)
    for spelling in ("zhangsan@qq.example", "ＺＨＡＮＧＳＡＮ@qq.example", "zhangsan@QQ.example."):
        assert [r["id"] for r in env.json("list", "--from", spelling)] == [1]
    for spelling in ("lisi@例子.中国", "LISI@xn--fsqu00a.xn--fiqs8s", "lisi@例子。中国"):
        assert [r["id"] for r in env.json("list", "--from", spelling)] == [2]
    assert [r["id"] for r in env.json("list", "--from", "@例子.中国")] == [2]
    (row,) = env.json("list", "--from", "@qq.example")
    assert row["sender"] == "zhangsan@qq.example"  # stored in its one spelling


def test_send_without_smtp_is_a_config_error(tmp_path: Path, sqlite_url: str) -> None:
    bare = make_env(tmp_path, sqlite_url)
    done = _intake(bare.config, "send", "--json")
    assert (done.returncode, done.stderr) == (
        2,
        "intake: smtp: not configured: replies cannot be sent\n",
    )
    assert json.loads(bare.ok("outbox", "--json")) == []  # listing needs no SMTP
    bare.app.close()
