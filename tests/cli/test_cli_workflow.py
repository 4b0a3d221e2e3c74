"""Staff actions: the editorial use case (with a fake reply queue behind its Protocol) and the
``intake accept/decline/.../assign/note/request-copyright`` commands (with the real one)."""

from __future__ import annotations

import secrets
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intake.core.errors import NotFound, TransitionRefused, UsageError
from intake.core.mail import Address, OutgoingMail
from intake.replies import mime
from intake.replies import render as replies
from intake.replies.letters import Letters, reply_of, with_text
from intake.store.models import Consent, Event, Outbox, Submission
from intake.submissions.editorial import Editorial
from intake.workflow.submission import Action
from tests import smtpserver
from tests.cli.test_cli_queue import Env, _intake, add_submission, make_env
from tests.smtpserver import SmtpServer

smtp_server = smtpserver.smtp_server  # the fixture, until tests/conftest.py imports it

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


# --------------------------------------------------------------------------- a fake reply queue


@dataclass(frozen=True)
class FakeQueued:
    outbox_id: int | None
    skipped: str = ""
    raw: bytes = b""  # empty: Letters reads the row's bytes back


@dataclass
class FakeReplier:
    """Renders the packaged templates as the real Replier does and writes an outbox row."""

    refuse: str = ""  # a rule name: queue nothing and say why
    calls: list[dict[str, Any]] = field(default_factory=list)

    def _build(
        self,
        session: Session,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None,
        automatic: bool,
    ) -> OutgoingMail:
        original = session.get(Submission, submission_id) if submission_id else None
        assert original is not None
        # What the real Replier fills in when the caller does not say.
        defaults: dict[str, object] = {
            "site_name": "南方日报",
            "contact": "",
            "name": to.name,
            "number": original.id,
            "title": original.title,
            "byline": to.name,
            "platforms": [],
            "exclusive": False,
            "term": "",
            "editing_allowed": True,
            "fee_policy": "",
            "terms": "",
            "terms_version": "t1",
        }
        rendered = replies.Renderer("", "zh").render(template, {**defaults, **context})
        return mime.build_message(
            rendered=rendered,
            from_address="投稿 <tougao@news.example>",
            to=to,
            message_id=f"{secrets.token_hex(8)}@news.example",
            in_reply_to=original.message.message_id,
            loop_value="test",
            date=T0,
            automatic=automatic,
            template=template,
        )

    def queue(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
        in_reply_to_pk: int | None = None,
        automatic: bool = True,
    ) -> FakeQueued:
        self.calls.append(
            {"template": template, "to": to, "context": dict(context), "automatic": automatic}
        )
        if self.refuse:
            return FakeQueued(None, self.refuse)
        mail = self._build(session, template, to, context, submission_id, automatic)
        row = Outbox(
            submission_id=submission_id,
            template=template,
            to_addr=to.addr,
            subject=mail.subject,
            message_id=mail.message_id,
            raw=mail.raw,
            next_attempt_at=T0,
            created_at=T0,
            automatic=automatic,
        )
        session.add(row)
        session.flush()
        return FakeQueued(row.id)

    def render_preview(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
    ) -> bytes:
        return self._build(session, template, to, context, submission_id, False).raw


@pytest.fixture
def env(tmp_path: Path, sqlite_url: str) -> Iterator[Env]:
    made = make_env(tmp_path, sqlite_url, replies={"site_name": "南方日报"})
    yield made
    made.app.close()


@pytest.fixture
def fake() -> FakeReplier:
    return FakeReplier()


@pytest.fixture
def editorial(env: Env, fake: FakeReplier) -> Editorial:
    return Editorial(env.app.settings, env.app.sessions, Letters(fake), lambda: T0)


def new(env: Env, **kwargs: Any) -> int:
    with env.app.sessions() as session, session.begin():
        return add_submission(session, received_at=T0 - timedelta(days=2), **kwargs)


