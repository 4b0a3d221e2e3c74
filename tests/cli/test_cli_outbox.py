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
    "in_sent_folder",
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
    assert env.json("send") == {"sent": 2, "retried": 0, "failed": 0}
    assert len(smtp_server.wait_for(2)) == 2
    sent = env.json("outbox", "--state", "sent")
    assert len(sent) == 2 and all(datetime.fromisoformat(r["sent_at"]).tzinfo for r in sent)
    assert env.json("outbox", "--state", "pending") == []
    assert env.json("send") == {"sent": 0, "retried": 0, "failed": 0}
    table = env.ok("outbox")
    assert "zhangsan@" in table and "收稿回执" in table and "sent" in table
    assert env.ok("send") == "0 sent, 0 to retry, 0 failed\n"


def test_failed_reply_shows_reason_and_can_be_retried(env: Env, smtp_server: SmtpServer) -> None:
    ingest(env)
    smtp_server.fail_next("550 5.7.1 Message rejected as spam", times=2, stage="RCPT")
    assert env.json("send") == {"sent": 0, "retried": 0, "failed": 2}
    failed = env.json("outbox", "--state", "failed")
    assert len(failed) == 2 and "550 5.7.1 Message rejected as spam" in failed[0]["last_error"]
    assert env.ok("outbox", "retry", "1", "--as", "editor") == "outbox #1 queued again\n"
    (row,) = env.json("outbox", "--state", "pending")
    assert (row["id"], row["attempts"]) == (1, 0)
    with env.app.sessions() as session, session.begin():
        event = session.scalars(select(Event).where(Event.action == "reply_retry")).one()
        assert (event.actor, event.submission_id) == ("editor", 1)
        assert "550 5.7.1" in event.note
    assert env.json("send") == {"sent": 1, "retried": 0, "failed": 0}
    done = env.run("outbox", "retry", "1")
    assert (done.exit_code, done.stderr) == (
        1,
        "intake: outbox row 1 is sent, not failed: nothing to retry\n",
    )
    done = env.run("outbox", "retry", "99")
    assert (done.exit_code, done.stderr) == (1, "intake: no outbox row with id 99\n")


def test_suppression_commands(env: Env) -> None:
    out = env.ok("suppress", "ZhangSan@QQ.example", "--days", "3", "--reason", "作者要求")
    assert out.startswith("zhangsan@qq.example suppressed until ")
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


def test_send_without_smtp_is_a_config_error(tmp_path: Path, sqlite_url: str) -> None:
    bare = make_env(tmp_path, sqlite_url)
    done = _intake(bare.config, "send", "--json")
    assert (done.returncode, done.stderr) == (
        2,
        "intake: smtp: not configured: replies cannot be sent\n",
    )
    assert json.loads(bare.ok("outbox", "--json")) == []  # listing needs no SMTP
    bare.app.close()
