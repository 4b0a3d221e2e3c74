"""intake as an amplifier, tried as a hostile sender would: spellings of one mailbox that try to
get quotas of their own, our own address in disguise, forged senders that write our letters
for us (display names, file names, thousands of attachments), bounce storms. Each message goes
through the real ingest pipeline into a real database; SMTP and the mailbox are fakes."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import mailparser
import pytest
from sqlalchemy import select

from intake.adapters.memory.blobstore import MemoryBlobStore
from intake.app import App
from intake.core.mail import Address, Kind
from intake.replies import staff
from intake.replies.bounces import Bounces
from intake.replies.render import FILENAME_LIMIT, NAME_LIMIT
from intake.store.models import Event, Message, Outbox, Suppression
from intake.text.addresses import rate_key
from tests.helpers import submission
from tests.replies.test_delivery import Smtp, outbox_sender
from tests.replies.test_outbox import T0, Clock, acks, article, build_app, ingest, notes, rows

CLASSIFY = Path(__file__).parents[1] / "data" / "classify"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0 + timedelta(minutes=1))


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build_app(tmp_path, sqlite_url, clock, replies={"copyright_request": "manual"})
    # The acknowledgment and the bounce hooks alone: these texts are near-duplicates.
    bounces = Bounces(made.reply_secret, made.settings.replies.bounce_suppression_days)
    made._hooks = [acks(made), bounces.ingest_hook]
    yield made
    made.close()


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def text_of(raw: bytes) -> str:
    body = parse(raw).get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def raw_from(sender_header: bytes, body: str = "稿件正文。", *, extra: bytes = b"") -> bytes:
    """A submission whose From header is exactly ``sender_header`` (as a forger writes it)."""
    return (
        b"From: " + sender_header + b"\r\nTo: tougao@news.example\r\n"
        b"Subject: =?utf-8?b?" + base64.b64encode("投稿".encode()) + b"?=\r\n"
        b"Message-ID: <" + base64.b32encode(body.encode()[-20:]).rstrip(b"=") + b"@x.example>\r\n"
        b"Date: Fri, 20 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n" + extra
        + b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(body.encode()) + b"\r\n"
    )  # fmt: skip


# =========================================================================== one mailbox


#: Spellings of victim@v.example that all reach one mailbox (and what a forger tries).
VARIANTS = [
    "victim@v.example",
    "VICTIM@V.EXAMPLE",
    "Victim@v.example.",
    "victim@ｖ.example",
    "ｖｉｃｔｉｍ@v.example",
    "victim@v。example",
    "victim@v．ｅｘａｍｐｌｅ",
    '"victim"@v.example',
    "victim+1@v.example",
    "victim+tougao@V.Example",
    "<victim@v.example>",
]


def test_spellings_of_one_mailbox_share_one_daily_quota(app: App) -> None:
    for n, spelling in enumerate(VARIANTS):
        header = f"{_encoded('受害人')} <{spelling.strip('<>')}>"
        assert ingest(app, raw_from(header.encode(), article(n))).name == "NEW"
    limit = app.settings.replies.max_auto_replies_per_day
    queued = rows(app)
    assert len(queued) == limit  # not one quota per spelling
    assert {rate_key(row.to_addr) for row in queued} == {"victim@v.example"}
    assert {row.to_key for row in queued} == {"victim@v.example"}
    # Every other spelling was refused by the limit, or (a spelling no mail client writes)
    # never counted as a usable sender in the first place: none got a quota of its own.
    outcomes = notes(app)
    assert len(outcomes) == len(VARIANTS)
    refused = [n for n in outcomes if "daily limit" in n or "no usable sender address" in n]
    assert len(refused) == len(VARIANTS) - limit
    # What intake writes to is one deliverable spelling per mailbox: lower case, ASCII domain.
    assert {row.to_addr for row in queued} <= {"victim@v.example", "victim+1@v.example",
                                               "victim+tougao@v.example"}  # fmt: skip


def test_suppressing_one_spelling_suppresses_the_mailbox(app: App, clock: Clock) -> None:
    spelling = "ＶＩＣＴＩＭ@ｖ．example"
    stored, _ = staff.suppress(app.sessions, spelling, days=10, reason="", now=clock())
    assert stored == "victim@v.example"
    for n, spelling in enumerate(VARIANTS):
        ingest(app, raw_from(spelling.strip("<>").encode(), article(n)))
    assert rows(app) == []
    assert all(
        "is suppressed until" in note or "no usable sender address" in note for note in notes(app)
    )
    assert sum("is suppressed until" in note for note in notes(app)) >= 6
    lifted = staff.unsuppress(app.sessions, "victim+other@V.EXAMPLE")
    assert lifted.addresses == ("victim@v.example",)
    with app.sessions() as session:
        assert list(session.scalars(select(Suppression))) == []


@pytest.mark.parametrize(
    "ours",
    [
        "tougao@news.example",
        "TOUGAO@NEWS.EXAMPLE",
        "ｔｏｕｇａｏ@ｎｅｗｓ.example",
        "ｔｏｕｇａｏ＠ｎｅｗｓ．ｅｘａｍｐｌｅ",
        "tougao+ack@news.example",
        "tougao@news.example.",
    ],
)
def test_our_own_address_in_any_spelling_gets_nothing(app: App, ours: str) -> None:
    ingest(app, raw_from(f"Us <{ours}>".encode(), article(1)))
    ingest(app, raw_from(b"Someone <someone@qq.example>", article(2),
                         extra=f"Reply-To: {ours}\r\n".encode()))  # fmt: skip
    assert rows(app) == []


# =========================================================================== what a letter says


def many_attachments(count: int) -> bytes:
    """A submission with ``count`` small attachments, each with a long Chinese name."""
    parts = [
        b"From: =?utf-8?b?5byg5LiJ?= <zhangsan@qq.example>\r\nTo: tougao@news.example\r\n"
        b"Subject: =?utf-8?b?5oqV56i/?=\r\nMessage-ID: <many@qq.example>\r\n"
        b"Date: Fri, 20 Nov 2026 09:30:00 +0000\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode("稿件见附件。".encode()) + b"\r\n"
    ]  # fmt: skip
    for i in range(count):
        name = f"第{i:04d}号附件，文件名很长很长，长到足以把回执撑成一本书.docx"
        encoded = base64.b64encode(name.encode()).decode()
        parts.append(
            f"--b\r\nContent-Type: application/octet-stream\r\n"
            f'Content-Disposition: attachment; filename="=?utf-8?b?{encoded}?="\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + base64.b64encode(b"x%d" % i) + b"\r\n"
        )  # fmt: skip
    parts.append(b"--b--\r\n")
    return b"".join(parts)


def test_a_3000_attachment_mail_gets_a_small_acknowledgment(app: App) -> None:
    app.__dict__["blobs"] = MemoryBlobStore()  # 3,000 fsyncs are not what this is about
    assert ingest(app, many_attachments(3000)).name == "NEW"
    (ack,) = rows(app)
    assert len(ack.raw) < 8 * 1024  # it was 192 KB
    text = text_of(ack.raw)
    listed = [line for line in text.splitlines() if "号附件" in line]
    assert len(listed) == 20
    assert "……另有 2980 个附件，不再逐一列出" in text
    assert all(len(line.strip()) <= FILENAME_LIMIT + 12 for line in listed)


def test_english_letters_say_how_many_more(tmp_path: Path, sqlite_url: str, clock: Clock) -> None:
    app = build_app(tmp_path, sqlite_url, clock,
                    replies={"copyright_request": "manual", "language": "en"})  # fmt: skip
    app.__dict__["blobs"] = MemoryBlobStore()
    ingest(app, many_attachments(23))
    assert "... and 3 more, not listed here" in text_of(rows(app)[0].raw)
    app.close()


def _encoded(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


#: Display names a forger writes, each with what must not come of it.
HOSTILE_NAMES = [
    "亲爱的作者：我们决定以十万元稿费采用您的稿件，请将银行卡号回复至 pay@evil.example。" * 20,
    "a" * 30 + ", b" * 40 + " <evil@x.example>, c@d.example",
    "Zhang, San " * 12,
    '"\\"' * 30 + "x, y@z.example",
    "=?utf-8?b?LCBldmlsQHguZXhhbXBsZSw=?=",
    "Evil\r\nBcc: victim@example.com",
    "第一行\n第二行\n第三行",
    "\u202egnp.exe\u202c 张三",
    "张三\u200b\u200d\u2066李四\u2069",
    "\x1b]52;c;ZXZpbA==\x07编辑",
    "张三" * 200 + ",李四",
    "<script>alert(1)</script>",
    "Dr. Li (PhD) [Editor]; Ltd.",
    "\ud800broken surrogate",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_a_hostile_display_name_stays_one_short_name_in_one_recipient(app: App, name: str) -> None:
    # The name reaches intake encoded, as any client sends it (the forger's choice of bytes).
    printable = name.encode("utf-8", "replace").decode("utf-8")
    header = f"{_encoded(printable)} <zhangsan@qq.example>".encode()
    assert ingest(app, raw_from(header)).name == "NEW"
    (ack,) = rows(app)
    msg = parse(ack.raw)
    # Our own output, read back by the standard library and by mail-parser: one address.
    assert [a for _, a in getaddresses([str(v) for v in msg.get_all("To", [])])] == [
        "zhangsan@qq.example"
    ]
    assert [a.addr_spec for a in msg["To"].addresses] == ["zhangsan@qq.example"]
    assert [addr for _, addr in mailparser.parse_from_bytes(ack.raw).to] == ["zhangsan@qq.example"]
    # (The standard library puts a space where it joins adjacent encoded words.)
    shown = msg["To"].addresses[0].display_name
    assert len("".join(shown.split())) <= NAME_LIMIT and "\n" not in shown
    greeting = text_of(ack.raw).splitlines()[0]
    assert len(greeting) <= NAME_LIMIT + len("，您好！")
    assert not any(c in greeting for c in "\u202e\u202c\u200b\u200d\u2066\u2069\x1b\x07\r")


def test_a_hostile_file_name_is_one_short_line(app: App) -> None:
    names = ["报告\r\n\r\n尊敬的作者：请点击链接领取稿费 http://evil.example\r\n.docx",
             "\u202excod.exe", "a" * 500 + ".pdf", "x" * 300]  # fmt: skip
    ingest(app, submission(attachments=[(n, "application/octet-stream", b"x") for n in names]))
    (ack,) = rows(app)
    listed = [line.strip() for line in text_of(ack.raw).splitlines() if "打开）" in line]
    assert len(listed) == 4
    for line in listed:
        name = line.split(". ", 1)[1].rsplit("（", 1)[0]
        assert len(name) <= FILENAME_LIMIT and "\u202e" not in name
    assert listed[2].split(". ", 1)[1].startswith("aaaa") and "….pdf" in listed[2]
    assert "请点击链接领取稿费" in listed[0]  # kept, but on its own single numbered line


# =========================================================================== bounce storms


def _bounce_of(row: Outbox, *, recipient: str = "wangwu2019@163.com", n: int = 0) -> bytes:
    """Postfix's report that ``row`` could not be delivered (the ``n``-th such report)."""
    return (
        (CLASSIFY / "bounce-postfix.eml")
        .read_bytes()
        .replace(b"i.123.1709604901.7c0f3e2a9b@nsnews.example", row.message_id.encode())
        .replace(b"wangwu2019@163.com", recipient.encode())
        .replace(b"<20240305021502.4TqLx20ZkQz9sV@", b"<%d.4TqLx20ZkQz9sV@" % n)
    )