def state(env: Env, sid: int) -> tuple[Submission, list[Event], list[Outbox]]:
    with env.app.sessions() as session:
        submission = session.get(Submission, sid)
        assert submission is not None
        events = list(
            session.scalars(select(Event).where(Event.submission_id == sid).order_by(Event.id))
        )
        outbox = list(
            session.scalars(select(Outbox).where(Outbox.submission_id == sid).order_by(Outbox.id))
        )
        return submission, events, outbox


def counts(env: Env) -> tuple[int, int]:
    with env.app.sessions() as session:
        return (
            session.execute(select(func.count()).select_from(Event)).scalar_one(),
            session.execute(select(func.count()).select_from(Outbox)).scalar_one(),
        )


# --------------------------------------------------------------------------- the use case

DECISIONS = [
    # action, from status, copyright, to status, template
    (Action.ACCEPT, "in_review", "not_requested", "accepted", "accepted"),
    (Action.DECLINE, "received", "not_requested", "declined", "declined"),
    (Action.REQUEST_INFO, "in_review", "not_requested", "needs_info", "needs_info"),
    (Action.PUBLISH, "accepted", "granted", "published", "published"),
    (Action.WITHDRAW, "published", "granted", "withdrawn", "withdrawn"),
    (Action.REOPEN, "declined", "not_requested", "in_review", None),
]


@pytest.mark.parametrize(("action", "before", "rights", "after", "template"), DECISIONS)
def test_decision_moves_records_and_replies(
    env: Env,
    editorial: Editorial,
    fake: FakeReplier,
    action: Action,
    before: str,
    rights: str,
    after: str,
    template: str | None,
) -> None:
    sid = new(env, status=before, copyright_status=rights)
    change = editorial.decide(
        sid, action, actor="li", message="请补充作者简介。", url="https://news.example/a/1"
    )
    assert (change.from_status, change.to_status) == (before, after)
    submission, events, outbox = state(env, sid)
    assert submission.status == after
    moves = [e for e in events if e.action == action.value]
    assert len(moves) == 1
    assert (moves[0].actor, moves[0].from_status, moves[0].to_status) == ("li", before, after)
    assert "请补充作者简介。" in moves[0].note
    if template is None:
        assert outbox == [] and fake.calls == [] and change.reply is None
        return
    assert [o.template for o in outbox] == [template]
    assert change.outbox_id == outbox[0].id
    call = fake.calls[0]
    assert call["automatic"] is False
    assert call["context"]["note"] == "请补充作者简介。"
    if action is Action.PUBLISH:
        assert call["context"]["url"] == "https://news.example/a/1"
    assert call["to"] == Address("张三", "zhangsan@qq.example")
    assert events[-1].action == "reply" and f"outbox #{outbox[0].id}" in events[-1].note
    assert change.reply is not None and "请补充作者简介。" in change.reply.text
    assert f"[投稿 #{sid}]" in change.reply.subject


def test_decisions_stamp_and_reopen_clears_decided_at(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="in_review")
    editorial.decide(sid, Action.DECLINE, actor="li", notify=False)
    assert state(env, sid)[0].decided_at is not None
    editorial.decide(sid, Action.REOPEN, actor="li")
    assert state(env, sid)[0].decided_at is None


def test_reopen_a_duplicate_forgets_the_original(env: Env, editorial: Editorial) -> None:
    first = new(env)
    sid = new(env, status="duplicate")
    with env.app.sessions() as session, session.begin():
        dup = session.get(Submission, sid)
        assert dup is not None
        dup.duplicate_of, dup.similarity = first, 0.97
    editorial.decide(sid, Action.REOPEN, actor="li")
    assert state(env, sid)[0].duplicate_of is None


