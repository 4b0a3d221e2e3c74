"""The article, who wrote it and what kind of mail it is, end to end through Dovecot.

Cover notes pointing at short documents in every format, a forwarded message, Outlook's
winmail.dat, a book with a licence page under a 投稿 subject, and automatic replies and
bounces that only their subject or structure gives away: one poll, then the rows, the outbox
and ``show``'s JSON.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from sqlalchemy import select

from intake import store
from intake.cli.views import submission_detail
from intake.store.models import Claim, Message, Outbox
from tests.documents.test_extraction_e2e import DOCS, File, by_subject, doc, qq_mail
from tests.helpers import AppFactory, settings_for
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

CLASSIFY = Path(__file__).resolve().parents[1] / "data" / "classify"
POEM = "春夜\n\n雨落在窗台上\n灯亮在河对岸\n我想起你，和那条开满槐花的老街"
NOTE = (
    "编辑老师您好：\r\n稿件见附件，请查收。谢谢！\r\n\r\n"
    "作者：李明（笔名：木子）\r\n电话：13812345678\r\n"
    "身份证号：44030519900101123X\r\n"
    "开户行：中国工商银行深圳南山支行  账号：6222 0212 3456 7890 123\r\n"
)
SHORT = [
    ("短诗 docx", "春夜.docx", "poem-zh.docx"),
    ("短诗 doc", "春夜.doc", "poem-zh.doc"),
    ("短诗 rtf", "春夜.rtf", "poem-zh.rtf"),
    ("短诗 odt", "春夜.odt", "poem-zh.odt"),
    ("短诗 pdf", "春夜.pdf", "poem-zh.pdf"),
]
WORD_VARIANTS = [
    ("散文 odt", "老街.odt", "article-zh.odt"),
    ("散文 ott", "老街.ott", "article-zh.ott"),
    ("散文 docm", "老街.docm", "article-zh.docm"),
    ("散文 dotx", "老街.dotx", "article-zh.dotx"),
    ("散文 dotm", "老街.dotm", "article-zh.dotm"),
]
BOOK = (
    "《南山往事》\n版权所有，侵权必究。未经作者书面许可，不得转载、摘编，违者须删除并赔偿。\n"
    "ISBN 978-7-0000-0000-0\n目录\n第一章 老街\n\n"
    + "三月的风吹过老街，青石板路上还留着昨夜的雨水。"
    * 400
)


def forwarded(number: int) -> bytes:
    """A contributor forwards an earlier mail of theirs as message/rfc822 (Thunderbird)."""
    inner = (DOCS / "forwarded-article.eml").read_bytes()
    return (
        (
            f"From: <{number}@qq.com>\r\nTo: tougao@news.example\r\nSubject: Fwd: 散文\r\n"
            f"Message-ID: <fwd.{number}@qq.com>\r\nDate: Sat, 21 Nov 2026 09:00:00 +0800\r\n"
            'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="f"\r\n\r\n'
            "--f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n转发给您，请审阅。\r\n"
            "--f\r\nContent-Type: message/rfc822\r\n"
            'Content-Disposition: attachment; filename="散文.eml"\r\n\r\n'
        ).encode()
        + inner
        + b"\r\n--f--\r\n"
    )


def outlook_tnef(number: int) -> bytes:
    blob = base64.encodebytes(doc("winmail-two-files.dat")).decode()
    return (
        f"From: Hans <h{number}@outlook.example>\r\nTo: tougao@news.example\r\n"
        f"Subject: Beitrag {number}\r\nMessage-ID: <tnef.{number}@outlook.example>\r\n"
        "Date: Mon, 4 Mar 2024 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "Please see the attached files.\r\n"
        '--b\r\nContent-Type: application/ms-tnef; name="winmail.dat"\r\n'
        'Content-Disposition: attachment; filename="winmail.dat"\r\n'
        f"Content-Transfer-Encoding: base64\r\n\r\n{blob}\r\n--b--\r\n"
    ).encode()


ROBOTS = [
    "autoreply-latvian-outlook.eml",
    "autoreply-french.eml",
    "autoreply-japanese.eml",
    "autoreply-english-body-only.eml",
    "bounce-returned-mail-error.eml",
    "bounce-undeliverable-plain.eml",
    "bounce-qq-tuixin.eml",
    "bounce-report-no-boundary.eml",
]


def test_articles_authors_and_robots(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    smtp_server: SmtpServer,
    app_factory: AppFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = settings_for(
        tmp_path, sqlite_url, dovecot, imap_account, smtp=smtp_server,
        site={"name": "南山新闻网", "domains": ["news.example"]},
    )  # fmt: skip
    app = app_factory(settings)
    mails: list[bytes] = []
    for number, (subject, name, source) in enumerate(SHORT + WORD_VARIANTS, 30001):
        mails.append(qq_mail(number, subject, NOTE, [File(name, doc(source))]))
    mails.append(forwarded(30100))
    mails.append(outlook_tnef(30101))
    note = "编辑老师您好，书稿见附件，望贵网连载。稿费请支付给我。"
    book_file = File("南山往事.txt", BOOK.encode("gb18030"))
    mails.append(qq_mail(30102, "投稿：长篇小说《南山往事》", note, [book_file]))
    mails += [(CLASSIFY / name).read_bytes() for name in ROBOTS]
    for raw in mails:
        dovecot.append(*imap_account, "INBOX", raw)

    with caplog.at_level(logging.DEBUG):
        result = app.poll_mailbox(app.settings.mailboxes[0]).as_json()
    assert result["fetched"] == len(mails) and result["quarantined"] == 0
    assert result["ignored"] == len(ROBOTS)
    # the contributor's numbers never reach a log line
    for secret in ("13812345678", "44030519900101123X", "6222021234567890123", "6222 0212"):
        assert secret not in caplog.text

    rows = by_subject(app)
    for subject, name, _ in SHORT:
        sub, _atts = rows[subject]
        assert sub.article_source == name, subject
        assert sub.article_text.replace("\n\n", "\n") == POEM.replace("\n\n", "\n"), subject
        assert sub.author["name"] == "李明" and sub.author["pen_name"] == "木子", subject
        assert sub.author["account"] == "6222021234567890123", subject
    for subject, name, _ in WORD_VARIANTS:
        sub, _atts = rows[subject]
        assert sub.article_source == name and sub.article_text.startswith("春天里的老街"), subject

    sub, atts = rows["Fwd: 散文"]
    assert sub.article_source == "散文.eml" and sub.article_text.startswith("春天里的老街")
    sub, atts = rows["Beitrag 30101"]
    assert [a.filename for a in atts] == ["AUTHORS", "README"]

    book, _ = rows["投稿：长篇小说《南山往事》"]
    assert book.article_source == "南山往事.txt"

    with app.sessions() as session, session.begin():
        assert session.scalars(select(Claim)).all() == []  # no claim because of a book
        kinds = {m.sender: m.kind for m in session.scalars(select(Message))}
        answered = {o.to_addr for o in session.scalars(select(Outbox))}
    robots = {
        "janis.berzins@lv-media.example", "claire.martin@presse.example",
        "tanaka@shinbun.example", "sam.lee@univ.example", "mailgw@old-isp.example",
        "admin@corp-mail.example", "notify@mail-cn.example", "relay-notices@relay.example",
    }  # fmt: skip
    assert {r: kinds.get(r) for r in robots} == {r: kinds[r] for r in robots}
    assert set(kinds[r] for r in robots) <= {"autoreply", "bounce"}
    assert not answered & robots  # no reply to any of them
    assert "30102@qq.com" in answered  # the book's contributor is acknowledged

    # show: the cover note, and the author's numbers masked unless revealed
    sid = rows["短诗 docx"][0].id
    with store.reading(app.engine) as conn:
        shown = submission_detail(conn, sid)
        revealed = submission_detail(conn, sid, reveal=True)
    assert shown["cover_note"].startswith("编辑老师您好：\n稿件见附件，请查收。")
    assert shown["text"].startswith("春夜")
    assert shown["author"] == {
        "name": "李明", "pen_name": "木子", "phone": "138****5678", "address": "",
        "postcode": "", "organisation": "", "id_number": "440***********123X",
        "bank": "中国工商银行深圳南山支行", "account": "6222***********0123",
    }  # fmt: skip
    assert revealed["author"]["phone"] == "13812345678"
    assert revealed["author"]["id_number"] == "44030519900101123X"
