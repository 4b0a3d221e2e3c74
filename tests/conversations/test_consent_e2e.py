"""Consent bound to our request, end to end: contributors' and attackers' replies appended to a
real Dovecot mailbox, polled, and our letters delivered through a real SMTP server (aiosmtpd).
The replies are the real client layouts of tests/data/replies, rewritten to answer this run's
letters: with their threading headers, or (web mail) without them and with the code typed in.
"""

from __future__ import annotations

import base64
import email
import email.policy
import io
import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import dkim as dkimpy
import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.adapters.memory.dns import StaticResolver
from intake.app import App
from intake.cli import cli
from intake.replies.render import confirmation_code
from intake.store.models import Consent, Message, Outbox, Submission, Version
from intake.submissions.editorial import Editorial
from intake.workflow.submission import Action
from tests.helpers import make_app, settings_for, submission
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

REPLIES = Path(__file__).parents[1] / "data" / "replies"
FIXTURE_ID = "intake.6938f1a0.mfrggzdfmztwq.k7x2m4q9hv3c5a8d@nsnews.example"
ARTICLE = (
    "三月的风吹过老街，青石板路上还留着昨夜的雨水。街口那家开了三十年的豆浆铺，每天清晨五点半准时亮灯，"
    "老板王师傅说，这是他父亲留下的规矩。我第一次走进这条街是在2019年，那时我刚到这座城市工作。"
)


class Desk:
    """One intake on the real servers, and what a test does with it."""

    def __init__(
        self, app: App, dovecot: Dovecot, account: tuple[str, str], smtp: SmtpServer, tmp: Path
    ) -> None:
        self.app, self.dovecot, self.account, self.smtp, self.tmp = app, dovecot, account, smtp, tmp
        self.sent = 0

    def mail(self, raw: bytes) -> None:
        """Deliver ``raw`` to the mailbox and poll it."""
        self.dovecot.append(*self.account, "INBOX", raw)
        assert self.app.poll_mailbox(self.app.settings.mailboxes[0]).new == 1

    def deliver(self) -> list[EmailMessage]:
        """Send what is due; the letters the SMTP server received this time."""
        count = self.app.deliver_outbox().sent
        received = self.smtp.wait_for(self.sent + count)[self.sent :] if count else []
        self.sent += count
        return [_parse(r.data) for r in received]

    def query(self, model: type, *where: Any) -> list[Any]:
        with self.app.sessions() as session, session.begin():
            return list(session.scalars(select(model).where(*where).order_by(model.id)))  # type: ignore[attr-defined]

    def letter(self, template: str, submission_id: int = 1) -> Outbox:
        rows = self.query(
            Outbox, Outbox.template == template, Outbox.submission_id == submission_id
        )
        return rows[-1]  # type: ignore[no-any-return]

    def code(self, template: str = "copyright_request", submission_id: int = 1) -> str:
        return confirmation_code(
            self.app.reply_secret, self.letter(template, submission_id).message_id
        )

    def rights(self, submission_id: int = 1) -> Submission:
        (sub,) = self.query(Submission, Submission.id == submission_id)
        return sub  # type: ignore[no-any-return]

    def cli(self, *args: str) -> Any:
        config = self.tmp / "intake.toml"
        settings = self.app.settings
        assert settings.smtp is not None
        config.write_text(
            f'[database]\nurl = "{settings.database.url}"\n'
            f'[storage]\npath = "{settings.storage.path}"\n'
            f'[smtp]\nhost = "{settings.smtp.host}"\nport = {settings.smtp.port}\n'
            f'security = "none"\nfrom_address = "{settings.smtp.from_address}"\n',
            encoding="utf-8",
        )
        return CliRunner().invoke(
            cli, ["--config", str(config), *args], env={"NO_COLOR": "1", "INTAKE_USER": "wang"}
        )


def _parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.fixture
def desk(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
) -> Iterator[Desk]:
    settings = settings_for(
        tmp_path, sqlite_url, dovecot, imap_account, smtp=smtp_server,
        replies={"site_name": "南山新闻网"},
        copyright={"terms": "第一条 作者授权本网……", "terms_version": "2026-1"},
    )  # fmt: skip
    app = make_app(settings, clock=lambda: datetime.now(UTC))
    yield Desk(app, dovecot, imap_account, smtp_server, tmp_path)
    app.close()


