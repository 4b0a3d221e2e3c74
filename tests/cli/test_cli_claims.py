"""``intake claims``, ``intake claim …`` and ``intake reclassify`` against a real database, with
claims made by the real ingest pipeline and letters queued by the real Replier."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from intake.core.mail import MessageRef, RawMail
from intake.store.models import Claim, Outbox, Submission
from tests.cli.test_cli_queue import Env, _intake, add_submission, make_env
from tests.helpers import submission
from tests.smtpserver import SmtpServer

DATA = Path(__file__).parents[1] / "data" / "claims"
SUMMARY_KEYS = {
    "id", "status", "claimant", "claimant_name", "subject", "received_at", "urls", "work_title",
    "demand", "deadline", "overdue", "assignee", "amount", "history",
}  # fmt: skip
SHOW_KEYS = SUMMARY_KEYS | {
    "text", "score", "signals", "message_pk", "linked_submission", "attachments", "messages",
    "outbox",
}  # fmt: skip
HISTORY_KEYS = {"at", "actor", "action", "from", "to", "note"}
CHANGE_KEYS = {"id", "action", "from", "to", "dry_run", "outbox_id", "skipped", "reply"}
QQ_URL = "https://www.nsnews.example/wenhua/2024/0508/61207.html"


def make(tmp_path: Path, db_url: str, smtp_server: SmtpServer) -> Env:
    return make_env(
        tmp_path,
        db_url,
        site={"name": "南山新闻网", "domains": ["nsnews.example"]},
        smtp={"host": smtp_server.host, "port": smtp_server.port, "security": "none",
              "from_address": "南山新闻网投稿 <tougao@nsnews.example>"},
    )  # fmt: skip


@pytest.fixture
def env(tmp_path: Path, db_url: str, smtp_server: SmtpServer) -> Iterator[Env]:
    made = make(tmp_path, db_url, smtp_server)
    yield made
    made.app.close()


@pytest.fixture
def sqlite_env(tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer) -> Iterator[Env]:
    made = make(tmp_path, sqlite_url, smtp_server)
    yield made
    made.app.close()


def ingest(env: Env, *mails: str | bytes) -> None:
    """Mail (a file name here, or bytes) through the real pipeline, without IMAP."""
    for uid, mail in enumerate(mails, start=1):
        raw = (DATA / mail).read_bytes() if isinstance(mail, str) else mail
        env.app.ingestor.ingest(RawMail(MessageRef("submissions", "INBOX", 1, uid), raw))


def claim_ids(env: Env) -> list[int]:
    with env.app.sessions() as session, session.begin():
        return list(session.scalars(select(Claim.id).order_by(Claim.id)))


def test_claims_listing_fields_order_and_filters(env: Env) -> None:
    ingest(env, "claim-zh-qq-url.eml", "claim-en-gmail-url.eml", "claim-zh-foxmail-no-url.eml")
    first, second, third = claim_ids(env)
    now = datetime.now(UTC)
    with env.app.sessions() as session, session.begin():
        # The first is past its deadline, the third is settled.
        session.execute(
            update(Claim).where(Claim.id == first).values(deadline=now - timedelta(hours=1))
        )
        session.execute(update(Claim).where(Claim.id == third).values(status="resolved_removed"))
    rows: list[dict[str, Any]] = env.json("claims")
    assert [r["id"] for r in rows] == [first, second, third]  # open first, nearest deadline
    assert all(set(r) == SUMMARY_KEYS for r in rows)
    top = rows[0]
    assert (top["status"], top["claimant"], top["claimant_name"]) == (
        "received", "1378921456@qq.example", "李秋萍",
    )  # fmt: skip
    assert (top["urls"], top["work_title"], top["demand"]) == ([QQ_URL], "老屋的桂花树", "both")
    assert top["overdue"] is True and rows[1]["overdue"] is False
    assert top["received_at"].endswith("+00:00") and top["deadline"].endswith("+00:00")
    assert [h["action"] for h in top["history"]] == ["received", "reply"]
    assert all(set(h) == HISTORY_KEYS for h in top["history"])
    assert top["history"][0]["to"] == "received" and top["history"][0]["actor"] == "intake"

    assert [r["id"] for r in env.json("claims", "--overdue")] == [first]
    assert [r["id"] for r in env.json("claims", "--status", "resolved_removed")] == [third]
    assert env.json("claims", "--status", "needs_info") == []
    env.ok("claim", "assign", str(second), "法务")
    assert [r["id"] for r in env.json("claims", "--assignee", "法务")] == [second]
    assert [r["id"] for r in env.json("claims", "--assignee", "-")] == [first, third]

    table = env.ok("claims", env={"COLUMNS": "160"})
    assert "老屋的桂花树" in table and "!" in table and "resolved_removed" in table
    # The counts other commands show.
    assert env.json("stats")["open_claims"] == 2


def test_claim_show(env: Env) -> None:
    with env.app.sessions() as session, session.begin():
        sid = add_submission(session, subject="投稿：江畔晨读", article="正文" * 30)
        session.execute(
            update(Submission)
            .where(Submission.id == sid)
            .values(status="published", title="江畔晨读",
                    published_url="https://www.nsnews.example/wenhua/2024/0301/60015.html")
        )  # fmt: skip
    ingest(env, "claim-zh-lawyer-letter-pdf.eml")
    (cid,) = claim_ids(env)
    data = env.json("claim", "show", str(cid))
    assert set(data) == SHOW_KEYS
    assert data["linked_submission"] == {
        "id": sid,
        "status": "published",
        "title": "江畔晨读",
        "published_url": "https://www.nsnews.example/wenhua/2024/0301/60015.html",
    }
    assert data["score"] >= 3.0 and any(s.startswith("lawyer_letter") for s in data["signals"])
    assert "附件为本所受托发出的律师函" in data["text"]
    (letter,) = data["attachments"]
    assert letter["filename"] == "律师函.pdf" and "侵犯了委托人" in letter["text"]
    assert [m["original"] for m in data["messages"]] == [True]
    assert [o["template"] for o in data["outbox"]] == ["claim_ack"]
    assert [h["action"] for h in data["history"]] == ["received", "claim_linked", "reply"]

    assert letter["text_chars"] > 100 and letter["meta"] == {"pages": 1} and not letter["encrypted"]
    (ack,) = data["outbox"]
    assert "版权投诉" in ack["text"]

    # The same parts as a submission's show: letter, evidence with its facts and its text,
    # conversation with our letters' own words, history.
    human = env.ok("claim", "show", str(cid))
    for part in ("── letter", f"── evidence (intake claim attachment {cid} N)",
                 "1  律师函.pdf", "chars", "侵犯了委托人", "── conversation", "claim_ack [",
                 "── history", f"#{sid} published", "江畔晨读"):  # fmt: skip
        assert part in human, part
    result = env.run("claim", "show", "99")
    assert result.exit_code == 1


def test_claim_attachment_save_open_and_pipe(env: Env, tmp_path: Path) -> None:
    ingest(env, "claim-zh-lawyer-letter-pdf.eml")
    (cid,) = claim_ids(env)
    folder = tmp_path / "saved"
    folder.mkdir()
    out = env.ok("claim", "attachment", str(cid), "1", "--save", str(folder))
    (saved,) = folder.iterdir()
    assert out == f"claim #{cid} attachment 1 saved to {saved}\n"
    assert saved.read_bytes().startswith(b"%PDF")
    seen = tmp_path / "opened"
    opener = tmp_path / "opener.sh"
    opener.write_text(f'#!/bin/sh\ncp "$1" {seen}\n')
    opener.chmod(0o755)
    out = env.ok("claim", "attachment", str(cid), "1", "--open", env={"INTAKE_OPENER": str(opener)})
    assert out.startswith(f"claim #{cid} attachment 1 opened (")
    piped = env.run("claim", "attachment", str(cid), "1")
    assert piped.exit_code == 0 and piped.stdout_bytes == saved.read_bytes()
    result = env.run("claim", "attachment", str(cid), "2")
    assert result.stderr == f"intake: claim {cid} has 1 attachment: there is no number 2\n"
    assert env.run("claim", "attachment", "99", "1").stderr == "intake: no claim with id 99\n"
    both = env.run("claim", "attachment", str(cid), "1", "--open", "--save", str(folder))
    assert both.exit_code == 1 and "not both" in both.stderr


def test_staff_commands(env: Env, smtp_server: SmtpServer) -> None:
    ingest(env, "claim-zh-qq-url.eml")
    (cid,) = claim_ids(env)
    c = str(cid)

    dry = env.ok("claim", "request-info", c, "--dry-run", "-m", "请提供原稿照片。")
    assert dry.startswith(f"dry run, nothing changed: claim #{cid} received -> needs_info")
    assert f"Subject: [版权 #{cid}] 请补充投诉材料" in dry and "请提供原稿照片。" in dry
    assert env.json("claim", "show", c)["status"] == "received"

    done = env.json("claim", "request-info", c, "--as", "王编辑", "-m", "请提供原稿照片。")
    assert set(done) == CHANGE_KEYS
    assert (done["from"], done["to"], done["reply"]["template"]) == (
        "received", "needs_info", "claim_needs_info",
    )  # fmt: skip
    assert done["outbox_id"] is not None
    assert env.json("claim", "investigate", c)["to"] == "investigating"
    assert env.ok("claim", "note", c, "已核实页面", "--as", "李律师") == (
        f"claim #{cid} investigating\n"
    )
    history = env.json("claim", "show", c)["history"]
    assert (history[-1]["actor"], history[-1]["note"]) == ("李律师", "已核实页面")
    assert any(h["actor"] == "王编辑" and h["to"] == "needs_info" for h in history)

    quiet = env.json("claim", "resolve", c, "removed", "--no-notify")
    assert (quiet["to"], quiet["outbox_id"], quiet["reply"]) == ("resolved_removed", None, None)
    env.ok("claim", "investigate", c)
    paid = env.ok("claim", "resolve", c, "paid", "--amount", "800元")
    assert paid.startswith(f"claim #{cid} investigating -> resolved_paid; letter claim_paid queued")
    with env.app.sessions() as session, session.begin():
        templates = list(session.scalars(select(Outbox.template).order_by(Outbox.id)))
    assert templates == ["claim_ack", "claim_needs_info", "claim_paid"]
    assert env.json("claim", "show", c)["amount"] == "800元"


def test_refusals_are_one_line_and_exit_1(sqlite_env: Env) -> None:
    ingest(sqlite_env, "claim-zh-foxmail-no-url.eml")
    (cid,) = claim_ids(sqlite_env)
    done = _intake(sqlite_env.config, "claim", "resolve", str(cid), "removed")
    assert done.returncode == 1
    assert done.stderr == (
        f"intake: claim {cid} is received: cannot move to resolved_removed "
        "(allowed: investigating, needs_info, rejected)\n"
    )
    result = sqlite_env.run("claim", "resolve", str(cid), "paid")
    assert (result.exit_code, result.stderr.count("\n")) == (1, 1)
    assert "resolve paid needs --amount" in result.stderr
    result = sqlite_env.run("claim", "resolve", str(cid), "rejected")
    assert result.exit_code == 1 and "needs --message" in result.stderr
    assert sqlite_env.run("claim", "resolve", str(cid), "gone").exit_code == 2  # not an outcome
    result = sqlite_env.run("claim", "investigate", "42")
    assert (result.exit_code, result.stderr) == (1, "intake: no claim with id 42\n")


def test_reclassify_command(sqlite_env: Env) -> None:
    env = sqlite_env
    ingest(env, submission(subject="关于《山路弯弯》", body="你们网站上那篇是我写的。"))
    with env.app.sessions() as session, session.begin():
        sid, mid = session.execute(select(Submission.id, Submission.message_pk)).one()
    made = env.json("reclassify", str(sid), "claim", "--submission", "-m", "版权投诉")
    assert made["kind"] == "claim" and made["closed"] == f"submission #{sid} withdrawn"
    assert made["message_id"] == mid and made["outbox_id"] is None
    back = env.ok("reclassify", str(made["claim_id"]), "submission", "--claim")
    assert back == (
        f"message {mid} is now submission: submission #{sid}; claim #{made['claim_id']} rejected\n"
    )
    result = env.run("reclassify", str(mid), "submission", "--message")
    assert result.exit_code == 1
    assert result.stderr == f"intake: message {mid} is already submission #{sid}\n"
    assert env.run("reclassify", str(mid), "spam").exit_code == 2
    # The id `intake list` shows is the default for `claim`, the one `intake claims` shows for
    # `submission`: the old flags still say so explicitly.
    again = env.json("reclassify", str(sid), "claim", "--note", "还是版权投诉")
    assert again["message_id"] == mid and again["claim_id"] == made["claim_id"]
    back = env.json("reclassify", str(again["claim_id"]), "submission")
    assert back["submission_id"] == sid and back["message_id"] == mid
    result = env.run("reclassify", "9999", "claim")
    assert (result.exit_code, result.stderr) == (1, "intake: no submission with id 9999\n")