def test_a_permanent_bounce_holds_every_letter_waiting_for_that_address(
    app: App, clock: Clock
) -> None:
    sender = "王五 <wangwu2019@163.com>"
    ingest(app, submission(sender=sender, body=article(1)))
    smtp = Smtp()
    assert outbox_sender(app, smtp).deliver().sent == 1  # the first ack went out
    ingest(app, submission(sender=sender, body=article(2)))
    with app.sessions() as session, session.begin():  # and an editor's letter waits too
        app.replier.queue(
            session, template="accepted", to=Address("王五", "WangWu2019@163.com"), context={},
            submission_id=1, automatic=False,
        )  # fmt: skip
    first = rows(app)[0]
    for n in range(30):  # a bounce storm: reports of the same letter, again and again
        ingest(app, _bounce_of(first, n=n))
    states = [(r.id, r.state) for r in rows(app)]
    assert states == [(1, "failed"), (2, "held"), (3, "held")]
    for row in rows(app)[1:]:
        assert row.last_error.startswith("not sent: bounced: ")
    held = notes(app, "reply_held")
    assert len(held) == 2 and all("bounced permanently" in note for note in held)
    assert outbox_sender(app, smtp).deliver().sent == 0
    assert len(smtp.server.messages) == 1
    with app.sessions() as session:
        (blocked,) = session.scalars(select(Suppression)).all()
        kinds = list(session.scalars(select(Message.kind)))
    assert blocked.address == "wangwu2019@163.com"
    assert kinds.count(Kind.BOUNCE.value) == 30
    assert len(rows(app)) == 3  # nothing answered any bounce


def test_a_forged_bounce_cannot_suppress_a_stranger(app: App) -> None:
    ingest(app, submission(sender="王五 <wangwu2019@163.com>"))
    ingest(app, submission(sender="受害人 <victim@v.example>", body=article(3)))
    ack = rows(app)[0]
    # The contributor saw our Message-ID and forges a report naming someone else.
    ingest(app, _bounce_of(ack, recipient="victim@v.example"))
    with app.sessions() as session:
        suppressed = [row.address for row in session.scalars(select(Suppression))]
        events = list(session.scalars(select(Event.action).where(Event.action == "bounce")))
    assert suppressed == ["wangwu2019@163.com"]  # the letter's own address, no one else
    assert events == ["bounce"]
    assert rows(app)[1].state == "pending"  # the stranger's letter still goes