def test_refused_move_changes_nothing(env: Env, editorial: Editorial, fake: FakeReplier) -> None:
    sid = new(env, status="published", copyright_status="granted")
    before = counts(env)
    with pytest.raises(
        TransitionRefused,
        match=r"is published: cannot move to accepted "
        r"\(allowed: withdrawn\)",
    ):
        editorial.decide(sid, Action.ACCEPT, actor="li")
    assert counts(env) == before
    assert state(env, sid)[0].status == "published"
    assert fake.calls == []


def test_unknown_submission(editorial: Editorial) -> None:
    with pytest.raises(NotFound, match="no submission with id 999"):
        editorial.decide(999, Action.ACCEPT, actor="li")


@pytest.mark.parametrize("rights", ["not_requested", "requested", "refused", "revoked"])
def test_publish_without_rights_is_refused(env: Env, editorial: Editorial, rights: str) -> None:
    sid = new(env, status="accepted", copyright_status=rights)
    with pytest.raises(TransitionRefused, match=f"copyright is {rights}"):
        editorial.decide(sid, Action.PUBLISH, actor="li", url="https://news.example/a")
    assert state(env, sid)[0].status == "accepted"


def test_publish_with_a_waiver_needs_its_note(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="accepted", copyright_status="waived")
    with pytest.raises(TransitionRefused, match="waiver has no note"):
        editorial.decide(sid, Action.PUBLISH, actor="li", url="https://news.example/a")
    with env.app.sessions() as session, session.begin():
        session.add(
            Consent(
                submission_id=sid,
                decision="waive",
                actor="chief",
                at=T0,
                note="作者是本报记者，职务作品",
            )
        )
    change = editorial.decide(sid, Action.PUBLISH, actor="li", url="https://news.example/a")
    assert change.to_status == "published"
    assert state(env, sid)[0].published_url == "https://news.example/a"


def test_publish_needs_a_url(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="accepted", copyright_status="granted")
    with pytest.raises(UsageError, match="--url"):
        editorial.decide(sid, Action.PUBLISH, actor="li", url="news.example/a")


def test_dry_run_changes_nothing(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="in_review")
    before = counts(env)
    change = editorial.decide(sid, Action.ACCEPT, actor="li", message="下周见报", dry_run=True)
    assert change.dry_run and change.to_status == "accepted"
    assert change.reply is not None
    assert "下周见报" in change.reply.text and "南方日报" in change.reply.text
    assert counts(env) == before
    assert state(env, sid)[0].status == "in_review"
    # A refused move is refused in a dry run too.
    with pytest.raises(TransitionRefused):
        editorial.decide(sid, Action.PUBLISH, actor="li", url="https://x.example", dry_run=True)


