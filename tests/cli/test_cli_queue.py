"""``intake list``, ``show`` and ``stats`` against a real database (SQLite and PostgreSQL).

Submissions are written straight through the ORM (the parser is not needed to read a queue);
``add_submission`` is shared with tests/cli/test_cli_workflow.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from intake.app import App
from intake.cli.output import display_width
from intake.core import configfile
from intake.store import queue as queue_store
from intake.store import submissions as submission_store
from intake.store.models import Attachment, Claim, Event, Message, Outbox, Submission
from tests.helpers import make_app

LIST_KEYS = {
    "id",
    "status",
    "copyright_status",
    "sender",
    "sender_name",
    "subject",
    "received_at",
    "attachment_count",
    "assignee",
    "decision_due",
    "overdue",
    "flagged",
}
SHOW_KEYS = LIST_KEYS | {
    "message_id",
    "title",
    "text",
    "body",
    "article_source",
    "char_count",
    "word_count",
    "decided_at",
    "updated_at",
    "published_url",
    "duplicate_of",
    "similarity",
    "copyright_requested_at",
    "attachments",
    "conversation",
    "outbox",
    "history",
    "consent",
    "versions",  # from intake.cli.consent_cmds
    "claims",  # rights holders' claims naming this submission
    "cover_note",  # the body, when the article came from a document
    "author",  # the contributor's details, numbers masked unless --reveal
}
ATTACHMENT_KEYS = {
    "id",
    "filename",
    "safe_name",
    "content_type",
    "size",
    "sha256",
    "kind",
    "text_chars",
    "extract_error",
    "encrypted",
    "meta",
}
HISTORY_KEYS = {"at", "actor", "action", "from", "to", "note"}
CONVERSATION_KEYS = {
    "id",
    "message_id",
    "received_at",
    "sender",
    "sender_name",
    "subject",
    "kind",
    "original",
    "text",
}
OUTBOX_KEYS = {
    "id",
    "template",
    "to",
    "subject",
    "message_id",
    "state",
    "automatic",
    "attempts",
    "created_at",
    "sent_at",
    "last_error",
    "text",
}
STATS_KEYS = {
    "since",
    "total",
    "by_status",
    "by_copyright_status",
    "per_day",
    "decided",
    "median_days_to_decision",
    "overdue",
    "acceptance_rate",
    "open_claims",
}

NOW = datetime.now(UTC).replace(microsecond=0)
ARTICLE_ZH = (
    "今年以来，我市各地积极推动复工复产，企业生产经营逐步恢复。在城东工业园，机器轰鸣，"
    "工人们正在流水线上忙碌。园区负责人介绍，目前已有九成以上企业恢复生产。"
)
ARTICLE_EN = (
    "The river festival returned this spring after three quiet years. Lantern makers along "
    "the old canal worked through the night to finish their paper dragons."
)


def add_submission(
    session: Session,
    *,
    subject: str = "投稿：春天的故事",
    sender: str = "zhangsan@qq.example",
    sender_name: str = "张三",
    body: str = "",
    article: str = "春天来了，万物复苏。",
    status: str = "received",
    copyright_status: str = "not_requested",
    received_at: datetime | None = None,
    decision_days: int = 15,
    assignee: str = "",
    raw: bytes = b"",
    raw_path: str = "",
    attachments: int = 0,
) -> int:
    """A submission with its original message and its ``received`` event, as ingest makes."""
    received_at = received_at or NOW - timedelta(hours=1)
    message_id = f"{hashlib.sha256(os.urandom(8)).hexdigest()[:16]}@qq.example"
    message = Message(
        sha256=hashlib.sha256(os.urandom(16)).hexdigest(),
        body_sha256=hashlib.sha256(os.urandom(16)).hexdigest(),
        size=len(raw) or 1000,
        raw_path=raw_path,
        message_id=message_id,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        received_at=received_at,
        ingested_at=received_at,
        kind="submission",
    )
    session.add(message)
    session.flush()
    submission = Submission(
        status=status,
        copyright_status=copyright_status,
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        title=subject.removeprefix("投稿："),
        received_at=received_at,
        decision_due=received_at + timedelta(days=decision_days),
        message_pk=message.id,
        body_text=body or article,
        article_text=article,
        article_source="body",
        char_count=len(article),
        word_count=len(article.split()),
        assignee=assignee,
        updated_at=received_at,
    )
    session.add(submission)
    session.flush()
    message.submission_id = submission.id
    for i in range(attachments):
        session.add(
            Attachment(
                message_pk=message.id,
                submission_id=submission.id,
                filename=f"稿件{i}.docx",
                safe_name=f"gaojian{i}.docx",
                content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                size=12345,
                sha256="ab" * 32,
                blob_path="att/ab/ab/" + "ab" * 32,
                kind="document",
                text="正文",
                text_chars=2,
            )
        )
    submission_store.add_event(
        session,
        at=received_at,
        actor="intake",
        action="received",
        submission_id=submission.id,
        to_status="received",
    )
    return submission.id


@dataclass
class Env:
    """A database with the schema, a config file naming it, and a way to run the CLI."""

    app: App
    config: Path

    def run(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Result:
        runner = CliRunner()
        return runner.invoke(
            __import__("intake.cli", fromlist=["cli"]).cli,
            ["--config", str(self.config), *args],
            input=input,
            env={"NO_COLOR": "1", "INTAKE_USER": "", **(env or {})},
            catch_exceptions=True,
        )

    def ok(self, *args: str, **kwargs: Any) -> str:
        result = self.run(*args, **kwargs)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


def make_env(tmp_path: Path, db_url: str, **sections: dict[str, Any]) -> Env:
    """An upgraded database and a config file for it, with extra settings ``sections``."""
    data: dict[str, dict[str, Any]] = {
        "database": {"url": db_url},
        "storage": {"path": str(tmp_path / "store")},
        **sections,
    }
    app = make_app(configfile.from_mapping(data, env={}))
    lines: list[str] = []
    for name, values in data.items():
        lines.append(f"[{name}]")
        lines += [
            f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()
        ]
    path = tmp_path / "intake.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Env(app, path)


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, db_url)
    yield made
    made.app.close()


@pytest.fixture
def sqlite_env(tmp_path: Path, sqlite_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, sqlite_url)
    yield made
    made.app.close()


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [row["id"] for row in rows]


# --------------------------------------------------------------------------- list


def test_list_json_fields_and_order(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        older = add_submission(session, received_at=NOW - timedelta(days=2), attachments=2)
        newer = add_submission(session, subject="Spring", sender="a@163.example", sender_name="")
    rows = env.json("list")
    assert ids(rows) == [newer, older]
    assert all(set(row) == LIST_KEYS for row in rows)
    assert rows[1]["attachment_count"] == 2
    assert rows[1]["subject"] == "投稿：春天的故事"
    received = datetime.fromisoformat(rows[1]["received_at"])
    assert received == NOW - timedelta(days=2)  # with its zone, on SQLite too
    assert rows[0]["overdue"] is False
    assert ids(env.json("list", "--sort", "received")) == [older, newer]
    assert ids(env.json("list", "--limit", "1")) == [newer]
    assert ids(env.json("list", "--limit", "1", "--offset", "1")) == [older]


def test_list_filters(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        a = add_submission(
            session, status="in_review", assignee="li", received_at=NOW - timedelta(days=20)
        )
        b = add_submission(
            session,
            status="in_review",
            received_at=NOW - timedelta(days=3),
            copyright_status="granted",
            sender="wang@163.example",
            sender_name="王五",
        )
        c = add_submission(session, status="accepted", received_at=NOW - timedelta(days=40))
        d = add_submission(session, received_at=NOW - timedelta(days=1), sender="x@qq.example")
    assert ids(env.json("list", "--status", "in_review")) == [b, a]
    assert ids(env.json("list", "--status", "in_review", "--status", "accepted")) == [b, a, c]
    assert ids(env.json("list", "--copyright", "granted")) == [b]
    assert ids(env.json("list", "--assignee", "li")) == [a]
    assert ids(env.json("list", "--assignee", "-")) == [d, b, c]
    assert ids(env.json("list", "--from", "WANG@163.example")) == [b]
    assert ids(env.json("list", "--from", "@qq.example")) == [d, a, c]
    assert ids(env.json("list", "--from", "王五")) == [b]
    # Overdue: undecided and past the deadline (a: 20 days old with 15 to decide; c is decided).
    overdue = env.json("list", "--overdue")
    assert ids(overdue) == [a] and overdue[0]["overdue"] is True
    assert ids(env.json("list", "--status", "in_review", "--overdue")) == [a]
    day = timedelta(days=1)
    since = (NOW - 5 * day).astimezone().strftime("%Y-%m-%d")
    until = (NOW - 3 * day).astimezone().strftime("%Y-%m-%d")
    assert ids(env.json("list", "--since", since)) == [d, b]
    assert ids(env.json("list", "--since", since, "--until", until)) == [b]
    assert ids(env.json("list", "--sort", "due")) == [c, a, b, d]
    assert ids(env.json("list", "--sort", "-id")) == [d, c, b, a]


def test_list_rejects_unknown_status(env: Env) -> None:
    result = env.run("list", "--status", "limbo")
    assert result.exit_code == 2
    assert "limbo" in result.stderr


def test_search_finds_chinese_and_english(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        zh = add_submission(session, article=ARTICLE_ZH)
        en = add_submission(
            session,
            subject="River festival",
            article=ARTICLE_EN,
            sender="li.hua@163.example",
            sender_name="Li Hua",
        )
        from_doc = add_submission(
            session, subject="稿件", body="见附件，谢谢！", article="附件里的文章：乡村振兴的新路子"
        )
    assert ids(env.json("list", "--search", "复工复产")) == [zh]
    assert ids(env.json("list", "--search", "工业园 九成")) == [zh]
    assert ids(env.json("list", "--search", "lantern")) == [en]  # case does not matter
    assert ids(env.json("list", "--search", "PAPER DRAGONS")) == [en]
    assert ids(env.json("list", "--search", "li.hua")) == [en]  # the sender
    assert ids(env.json("list", "--search", "River festival")) == [en]  # the subject
    assert ids(env.json("list", "--search", "见附件")) == [from_doc]  # the body
    assert ids(env.json("list", "--search", "乡村振兴")) == [from_doc]  # the article
    assert ids(env.json("list", "--search", "复工复产 lantern")) == []
    # Shorter than a trigram: LIKE.
    assert ids(env.json("list", "--search", "复工")) == [zh]
    assert ids(env.json("list", "--search", "园 复工复产")) == [zh]
    assert ids(env.json("list", "--search", "附件")) == [from_doc]
    # LIKE wildcards and FTS syntax are taken literally.
    assert ids(env.json("list", "--search", "%")) == []
    assert ids(env.json("list", "--search", '"复工" OR')) == []
    assert ids(env.json("list", "--search", "复工复产", "--status", "accepted")) == []


def test_search_follows_edits_and_deletes(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        sid = add_submission(session, article=ARTICLE_ZH)
    with env.app.sessions() as session, session.begin():
        # A status move must not disturb the index; a new version of the text must.
        session.execute(update(Submission).where(Submission.id == sid).values(status="in_review"))
        session.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(body_text=ARTICLE_EN, article_text=ARTICLE_EN)
        )
    assert ids(env.json("list", "--search", "复工复产")) == []
    assert ids(env.json("list", "--search", "lantern")) == [sid]
    with env.app.sessions() as session, session.begin():
        session.execute(update(Message).values(submission_id=None))
        session.execute(delete(Event))
        session.execute(delete(Submission).where(Submission.id == sid))
    assert ids(env.json("list", "--search", "lantern")) == []


def test_search_reads_the_newest_rows_first(env: Env) -> None:
    """On PostgreSQL a common word is looked for among the first rows in the listing's order
    before the index is used; both ways give the same page (SQLite has no window)."""
    with env.app.sessions() as session, session.begin():
        made = [
            add_submission(
                session,
                article=ARTICLE_ZH if i % 3 else ARTICLE_EN,
                received_at=NOW - timedelta(hours=i),
            )
            for i in range(12)
        ]
    matching = [sid for i, sid in enumerate(made) if i % 3]
    orders = {"-received": matching, "received": matching[::-1], "-id": matching[::-1]}
    with env.app.engine.connect() as conn:
        for window in (0, 3, 6, 100):
            for offset in (0, 2):
                for sort, expected in orders.items():
                    rows = queue_store.list_queue(
                        conn,
                        queue_store.QueueFilter(search="复工复产"),
                        now=NOW,
                        sort=sort,
                        limit=3,
                        offset=offset,
                        search_window=window,
                    )
                    page = expected[offset : offset + 3]
                    assert [r.id for r in rows] == page, (window, offset, sort)


def test_reading_commands_do_not_wait_for_a_writer_on_sqlite(sqlite_env: Env) -> None:
    # The daemon holds SQLite's write lock for each message it records; an editor's list,
    # show or stats reads a snapshot beside it (WAL) instead of queueing behind it.
    import sqlite3

    with sqlite_env.app.sessions() as session, session.begin():
        sid = add_submission(session, article=ARTICLE_ZH)
    path = sqlite_env.app.engine.url.database
    assert path
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE submissions SET assignee = 'busy' WHERE id = ?", (sid,))
        assert ids(sqlite_env.json("list", "--search", "复工复产")) == [sid]
        assert sqlite_env.json("show", str(sid))["assignee"] == ""  # the committed snapshot
        assert sqlite_env.json("stats")["total"] == 1
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert sqlite_env.json("show", str(sid))["assignee"] == "busy"


def test_every_table_is_plain_and_whole_when_piped(capsys: pytest.CaptureFixture[str]) -> None:
    # outbox, messages, claims and the rest print through emit_table: piped, a long subject
    # stays on its line (rich would wrap it at 80 columns), aligned by display width.
    from intake.cli.output import emit_table

    subject = "[/b] " + "长" * 60 + " end"
    emit_table(["id", "subject", "n"], [[1, subject, None], [22, "短", 3]], title="replies")
    assert capsys.readouterr().out.splitlines() == [
        "replies",
        "id  subject" + " " * (display_width(subject) - 7) + "  n",
        f"1   {subject}  -",
        "22  短" + " " * (display_width(subject) - 2) + "  3",
    ]
    emit_table(["id"], [])
    assert capsys.readouterr().out == "(none)\n"


def test_list_human_output_plain_when_piped(sqlite_env: Env) -> None:
    with sqlite_env.app.sessions() as session, session.begin():
        add_submission(
            session,
            subject="[/b] 标题很长很长的中文投稿《春天》",
            status="in_review",
            received_at=NOW - timedelta(days=30),
        )
        add_submission(session, subject="English subject", sender_name="")
    out = sqlite_env.ok("list")
    assert "\x1b[" not in out
    lines = out.splitlines()
    assert lines[0].split() == [
        "id",
        "status",
        "copyright",
        "received",
        "due",
        "assignee",
        "att",
        "from",
        "subject",
    ]
    assert "[/b] 标题很长" in out  # contributor text is not markup
    assert " !" in out  # the overdue one is marked
    assert "zhangsan@qq.example" in out  # no display name: the address


def test_list_empty(sqlite_env: Env) -> None:
    assert sqlite_env.ok("list").strip() == "(none)"
    assert sqlite_env.json("list") == []


# --------------------------------------------------------------------------- show


def test_show_json_fields(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        sid = add_submission(session, article=ARTICLE_ZH, attachments=1)
        reply = add_submission(session)  # stands in for a later message in the thread
        message = session.scalars(select(Message).where(Message.submission_id == reply)).one()
        message.submission_id = sid
        message.kind = "reply"
        session.add(
            Outbox(
                submission_id=sid,
                template="ack",
                to_addr="zhangsan@qq.example",
                subject="收到",
                message_id="x1@news.example",
                raw=b"raw",
                next_attempt_at=NOW,
                created_at=NOW,
            )
        )
    data = env.json("show", str(sid))
    assert set(data) == SHOW_KEYS
    assert data["text"] == ARTICLE_ZH
    assert data["char_count"] == len(ARTICLE_ZH)
    assert [set(a) for a in data["attachments"]] == [ATTACHMENT_KEYS]
    assert data["attachments"][0]["filename"] == "稿件0.docx"
    assert [set(h) for h in data["history"]] == [HISTORY_KEYS]
    assert data["history"][0]["to"] == "received"
    assert [set(m) for m in data["conversation"]] == [CONVERSATION_KEYS] * 2
    assert [m["original"] for m in data["conversation"]] == [True, False]
    assert [set(o) for o in data["outbox"]] == [OUTBOX_KEYS]
    assert data["outbox"][0]["template"] == "ack"


def test_show_human(sqlite_env: Env) -> None:
    with sqlite_env.app.sessions() as session, session.begin():
        sid = add_submission(
            session,
            article=ARTICLE_ZH,
            attachments=1,
            status="in_review",
            received_at=NOW - timedelta(days=16),
        )
    out = sqlite_env.ok("show", str(sid))
    assert f"#{sid}  in_review" in out
    assert "OVERDUE" in out
    assert ARTICLE_ZH in out
    for section in ("article", "attachments", "conversation", "history"):
        assert section in out
    assert "稿件0.docx" in out
    assert "\x1b[" not in out


def test_show_raw_prints_the_original_bytes(sqlite_env: Env) -> None:
    raw = "Subject: =?utf-8?b?5oqV56i/?=\r\n\r\n正文\r\n".encode()
    _, path = sqlite_env.app.blobs.put("raw", raw)
    with sqlite_env.app.sessions() as session, session.begin():
        sid = add_submission(session, raw=raw, raw_path=path)
        bare = add_submission(session)
    result = sqlite_env.run("show", str(sid), "--raw")
    assert result.exit_code == 0
    assert result.stdout_bytes == raw
    result = sqlite_env.run("show", str(bare), "--raw")
    assert result.exit_code == 1
    assert result.stderr == f"intake: submission {bare}: the original message was not stored\n"


def test_show_unknown_id(sqlite_env: Env) -> None:
    result = sqlite_env.run("show", "4242")
    assert result.exit_code == 1
    assert result.stderr == "intake: no submission with id 4242\n"


# --------------------------------------------------------------------------- stats


def test_stats(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        for days, status in [
            (1, "received"),
            (2, "accepted"),
            (3, "published"),
            (4, "declined"),
            (20, "in_review"),
            (60, "declined"),
        ]:
            sid = add_submission(session, status=status, received_at=NOW - timedelta(days=days))
            if status in ("accepted", "published", "declined"):
                session.execute(
                    update(Submission)
                    .where(Submission.id == sid)
                    .values(decided_at=NOW - timedelta(days=days) + timedelta(hours=24 * days))
                )
        session.add(
            Claim(
                status="received",
                claimant="lawyer@example.com",
                subject="侵权",
                received_at=NOW,
                message_pk=1,
                updated_at=NOW,
            )
        )
        session.add(
            Claim(
                status="removed",
                claimant="lawyer@example.com",
                subject="侵权",
                received_at=NOW,
                message_pk=1,
                updated_at=NOW,
            )
        )
    data = env.json("stats")
    assert set(data) == STATS_KEYS
    assert data["total"] == 6
    assert data["by_status"] == {
        "received": 1,
        "in_review": 1,
        "needs_info": 0,
        "accepted": 1,
        "declined": 2,
        "published": 1,
        "withdrawn": 0,
        "duplicate": 0,
    }
    assert data["by_copyright_status"] == {"not_requested": 6}
    assert data["decided"] == 4
    # Decided after 2, 3, 4 and 60 days: the median is 3.5 days.
    assert data["median_days_to_decision"] == pytest.approx(3.5, abs=0.01)
    assert data["acceptance_rate"] == pytest.approx(0.5)
    assert data["overdue"] == 1
    assert data["open_claims"] == 1
    assert len(data["per_day"]) == 30
    assert sum(d["count"] for d in data["per_day"]) == 5
    assert data["per_day"][-1]["date"] == NOW.astimezone().date().isoformat()
    since = (NOW - timedelta(days=10)).astimezone().strftime("%Y-%m-%d")
    recent = env.json("stats", "--since", since)
    assert recent["total"] == 4 and recent["decided"] == 3
    assert recent["median_days_to_decision"] == pytest.approx(3.0, abs=0.01)


def test_stats_human_and_empty(sqlite_env: Env) -> None:
    empty = sqlite_env.json("stats")
    assert empty["median_days_to_decision"] is None and empty["acceptance_rate"] is None
    with sqlite_env.app.sessions() as session, session.begin():
        for _ in range(3):
            add_submission(session)
    out = sqlite_env.ok("stats")
    assert "█" in out
    assert "acceptance rate" in out


def test_bar_chart() -> None:
    from intake.cli.queue_cmds import bar

    assert bar(0, 10) == ""
    assert bar(10, 10, width=4) == "████"
    assert bar(5, 10, width=4) == "██"
    assert bar(1, 80, width=10) == "▏"  # an eighth of a cell
    assert bar(3, 8, width=2) == "▊"  # six eighths
    assert bar(1, 1000, width=10) == "▏"  # never invisible


# --------------------------------------------------------------------------- real processes


def _intake(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("intake")
    command = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from intake.cli import main; main()"]
    )
    return subprocess.run(
        [*command, "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )


def test_real_process_list_show_and_errors(sqlite_env: Env) -> None:
    with sqlite_env.app.sessions() as session, session.begin():
        sid = add_submission(session, article=ARTICLE_ZH)
    done = _intake(sqlite_env.config, "list", "--search", "复工复产", "--json")
    assert done.returncode == 0, done.stderr
    assert ids(json.loads(done.stdout)) == [sid]
    done = _intake(sqlite_env.config, "show", "999")
    assert done.returncode == 1
    assert done.stderr == "intake: no submission with id 999\n"
    done = _intake(sqlite_env.config, "list", "--limit", "0")
    assert done.returncode == 2


#: Runs one command in a fresh interpreter, then names the ORM modules it loaded.
ORM_PROBE = """
import sys
from intake.cli import cli
cli.main(args=sys.argv[1:], prog_name="intake", standalone_mode=False)
loaded = sorted(m for m in sys.modules if m == "sqlalchemy.orm" or m == "intake.store.models")
print("ORM:", ",".join(loaded) or "none", file=sys.stderr)
"""


def test_reading_commands_start_without_the_orm(env: Env) -> None:
    # The ORM and the models cost an editor about 0.1 s per command: list, show and stats
    # (and consent, versions) read Core tables instead. benchmarks/cli.py has the timings.
    with env.app.sessions() as session, session.begin():
        sid = add_submission(session, article=ARTICLE_ZH)
    for args in (
        ["list", "--search", "复工复产"],
        ["list", "--status", "received", "--overdue"],
        ["show", str(sid)],
        ["show", str(sid), "--json"],
        ["stats"],
        ["consent", str(sid)],
        ["versions", str(sid)],
    ):
        done = subprocess.run(
            [sys.executable, "-c", ORM_PROBE, "--config", str(env.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[-1] == "ORM: none", args


def test_the_collector_is_back_on_when_a_command_runs() -> None:
    # The entry point pauses the garbage collector while intake loads; the command group
    # turns it back on with what loaded frozen, so a long `intake run` collects as usual.
    import gc

    from intake.cli import startup_over

    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        startup_over()
        assert gc.isenabled()
        assert gc.get_freeze_count() > frozen
    finally:
        gc.enable()
        gc.unfreeze()
    startup_over()  # the collector was on (tests, Click's runner): nothing changes
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_real_process_runs_the_command_with_the_collector_on(sqlite_env: Env) -> None:
    probe = (
        "import gc, sys\n"
        "import intake.cli.queue_cmds as q\n"
        "q.queue_store.list_queue = lambda *a, **k: print('gc', gc.isenabled()) or []\n"
        "from intake.__main__ import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, "--config", str(sqlite_env.config), "list"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "gc True"


def test_shell_completion(sqlite_env: Env) -> None:
    script = _intake(sqlite_env.config, env={"_INTAKE_COMPLETE": "bash_source"})
    assert script.returncode == 0 and "_intake_completion" in script.stdout
    words = _intake(
        sqlite_env.config,
        env={"_INTAKE_COMPLETE": "bash_complete", "COMP_WORDS": "intake re", "COMP_CWORD": "1"},
    )
    assert {"plain,reopen", "plain,request-info"} <= set(words.stdout.split())


def test_schema_check_knows_the_head_without_alembic() -> None:
    """Every command checks the schema; it reads the head revision from the files itself."""
    from alembic.script import ScriptDirectory

    from intake import store

    alembic_head = ScriptDirectory.from_config(store.alembic_config("sqlite://")).get_current_head()
    assert store.head_revision() == alembic_head


def test_a_reader_that_goes_away_ends_the_command_quietly(sqlite_env: Env) -> None:
    # `intake list | head -1`, made certain: the reading end is closed before intake writes.
    with sqlite_env.app.sessions() as session, session.begin():
        add_submission(session, subject="投稿：春天")
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "intake", "--config", str(sqlite_env.config), "list"],
            stdout=write, capture_output=False, stderr=subprocess.PIPE, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write)
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