def client_reply(
    name: str, *, sender: str, number: int, answers: str = "", code: str = ""
) -> bytes:
    """A reply from tests/data/replies as its client wrote it, from ``sender``, to submission
    ``number``: threaded to our letter ``answers`` (its Message-ID), or with no threading
    headers at all (web mail) and ``code`` typed after the answer."""
    raw = (REPLIES / name).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if answers:
        raw = raw.replace(FIXTURE_ID.encode(), answers.encode())
    msg = _parse(raw)
    subject = str(msg["Subject"]).replace("#123", f"#{number}")
    msg.replace_header("Subject", subject)
    msg.replace_header("From", sender)
    if not answers:
        del msg["In-Reply-To"]
        del msg["References"]
    if code:
        # Typed at the end of the answer, the first line of the plain text (the part read).
        for part in msg.walk():
            if part.get_content_type() == "text/plain":
                charset = part.get_content_charset() or "utf-8"
                lines = part.get_content().split("\n")
                first = next(i for i, line in enumerate(lines) if line.strip())
                lines[first] = f"{lines[first].rstrip()} {code}"
                part.set_content("\n".join(lines), subtype="plain", charset=charset)
    return msg.as_bytes(policy=email.policy.SMTP)


QQ = "张三 <1234567890@qq.com>"


def test_a_genuine_reply_is_granted_and_receipted_a_forged_one_is_flagged(desk: Desk) -> None:
    desk.mail(submission(sender=QQ, body=ARTICLE))
    assert [m["Subject"] for m in desk.deliver()][1].startswith("[投稿 #1] 版权授权请求")
    # Forged: the contributor's address and the subject token, nothing else of ours.
    desk.mail(client_reply("qq-app.eml", sender=QQ, number=1))
    sub = desk.rights()
    assert sub.copyright_status == "requested" and "carries no confirmation code" in sub.flagged
    assert desk.query(Consent) == [] and desk.deliver() == []  # no receipt
    # Genuine: QQ Mail's reply, threaded to our request.
    request = desk.letter("copyright_request")
    desk.mail(client_reply("qq-web.eml", sender=QQ, number=1, answers=request.message_id))
    assert desk.rights().copyright_status == "granted"
    (row,) = desk.query(Consent)
    assert (row.authenticity, row.state, row.answers_outbox_id) == (
        "request_bound", "applied", request.id,
    )  # fmt: skip
    (receipt,) = desk.deliver()
    assert receipt["In-Reply-To"] == f"<{row.message_id}>" and "2026-1" in receipt.get_content()


def test_web_mail_answers_with_the_code_wait_for_an_editor(desk: Desk) -> None:
    senders = {
        "netease-webmail.eml": "王五 <wangwu2019@163.com>",
        "outlook-web.eml": "Li Si <lisi@outlook.example>",
        "gmail-zh.eml": "赵六 <zhaoliu@gmail.example>",
    }
    for n, (name, sender) in enumerate(senders.items(), start=1):
        desk.mail(submission(sender=sender, body=f"第{n}篇。" + ARTICLE))
        code = desk.code(submission_id=n).lower()  # typed in lower case
        desk.mail(client_reply(name, sender=sender, number=n, code=code))
        sub = desk.rights(n)
        assert sub.copyright_status == "requested", name
        assert "consent pending:" in sub.flagged, (name, sub.flagged)
        (row,) = desk.query(Consent, Consent.submission_id == n)
        assert (row.decision, row.state, row.authenticity) == ("grant", "pending", "token_only")
    desk.deliver()  # acknowledgments and requests; no receipt yet
    assert not any(m["Subject"].startswith("[投稿 #1] 版权授权回执") for m in desk.deliver())
    listed = json.loads(desk.cli("list", "--flagged", "--json").output)
    assert sorted(d["id"] for d in listed) == [1, 2, 3]

    confirmed = desk.cli("consent", "confirm", "1", "--json")
    assert confirmed.exit_code == 0, confirmed.output
    assert json.loads(confirmed.output)["to"] == "granted"
    (receipt,) = desk.deliver()
    assert receipt["To"].addresses[0].addr_spec == "wangwu2019@163.com"
    rejected = desk.cli("consent", "reject", "2")
    assert rejected.exit_code == 0, rejected.output
    assert desk.rights(2).copyright_status == "requested" and desk.deliver() == []
    assert [c.state for c in desk.query(Consent)] == ["confirmed", "rejected", "pending"]