def test_edited_reply_is_what_is_queued(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="in_review")
    seen: list[str] = []

    def edit(text: str) -> str:
        seen.append(text)
        return "张三老师：\n\n稿件已采用，稿费下月发放。\n"

    change = editorial.decide(sid, Action.ACCEPT, actor="li", edit=edit)
    assert "采用" in seen[0]
    _, events, outbox = state(env, sid)
    msg = message_from_bytes(outbox[0].raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    assert msg.get_content_type() == "text/plain"  # the stale HTML alternative is gone
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None and "稿费下月发放" in body.get_content()
    assert msg["Message-ID"].strip("<>") == outbox[0].message_id
    assert f"[投稿 #{sid}]" in msg["Subject"]
    assert msg["In-Reply-To"]
    assert events[-1].note.endswith("(edited)")
    assert change.reply is not None and "稿费下月发放" in change.reply.text


def test_editor_quit_without_saving_sends_as_rendered(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="in_review")
    editorial.decide(sid, Action.ACCEPT, actor="li", edit=lambda text: None)
    _, events, outbox = state(env, sid)
    assert "采用" in reply_of("accepted", outbox[0].raw).text
    assert not events[-1].note.endswith("(edited)")


def test_emptied_reply_aborts(env: Env, editorial: Editorial) -> None:
    sid = new(env, status="in_review")
    before = counts(env)
    with pytest.raises(UsageError, match="empty"):
        editorial.decide(sid, Action.ACCEPT, actor="li", edit=lambda text: "  \n")
    assert counts(env) == before


def test_a_reply_the_outbox_refuses_is_recorded(env: Env, fake: FakeReplier) -> None:
    fake.refuse = "suppressed"
    editorial = Editorial(env.app.settings, env.app.sessions, Letters(fake), lambda: T0)
    sid = new(env, status="in_review")
    change = editorial.decide(sid, Action.ACCEPT, actor="li")
    assert change.to_status == "accepted" and change.skipped == "suppressed"
    assert state(env, sid)[1][-1].note == "accepted not sent: suppressed"


def test_no_replier_needs_no_notify(env: Env) -> None:
    editorial = Editorial(env.app.settings, env.app.sessions, Letters(None), lambda: T0)
    sid = new(env, status="in_review")
    with pytest.raises(UsageError, match="--no-notify"):
        editorial.decide(sid, Action.ACCEPT, actor="li")
    assert editorial.decide(sid, Action.ACCEPT, actor="li", notify=False).to_status == "accepted"


def test_first_assignment_or_note_starts_review(env: Env, editorial: Editorial) -> None:
    a, b = new(env), new(env)
    assert editorial.assign(a, "li", actor="chief").to_status == "in_review"
    change = editorial.assign(a, "wang", actor="chief")
    assert not change.moved
    with pytest.raises(UsageError, match="already assigned to wang"):
        editorial.assign(a, "wang", actor="chief")
    editorial.assign(a, "", actor="chief")
    submission, events, _ = state(env, a)
    assert submission.assignee == ""
    assert [(e.action, e.from_status, e.to_status, e.note) for e in events[1:]] == [
        ("assign", "received", "in_review", "assigned to li"),
        ("assign", "", "", "assigned to wang (was li)"),
        ("assign", "", "", "unassigned (was wang)"),
    ]
    assert editorial.note(b, "文笔不错，待核实数据", actor="li").to_status == "in_review"
    assert not editorial.note(b, "数据已核实", actor="li").moved
    with pytest.raises(UsageError):
        editorial.note(b, "  ", actor="li")


def test_request_copyright(env: Env, editorial: Editorial, fake: FakeReplier) -> None:
    sid = new(env, status="accepted")
    change = editorial.request_copyright(sid, actor="li", message="请尽快答复")
    submission, events, outbox = state(env, sid)
    assert submission.copyright_status == "requested"
    assert submission.copyright_requested_at is not None
    assert [o.template for o in outbox] == ["copyright_request"]
    assert (events[-2].action, events[-2].from_status, events[-2].to_status) == (
        "copyright_request",
        "not_requested",
        "requested",
    )
    assert change.reply is not None and "请尽快答复" in change.reply.text
    assert fake.calls[0]["automatic"] is False
    # A resend is fine; after a grant it is refused.
    editorial.request_copyright(sid, actor="li")
    with env.app.sessions() as session, session.begin():
        row = session.get(Submission, sid)
        assert row is not None
        row.copyright_status = "granted"
    with pytest.raises(TransitionRefused, match="copyright is granted"):
        editorial.request_copyright(sid, actor="li")


def test_with_text_keeps_headers() -> None:
    rendered = replies.RenderedText("主题", "原文", "<p>原文</p>")
    mail = mime.build_message(
        rendered=rendered,
        from_address="tougao@news.example",
        to=Address("", "a@qq.example"),
        message_id="abc@news.example",
        in_reply_to="theirs@qq.example",
        loop_value="x",
        date=T0,
        template="accepted",
    )
    raw = with_text(mail.raw, "新的正文\n")
    reply = reply_of("accepted", raw)
    assert reply.text == "新的正文\n" and reply.subject == "主题"
    for header in (
        b"Message-ID: <abc@news.example>",
        b"In-Reply-To: <theirs@qq.example>",
        b"Auto-Submitted: auto-replied",
        b"X-Intake-Loop: x",
    ):
        assert header in raw
    assert b"\r\n" in raw and b"text/html" not in raw


# --------------------------------------------------------------------------- the commands


def test_cli_decisions_without_notification(env: Env) -> None:
    sid = new(env)
    out = env.ok("accept", str(sid), "--no-notify", "--as", "李编辑", "-m", "好稿")
    assert out == f"#{sid} received -> accepted\n"
    result = env.run("accept", str(sid), "--no-notify")
    assert result.exit_code == 1
    assert result.stderr == (
        f"intake: submission {sid} is already accepted (allowed: published, declined, withdrawn)\n"
    )
    history = env.json("show", str(sid))["history"]
    assert history[-1] == {
        "at": history[-1]["at"],
        "actor": "李编辑",
        "action": "accept",
        "from": "received",
        "to": "accepted",
        "note": "好稿",
    }


def test_cli_actor_from_environment(env: Env) -> None:
    sid = new(env)
    env.ok("note", str(sid), "初审通过", env={"INTAKE_USER": "wang"})
    env.ok("assign", str(sid), "li", "--as", "chief", env={"INTAKE_USER": "wang"})
    history = env.json("show", str(sid))["history"]
    assert [(h["actor"], h["action"]) for h in history[1:]] == [
        ("wang", "note"),
        ("chief", "assign"),
    ]


def test_cli_json_results(env: Env) -> None:
    sid = new(env)
    data = env.json("assign", str(sid), "li")
    assert data == {
        "id": sid,
        "action": "assign",
        "from": "received",
        "to": "in_review",
        "dry_run": False,
        "outbox_id": None,
        "skipped": "",
        "reply": None,
    }


def test_cli_publish_needs_url_and_rights(env: Env) -> None:
    sid = new(env, status="accepted")
    result = env.run("publish", str(sid), "--no-notify")
    assert result.exit_code == 1 and "--url" in result.stderr and "--note" in result.stderr
    result = env.run("publish", str(sid), "--no-notify", "--url", "news.example/1")
    assert result.exit_code == 1 and "http(s)" in result.stderr
    result = env.run("publish", str(sid), "--no-notify", "--url", "https://news.example/1")
    assert result.exit_code == 1
    assert "copyright is not_requested, publishing needs granted or waived" in result.stderr


def test_cli_publish_a_print_only_piece_with_a_note(env: Env) -> None:
    sid = new(env, status="accepted")
    with env.app.sessions() as session, session.begin():
        session.get(Submission, sid).copyright_status = "granted"  # type: ignore[union-attr]
    out = env.ok("publish", str(sid), "--no-notify", "--note", "刊于 11月22日 第6版")
    assert out == f"#{sid} accepted -> published\n"
    data = env.json("show", str(sid))
    assert data["status"] == "published" and data["published_url"] == ""
    assert data["history"][-1]["note"] == "刊于 11月22日 第6版"


def test_cli_reopen_and_withdraw(env: Env) -> None:
    sid = new(env, status="declined")
    assert env.ok("reopen", str(sid)) == f"#{sid} declined -> in_review\n"
    assert env.ok("withdraw", str(sid), "--no-notify") == f"#{sid} in_review -> withdrawn\n"
    assert env.ok("reopen", str(sid), "--dry-run").startswith("dry run, nothing changed")
    assert env.json("show", str(sid))["status"] == "withdrawn"


def test_cli_unknown_id_and_help(env: Env) -> None:
    result = env.run("decline", "4242", "--no-notify")
    assert result.exit_code == 1
    assert result.stderr == "intake: no submission with id 4242\n"
    for command in (
        "accept",
        "decline",
        "request-info",
        "publish",
        "withdraw",
        "reopen",
        "request-copyright",
        "assign",
        "note",
        "stats",
        "list",
        "show",
    ):
        assert env.ok(command, "--help")


def test_real_process_refusal_is_one_line(env: Env) -> None:
    sid = new(env, status="published", copyright_status="granted")
    done = _intake(env.config, "decline", str(sid), "--no-notify")
    assert done.returncode == 1
    assert done.stderr == (
        f"intake: submission {sid} is published: cannot move to declined (allowed: withdrawn)\n"
    )
    done = _intake(env.config, "assign", str(sid))
    assert done.returncode == 2


# -------------------------------------------------- with the real Replier (intake.replies.queue)


def test_cli_accept_queues_the_accepted_reply(env: Env) -> None:
    sid = new(env, status="in_review")
    out = env.ok("accept", str(sid), "-m", "下周见报", "--as", "li")
    submission, events, outbox = state(env, sid)
    assert [(o.template, o.automatic, o.state) for o in outbox] == [("accepted", False, "pending")]
    assert f"reply accepted queued (outbox #{outbox[0].id})" in out
    reply = reply_of("accepted", outbox[0].raw)
    assert "下周见报" in reply.text and f"[投稿 #{sid}]" in reply.subject
    assert [e.action for e in events[-2:]] == ["accept", "reply"]
    shown = env.json("show", str(sid))["outbox"]
    assert [o["template"] for o in shown] == ["accepted"]


def test_cli_dry_run_prints_the_reply(env: Env) -> None:
    sid = new(env, status="in_review")
    before = counts(env)
    out = env.ok("decline", str(sid), "--dry-run", "-m", "题材重复")
    assert out.startswith(f"dry run, nothing changed: #{sid} in_review -> declined")
    assert "Subject: " in out and "题材重复" in out
    assert counts(env) == before


def test_cli_edit_opens_the_editor(env: Env, tmp_path: Path) -> None:
    sid = new(env, status="in_review")
    script = tmp_path / "editor.py"
    script.write_text(
        "import os, sys\n"
        "path = sys.argv[1]\n"
        "text = open(path, encoding='utf-8').read()\n"
        "open(path, 'w', encoding='utf-8').write(text.replace('采用', '录用'))\n"
        "st = os.stat(path)\n"
        "os.utime(path, (st.st_atime + 5, st.st_mtime + 5))\n",  # a save the editor can see
        encoding="utf-8",
    )
    editor = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    env.ok("accept", str(sid), "--edit", env={"EDITOR": editor, "VISUAL": editor})
    outbox = state(env, sid)[2]
    text = reply_of("accepted", outbox[0].raw).text
    assert "录用" in text and "采用" not in text


def test_cli_request_copyright(env: Env) -> None:
    sid = new(env, status="in_review")
    out = env.ok("request-copyright", str(sid))
    assert "copyright_request queued" in out
    assert state(env, sid)[0].copyright_status == "requested"


def test_accept_reaches_the_smtp_server(
    tmp_path: Path, sqlite_url: str, smtp_server: SmtpServer
) -> None:
    """End to end: ``intake accept`` queues, ``intake send`` delivers to a real SMTP server."""
    made = make_env(
        tmp_path,
        sqlite_url,
        smtp={
            "host": smtp_server.host,
            "port": smtp_server.port,
            "security": "none",
            "from_address": "投稿 <tougao@news.example>",
            "timeout": 10.0,
        },
    )
    try:
        with made.app.sessions() as session, session.begin():
            sid = add_submission(session, status="in_review", received_at=T0)
            theirs = session.get(Submission, sid)
            assert theirs is not None
            their_id = theirs.message.message_id
        made.ok("accept", str(sid))
        made.ok("send")
        (received,) = smtp_server.wait_for(1)
        msg = message_from_bytes(received.data, policy=email_policy.default)
        assert f"[投稿 #{sid}]" in msg["Subject"]
        assert msg["In-Reply-To"].strip() == f"<{their_id}>"
        assert received.rcpt_tos == ("zhangsan@qq.example",)
    finally:
        made.app.close()
