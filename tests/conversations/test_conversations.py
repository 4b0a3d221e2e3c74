"""Conversations end to end: replies land on their submission (threading, versions), a
contributor's "同意" becomes consent with evidence and a receipt, bounces fail our replies and
suppress the address, duplicates are linked and answered with the short notice, and the
copyright request is reminded and expires. Mail goes through the real ingest pipeline and a real
database; the end-to-end tests use the Dovecot and aiosmtpd servers the suite starts."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.adapters import dkim as dkimcheck
from intake.adapters.memory.dns import StaticResolver
from intake.app import App
from intake.cli import cli
from intake.conversations.copyright import run_copyright_maintenance
from intake.core.mail import MessageRef, RawMail
from intake.ingest.pipeline import Outcome
from intake.replies.letters import Letters
from intake.store.models import (
    Consent,
    Event,
    Fingerprint,
    Message,
    Outbox,
    Submission,
    Suppression,
)
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
FAKE_SMTP = SimpleNamespace(host="127.0.0.1", port=2525)  # settings only: nothing is sent
REPLIES = Path(__file__).parents[1] / "data" / "replies"
CLASSIFY = Path(__file__).parents[1] / "data" / "classify"
BOUNCES = Path(__file__).parents[1] / "data" / "mail" / "bounces"
FIXTURE_ID = "intake.6938f1a0.mfrggzdfmztwq.k7x2m4q9hv3c5a8d@nsnews.example"
QQ = "张三 <1234567890@qq.com>"
ARTICLE = (
    "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺，每天清晨五点半准时亮灯，"
    "老板王师傅说，这是他父亲留下的规矩。我第一次走进这条街是在2019年，那时我刚到这座城市工作，"
    "租住在巷子尽头的一间阁楼里。每天下班，我都会绕路经过这里，看看修鞋的李大爷，听听茶馆里的评书。"
    "后来城市改造，很多老房子拆了，街坊们也陆续搬走。可每到春天，总有人回来看看那棵老槐树。"
)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def build(tmp_path: Path, db_url: str, clock: Clock, **kwargs: Any) -> App:
    settings = settings_for(
        tmp_path,
        db_url,
        kwargs.pop("dovecot", None),
        kwargs.pop("account", None),
        smtp=kwargs.pop("smtp", FAKE_SMTP),
        replies={"site_name": "南山新闻网"},
        copyright={
            "terms": "第一条 作者授权本网……",
            "terms_version": "2026-1",
            "platforms": ["本网站"],
        },
        **kwargs,
    )
    return make_app(settings, clock=clock)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build(tmp_path, sqlite_url, clock)
    yield made
    made.close()


_uids = iter(range(1, 1_000_000))


def ingest(app: App, raw: bytes) -> Outcome:
    ref = MessageRef("submissions", "INBOX", 1, next(_uids))
    return app.ingestor.ingest(RawMail(ref, raw, app.clock()))


def query(app: App, model: type, *where: Any) -> list[Any]:
    with app.sessions() as session, session.begin():
        return list(session.scalars(select(model).where(*where).order_by(model.id)))  # type: ignore[attr-defined]


def outbox(app: App) -> list[tuple[int | None, str]]:
    return [(o.submission_id, o.template) for o in query(app, Outbox)]


def request_id(app: App, submission_id: int = 1) -> str:
    (row,) = query(
        app, Outbox, Outbox.template == "copyright_request", Outbox.submission_id == submission_id
    )
    return str(row.message_id)


def client_reply(name: str, our_id: str) -> bytes:
    """A fixture reply from tests/data/replies, answering our real request."""
    return (REPLIES / name).read_bytes().replace(FIXTURE_ID.encode(), our_id.encode())


def reply(
    our_id: str = "", body: str = "同意", sender: str = "张三 <zhangsan@qq.example>", **kwargs: Any
) -> bytes:
    headers = {"In-Reply-To": f"<{our_id}>", "References": f"<{our_id}>"} if our_id else {}
    headers.update(kwargs.pop("headers", {}))
    return submission(sender=sender, body=body, headers=headers, **kwargs)


def cli_run(app: App, tmp_path: Path, *args: str) -> Any:
    config = tmp_path / "intake.toml"
    config.write_text(
        f'[database]\nurl = "{app.settings.database.url}"\n'
        f'[storage]\npath = "{app.settings.storage.path}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), *args], env={"NO_COLOR": "1", "INTAKE_USER": "wang"}
    )
    return result


# =========================================================================== end to end


def test_consent_from_a_qq_mail_reply_end_to_end(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
) -> None:
    app = build(tmp_path, db_url, Clock(datetime.now(UTC)), dovecot=dovecot,
                account=imap_account, smtp=smtp_server)  # fmt: skip
    box = app.settings.mailboxes[0]
    try:
        dovecot.append(*imap_account, "INBOX", submission(sender=QQ, body=ARTICLE))
        assert app.poll_mailbox(box).new == 1
        assert app.deliver_outbox().sent == 2  # ack + copyright request
        asked = request_id(app)
        # As QQ's server sends it: CRLF line ends (the fixture file has LF).
        raw = client_reply("qq-web.eml", asked).replace(b"\n", b"\r\n")
        dovecot.append(*imap_account, "INBOX", raw)
        assert app.poll_mailbox(box).new == 1

        (message,) = query(app, Message, Message.kind == "reply")
        assert message.submission_id == 1
        (sub,) = query(app, Submission)  # a reply, never a new submission
        assert (sub.copyright_status, sub.terms_version, sub.flagged) == ("granted", "2026-1", "")
        (evidence,) = query(app, Consent)
        assert evidence.decision == "grant" and evidence.phrase == "同意"
        assert evidence.sha256 == hashlib.sha256(raw).hexdigest()
        assert app.blobs.get(evidence.raw_path) == raw
        assert evidence.message_id == "tencent_8F2C5D3E9A1B7C4D6E0F1A2B3C4D5E6F7A08@qq.com"
        assert evidence.in_reply_to == asked
        assert (evidence.sender, evidence.dkim, evidence.terms_version) == (
            "1234567890@qq.com", "none", "2026-1",
        )  # fmt: skip
        # No second acknowledgment: the only new reply is the receipt, threaded to the answer.
        assert [t for _, t in outbox(app)] == ["ack", "copyright_request", "consent_receipt"]
        assert app.deliver_outbox().sent == 1
        receipt = parse(smtp_server.wait_for(3)[2].data)
        assert receipt["In-Reply-To"] == f"<{evidence.message_id}>"
        assert "[投稿 #1]" in str(receipt["Subject"]) and "2026-1" in receipt.get_content()
        actions = [e.action for e in query(app, Event, Event.submission_id == 1)]
        assert "reply" in actions and "copyright" in actions

        result = cli_run(app, tmp_path, "show", "1", "--json")
        assert result.exit_code == 0, result.output
        shown = json.loads(result.output)["consent"]
        assert shown["status"] == "granted" and shown["terms_version"] == "2026-1"
        (latest,) = shown["evidence"]
        assert {k: latest[k] for k in ("message_id", "sha256", "phrase", "dkim")} == {
            "message_id": evidence.message_id, "sha256": evidence.sha256, "phrase": "同意",
            "dkim": "none",
        }  # fmt: skip
        assert latest["at"]
    finally:
        app.close()


def test_bounce_of_our_acknowledgment_in_postfix_format(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
) -> None:
    now = datetime.now(UTC)
    app = build(tmp_path, sqlite_url, Clock(now), dovecot=dovecot, account=imap_account,
                smtp=smtp_server)  # fmt: skip
    box = app.settings.mailboxes[0]
    try:
        dovecot.append(*imap_account, "INBOX", submission(sender="王五 <wangwu2019@163.com>"))
        app.poll_mailbox(box)
        app.deliver_outbox()
        (ack,) = query(app, Outbox, Outbox.template == "ack")
        # Postfix's DSN (tests/data/classify/bounce-postfix.eml) returning our acknowledgment;
        # the gateway upper-cased its Message-ID, which the HMAC still recognises.
        dsn = (
            (CLASSIFY / "bounce-postfix.eml")
            .read_bytes()
            .replace(b"i.123.1709604901.7c0f3e2a9b@nsnews.example", ack.message_id.upper().encode())
        )
        dovecot.append(*imap_account, "INBOX", dsn)
        app.poll_mailbox(box)
        (row,) = query(app, Outbox, Outbox.id == ack.id)
        assert row.state == "failed"
        assert "550 User not found" in row.last_error
        with app.sessions() as session, session.begin():
            (blocked,) = session.scalars(select(Suppression)).all()
        assert blocked.address == "wangwu2019@163.com" and "550" in blocked.reason
        until = blocked.until.replace(tzinfo=UTC) if blocked.until.tzinfo is None else blocked.until
        assert until - now == timedelta(days=60)
        (event,) = query(app, Event, Event.action == "bounce")
        assert event.submission_id == 1 and "ack to wangwu2019@163.com" in event.note
        assert len(query(app, Submission)) == 1  # a bounce is never a submission
    finally:
        app.close()


# =========================================================================== threading


def test_every_client_format_is_read_through_the_pipeline(app: App) -> None:
    for n, (name, decision) in enumerate(
        [("foxmail.eml", "grant"), ("netease-mailmaster.eml", "refuse"),
         ("outlook-desktop-zh.eml", "refuse"), ("gmail-en.eml", "grant"),
         ("iphone-zh.eml", "grant"), ("netease-webmail.eml", "grant")],
        start=1,
    ):  # fmt: skip
        raw = (REPLIES / name).read_bytes()
        sender = parse(raw)["From"].addresses[0]
        ingest(app, submission(sender=f"x <{sender.addr_spec}>", body=f"第{n}篇。" + ARTICLE[n:]))
        assert ingest(app, client_reply(name, request_id(app, n))) is Outcome.NEW
        (sub,) = query(app, Submission, Submission.id == n)
        assert sub.copyright_status == {"grant": "granted", "refuse": "refused"}[decision], name
    assert len(query(app, Submission)) == 6
    assert [c.decision for c in query(app, Consent)] == [
        "grant",
        "refuse",
        "refuse",
        "grant",
        "grant",
        "grant",
    ]
    # The 163 reply carries a DKIM-Signature: checked (no DNS here: an error, never "fail").
    assert query(app, Consent)[-1].dkim.startswith(("error", "fail"))


def test_reply_found_by_subject_token_only(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    # Foxmail to a different address, headers stripped by a forwarder: the token remains.
    ingest(
        app,
        reply(subject="Re: [投稿 #1] 版权授权请求：《春天的故事》", sender="张三 <zs@foxmail.com>"),
    )
    (message,) = query(app, Message, Message.kind == "reply")
    assert message.submission_id == 1
    (sub,) = query(app, Submission)
    # "同意" from another address than the contributor's is kept and flagged, never applied.
    assert sub.copyright_status == "requested" and "not from the contributor" in sub.flagged
    assert query(app, Consent) == []


def test_last_resort_same_sender_same_subject(app: App, clock: Clock) -> None:
    ingest(app, submission(subject="投稿：《春天的故事》", body=ARTICLE))
    clock.advance(days=3)
    ingest(app, reply(subject="回复：投稿：《春天的故事》", body="老师，请问收到了吗？"))
    (message,) = query(app, Message, Message.kind == "reply")
    assert message.submission_id == 1
    # Another sender with the same subject is not the same conversation.
    ingest(
        app,
        reply(subject="RE: 投稿：《春天的故事》", body="你好", sender="李四 <lisi@163.example>"),
    )
    assert len(query(app, Message, Message.kind == "reply")) == 1
    # Without "Re:" and without threading headers it is a new piece, not a reply.
    ingest(
        app,
        submission(subject="投稿：《春天的故事》", body="另一篇完全不同的稿件。" + ARTICLE[::-1]),
    )
    assert len(query(app, Submission, Submission.sender == "zhangsan@qq.example")) == 2
    # After 30 days the subject no longer threads.
    clock.advance(days=31)
    ingest(
        app,
        reply(
            subject="Fwd： 投稿：《春天的故事》", body="再问一下", message_id="<late@qq.example>"
        ),
    )
    assert len(query(app, Message, Message.kind == "reply")) == 1


def test_reply_with_a_revised_docx_is_a_new_version(app: App, tmp_path: Path) -> None:
    ingest(app, submission(body=ARTICLE))
    revised = (
        "《老街》（修改稿）\n" + ARTICLE.replace("李大爷", "李师傅") + "后记：谨以此文献给老街坊。"
    )
    document = docx.Document()
    for paragraph in revised.split("\n"):
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    attachment = (
        "老街-修改稿.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        buffer.getvalue(),
    )
    ingest(app, reply(request_id(app), body="老师好，修改稿见附件。", attachments=[attachment]))
    (sub,) = query(app, Submission)
    assert "谨以此文献给老街坊" in sub.article_text
    assert sub.article_source == "老街-修改稿.docx"
    assert sub.char_count > len(ARTICLE)
    result = cli_run(app, tmp_path, "show", "1", "--json")
    versions = json.loads(result.output)["versions"]
    assert [v["number"] for v in versions] == [1, 2]
    assert versions[1]["char_count"] == sub.char_count
    # The reply asked no copyright question: unclear, flagged for an editor, status unchanged.
    assert sub.copyright_status == "requested" and "unclear" in sub.flagged
    assert len(query(app, Submission)) == 1
    assert "ack" not in [t for sid, t in outbox(app)[2:]]


# =========================================================================== consent


def test_refusal_gets_a_receipt_and_no_grant(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    ingest(app, client_reply("outlook-desktop-zh.eml", request_id(app)).replace(
        b"lisi@outlook.example", b"zhangsan@qq.example"))  # fmt: skip
    (sub,) = query(app, Submission)
    assert sub.copyright_status == "refused"
    (row,) = query(app, Outbox, Outbox.template == "consent_receipt")
    assert "不同意授权" in parse(row.raw).get_content()


@pytest.mark.parametrize(
    ("body", "status", "flag"),
    [
        ("不同意", "refused", ""),
        ("同意吗？需要签合同吗？", "requested", "unclear"),
        ("I agree 同意，但我爱人不同意", "requested", "unclear"),
        ("Agreed! 同意授权。", "granted", ""),
    ],
)
def test_consent_traps(app: App, body: str, status: str, flag: str) -> None:
    ingest(app, submission(body=ARTICLE))
    ingest(app, reply(request_id(app), body=body))
    (sub,) = query(app, Submission)
    assert sub.copyright_status == status
    assert flag in sub.flagged and bool(flag) == bool(sub.flagged)
    (evidence,) = query(app, Consent)
    assert evidence.decision == {"refused": "refuse", "granted": "grant"}.get(status, "unclear")


def test_quoted_request_is_not_read_as_an_answer(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    request = parse(query(app, Outbox, Outbox.template == "copyright_request")[0].raw)
    quoted = "\n".join("> " + line for line in request.get_content().splitlines())
    # Nothing new above the quote of our request (which says both 同意 and 不同意).
    ingest(
        app, reply(request_id(app), body=f"\n在 2026年11月20日 09:30，南山新闻网 写道：\n{quoted}")
    )
    (sub,) = query(app, Submission)
    assert sub.copyright_status == "requested"
    assert "no new text" in query(app, Consent)[0].note


def test_dkim_signed_grant_records_pass(tmp_path: Path, sqlite_url: str) -> None:
    key = tmp_path / "dkim.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    import base64

    import dkim as dkimpy

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    resolver = StaticResolver({"s2026._domainkey.qq.com": record})
    app = build(tmp_path, sqlite_url, Clock(T0))
    app.dkim_resolver = resolver
    try:
        ingest(app, submission(sender=QQ, body=ARTICLE))
        unsigned = client_reply("qq-app.eml", request_id(app))
        signature = dkimpy.sign(
            unsigned, b"s2026", b"qq.com", key.read_bytes(),
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )  # fmt: skip
        ingest(app, signature + unsigned)
        (evidence,) = query(app, Consent)
        assert (evidence.decision, evidence.dkim) == ("grant", "pass")
        assert (evidence.authenticity, evidence.state) == ("dkim_aligned", "applied")
        assert "DKIM d=qq.com aligned" in evidence.note
        # Ingest checked it before its transaction; the hook did not look the key up again.
        assert resolver.lookups == [b"s2026._domainkey.qq.com."]
    finally:
        app.close()


def test_dkim_results() -> None:
    plain = (REPLIES / "qq-app.eml").read_bytes()
    assert str(dkimcheck.verify(plain, lambda name, timeout=0: None)) == "none"
    forged = (REPLIES / "netease-webmail.eml").read_bytes()
    assert str(dkimcheck.verify(forged, lambda name, timeout=0: None)).startswith(
        "error: no key at"
    )

    def down(name: bytes, timeout: float = 0) -> bytes | None:
        raise OSError("network unreachable")

    assert str(dkimcheck.verify(forged, down)) == "error: dns: OSError"


def test_staff_records_consent_received_another_way(app: App, tmp_path: Path) -> None:
    ingest(app, submission(body=ARTICLE))
    result = cli_run(app, tmp_path, "consent", "1", "waive")
    assert result.exit_code == 1 and "needs a note" in result.output
    result = cli_run(
        app, tmp_path, "consent", "1", "waive", "--note", "作者现场签署授权书", "--as", "li"
    )
    assert result.exit_code == 0, result.output
    assert "requested -> waived" in result.output
    (row,) = query(app, Consent)
    assert (row.decision, row.actor, row.note) == ("waive", "li", "作者现场签署授权书")
    assert cli_run(app, tmp_path, "consent", "1", "revoke", "--note", "作者来电撤回").exit_code == 0
    shown = json.loads(cli_run(app, tmp_path, "consent", "1", "--json").output)
    assert shown["status"] == "revoked"
    assert [(e["decision"], e["actor"]) for e in shown["evidence"]] == [
        ("waive", "li"),
        ("revoke", "wang"),
    ]
    assert cli_run(app, tmp_path, "consent", "1", "revoke").exit_code == 1  # nothing to revoke
    history = query(app, Event, Event.action == "copyright", Event.actor == "li")
    assert history[0].to_status == "waived" and "作者现场签署授权书" in history[0].note


def test_reminder_then_expiry(app: App, clock: Clock, tmp_path: Path) -> None:
    ingest(app, submission(body=ARTICLE))
    assert app.remind_copyright().as_json() == {"reminded": 0, "expired": 0, "unsent": 0}
    clock.advance(days=5, minutes=1)
    assert app.remind_copyright().as_json() == {"reminded": 1, "expired": 0, "unsent": 0}
    (sub,) = query(app, Submission)
    assert sub.copyright_status == "reminded"
    assert app.remind_copyright().reminded == 0  # once only
    clock.advance(days=9)
    assert app.run_maintenance()["copyright requests expired"] == 1
    (sub,) = query(app, Submission)
    assert sub.copyright_status == "expired"
    assert [t for _, t in outbox(app)] == [
        "ack",
        "copyright_request",
        "copyright_reminder",
        "copyright_expired",
    ]
    reminder = parse(query(app, Outbox, Outbox.template == "copyright_reminder")[0].raw)
    assert "尚未收到您的答复" in reminder.get_content()
    history = [(e.from_status, e.to_status) for e in query(app, Event, Event.action == "copyright")]
    assert history[-2:] == [("requested", "reminded"), ("reminded", "expired")]
    # A grant after expiry is for an editor to take up, not recorded by itself.
    ingest(app, reply(request_id(app), body="同意"))
    (sub,) = query(app, Submission)
    assert sub.copyright_status == "expired" and "while copyright is expired" in sub.flagged
    # `intake remind` runs the same once (the CLI has its own clock: nothing is left to do).
    result = cli_run(app, tmp_path, "remind", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"reminded": 0, "expired": 0, "unsent": 0}


def test_maintenance_without_smtp_expires_but_does_not_remind(
    tmp_path: Path, sqlite_url: str
) -> None:
    clock = Clock(T0)
    app = build(tmp_path, sqlite_url, clock)
    ingest(app, submission(body=ARTICLE))
    with app.sessions() as session, session.begin():
        first = run_copyright_maintenance(
            session, Letters(None), app.settings, T0 + timedelta(days=6)
        )
        late = run_copyright_maintenance(
            session, Letters(None), app.settings, T0 + timedelta(days=15)
        )
    assert (first.reminded, late.expired, late.unsent) == (0, 1, 1)
    app.close()


# =========================================================================== duplicates


def test_resend_with_trivial_edits_is_a_near_duplicate(
    app: App, clock: Clock, tmp_path: Path
) -> None:
    ingest(app, submission(body=ARTICLE))
    clock.advance(days=7)  # next week, past the grace period
    edited = "（修改稿）\n" + ARTICLE.replace("，", ", ").replace("李大爷", "李师傅")
    ingest(app, submission(body=edited, subject="投稿：老街"))
    second = query(app, Submission, Submission.id == 2)[0]
    assert second.duplicate_of == 1 and second.similarity is not None
    assert 0.8 < second.similarity < 1.0
    assert second.status == "received"  # near: linked, still for an editor
    assert outbox(app)[2:] == [(1, "duplicate")]  # "already received as #1", no acknowledgment
    assert "#1" in query(app, Event, Event.action == "near_duplicate")[0].note
    assert len(query(app, Fingerprint, Fingerprint.submission_id == 2)) == 32

    result = cli_run(app, tmp_path, "not-duplicate", "2", "--note", "作者说是新稿")
    assert result.exit_code == 0, result.output
    second = query(app, Submission, Submission.id == 2)[0]
    assert (second.duplicate_of, second.similarity, second.status) == (None, None, "received")
    assert cli_run(app, tmp_path, "not-duplicate", "2").exit_code == 1


def test_exact_resend_is_marked_duplicate(app: App, clock: Clock, tmp_path: Path) -> None:
    ingest(app, submission(body=ARTICLE))
    clock.advance(days=7)
    ingest(app, submission(body=ARTICLE + "\n\n", subject="再投：《老街》"))
    second = query(app, Submission, Submission.id == 2)[0]
    assert (second.status, second.duplicate_of, second.similarity) == ("duplicate", 1, 1.0)
    (event,) = query(app, Event, Event.action == "duplicate")
    assert (event.from_status, event.to_status) == ("received", "duplicate")
    # Staff undo it: back to received.
    assert cli_run(app, tmp_path, "not-duplicate", "2").exit_code == 0
    assert query(app, Submission, Submission.id == 2)[0].status == "received"


def test_another_senders_copy_is_flagged_not_answered_as_duplicate(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    ingest(app, submission(body=ARTICLE, sender="李四 <lisi@163.example>"))
    second = query(app, Submission, Submission.id == 2)[0]
    assert second.duplicate_of == 1 and second.status == "received"
    assert "another sender" in second.flagged
    assert outbox(app)[2:] == [(2, "ack"), (2, "copyright_request")]


def test_same_attachments_with_other_cover_notes(app: App, clock: Clock) -> None:
    doc = [("老街.txt", "text/plain", ARTICLE.encode())]
    ingest(app, submission(body="请查收附件。", attachments=doc))
    clock.advance(days=4)
    ingest(app, submission(body="老师您好，附件是我的稿件，谢谢！", attachments=doc))
    second = query(app, Submission, Submission.id == 2)[0]
    assert (second.status, second.duplicate_of) == ("duplicate", 1)
    # Short cover notes alone are never duplicates of each other.
    ingest(app, submission(body="见附件"))
    ingest(app, submission(body="见附件"))
    assert [s.duplicate_of for s in query(app, Submission)][2:] == [None, None]


def test_delayed_dsn_is_noted_and_fails_nothing(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    (ack,) = query(app, Outbox, Outbox.template == "ack")
    dsn = (BOUNCES / "postfix_dsn_delayed.eml").read_bytes()
    ingest(
        app, dsn.replace(b"reply.20240307.01bd22@intake.news.example.cn", ack.message_id.encode())
    )
    assert query(app, Outbox, Outbox.id == ack.id)[0].state == "pending"
    with app.sessions() as session, session.begin():
        assert session.scalars(select(Suppression)).all() == []
    (event,) = query(app, Event, Event.action == "delayed")
    assert event.submission_id == 1 and f"outbox #{ack.id}" in event.note


def test_request_queued_but_not_marked_is_still_answered(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    with app.sessions() as session, session.begin():
        sub = session.get(Submission, 1)
        assert sub is not None
        sub.copyright_status, sub.terms_version, sub.copyright_requested_at = (
            "not_requested",
            "",
            None,
        )
    ingest(app, reply(request_id(app), body="同意"))
    (sub,) = query(app, Submission)
    assert (sub.copyright_status, sub.terms_version) == ("granted", "2026-1")
    assert sub.copyright_requested_at is not None
    assert query(app, Consent)[0].terms_version == "2026-1"


def test_answer_to_a_request_for_information_goes_back_to_review(app: App) -> None:
    ingest(app, submission(body=ARTICLE))
    with app.sessions() as session, session.begin():
        sub = session.get(Submission, 1)
        assert sub is not None
        sub.status, sub.copyright_status = "needs_info", "granted"
    ingest(app, reply(request_id(app), body="作者简介：张三，自由撰稿人。"))
    (sub,) = query(app, Submission)
    assert (sub.status, sub.flagged) == ("in_review", "")