def test_a_dkim_signed_reply_from_the_contributors_domain_is_aligned(
    desk: Desk, tmp_path: Path
) -> None:
    key = tmp_path / "dkim.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    resolver = StaticResolver(
        {"s2026._domainkey.qq.com": b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)}
    )
    desk.app.dkim_resolver = resolver
    desk.mail(submission(sender=QQ, body=ARTICLE))
    # Web mail: no threading headers, the code typed in; signed by qq.com as QQ signs.
    unsigned = client_reply("qq-card.eml", sender=QQ, number=1, code=desk.code())
    signature = dkimpy.sign(
        unsigned, b"s2026", b"qq.com", key.read_bytes(),
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )  # fmt: skip
    desk.mail(signature + unsigned)
    (row,) = desk.query(Consent)
    assert (row.authenticity, row.state, row.dkim) == ("dkim_aligned", "applied", "pass")
    assert desk.rights().copyright_status == "granted"
    assert resolver.lookups == [b"s2026._domainkey.qq.com."]
    receipt = desk.deliver()[-1]  # after the acknowledgment and the request
    assert receipt["In-Reply-To"] == f"<{row.message_id}>" and "授权确认" in receipt["Subject"]


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_strangers_attachment_and_an_answer_to_needs_info_change_nothing(desk: Desk) -> None:
    desk.mail(submission(sender=QQ, body=ARTICLE))
    desk.deliver()
    original = desk.rights().article_text
    ack = desk.letter("ack")
    revised = ARTICLE.replace("王师傅", "李师傅") + "后记：谨以此文献给老街坊。"
    desk.mail(
        submission(
            sender="李四 <lisi@163.example>", subject="Re: [投稿 #1] 收稿回执", body="修改稿见附件",
            headers={"In-Reply-To": f"<{ack.message_id}>", "References": f"<{ack.message_id}>"},
            attachments=[("老街-修改稿.docx", DOCX, _docx(revised))],
        )
    )  # fmt: skip
    sub = desk.rights()
    assert sub.article_text == original and len(desk.query(Version)) == 1
    assert "lisi@163.example is not from the contributor" in sub.flagged
    (reply,) = desk.query(Message, Message.kind == "reply")
    assert reply.submission_id == 1  # kept in the conversation

    Editorial(desk.app.settings, desk.app.sessions, desk.app.letters, desk.app.clock).decide(
        1, Action.REQUEST_INFO, actor="li", message="标题改成《老街》可以吗？"
    )
    (question,) = desk.deliver()
    asked = desk.letter("needs_info")
    desk.mail(
        submission(
            sender=QQ, subject=f"Re: {question['Subject']}", body="同意",
            headers={"In-Reply-To": f"<{asked.message_id}>", "References": f"<{asked.message_id}>"},
        )
    )  # fmt: skip
    sub = desk.rights()
    assert (sub.status, sub.copyright_status) == ("in_review", "requested")
    assert desk.query(Consent) == [] and desk.deliver() == []


def test_a_reply_to_address_learns_nothing_that_speaks_for_the_author(desk: Desk) -> None:
    # A piece sent with the author's From and the sender's own Reply-To: the acknowledgment
    # reaches the Reply-To on the wire, the copyright request the author's own address.
    desk.mail(submission(sender=QQ, body=ARTICLE, headers={"Reply-To": "mallory@evil.example"}))
    by_subject = {m["Subject"].split("]")[1].split("：")[0].strip(): m for m in desk.deliver()}
    assert by_subject["收稿回执"]["To"].addresses[0].addr_spec == "mallory@evil.example"
    assert by_subject["版权授权请求"]["To"].addresses[0].addr_spec == "1234567890@qq.com"
    # What the Reply-To received, answered as the author, with a "revision" attached.
    ack = by_subject["收稿回执"]["Message-ID"].strip("<>")
    desk.mail(
        submission(
            sender=QQ, subject="Re: [投稿 #1] 收稿回执", body="同意授权，修改稿见附件",
            headers={"In-Reply-To": f"<{ack}>", "References": f"<{ack}>"},
            attachments=[("老街-修改稿.docx", DOCX, _docx(ARTICLE + "（改）"))],
        )
    )  # fmt: skip
    sub = desk.rights()
    assert sub.copyright_status == "requested" and len(desk.query(Version)) == 1
    assert "not to the contributor's address" in sub.flagged
    assert desk.query(Consent) == [] and desk.deliver() == []
