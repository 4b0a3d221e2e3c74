"""Article extraction end to end: documents mailed to a real Dovecot become the article.

Each message is appended to the test account's INBOX as QQ Mail writes it (GB18030 body in
multipart/alternative, attachments as application/octet-stream with RFC 2047 names), one poll
reads them all through the real extraction child processes, and the rows are checked. The
documents are the committed ones in tests/data/docs/; photos, archives and the zip bomb are
built here. Each poll logs how long it took (``-o log_cli=true --log-cli-level=INFO``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import logging
import re
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from intake.app import App
from intake.core.config import ExtractConfig
from intake.documents.extract import count_words, extract
from intake.store.models import Attachment, Outbox, Submission
from tests.helpers import AppFactory, settings_for
from tests.servers import Dovecot
from tests.smtpserver import SmtpServer

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
log = logging.getLogger(__name__)
OCTET = "application/octet-stream"
COVER_NOTE = "编辑老师您好：\r\n\r\n稿件见附件，请查收。\r\n\r\n"


@dataclass(frozen=True)
class File:
    name: str
    payload: bytes
    content_type: str = f'{OCTET};\r\n\tcharset="gb18030"'  # what QQ Mail sends for any file


def doc(name: str) -> bytes:
    return (DOCS / name).read_bytes()


@functools.cache
def essay(name: str) -> str:
    """The text extraction makes of a committed document (the expectation for its article)."""
    return extract(name, OCTET, doc(name), ExtractConfig()).text


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def _word(text: str) -> str:
    return f"=?gb18030?B?{base64.b64encode(text.encode('gb18030')).decode()}?="


def qq_mail(number: int, subject: str, body: str, files: Sequence[File] = ()) -> bytes:
    """A message as QQ Mail's web client writes it, from ``<number>@qq.com``."""
    mixed, alternative = f"----=_NextPart_{number:08X}_MIXED", f"----=_NextPart_{number:08X}_ALT"
    html = "<div>" + body.replace("\r\n", "<br>") + "</div>"
    head = (
        f'From: "{_word("投稿人" + str(number))}" <{number}@qq.com>\r\n'
        f'To: "{_word("投稿邮箱")}" <tougao@news.example>\r\n'
        f"Subject: {_word(subject)}\r\n"
        "Mime-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed;\r\n\tboundary="{mixed}"\r\n'
        "Content-Transfer-Encoding: 8Bit\r\n"
        "Date: Fri, 20 Nov 2026 17:30:00 +0800\r\n"
        f"Message-ID: <tencent_{number:08X}E2E@qq.com>\r\n"
        "X-QQ-MIME: TCMime 1.0 by Tencent\r\nX-Mailer: QQMail 2.x\r\nX-QQ-Mailer: QQMail 2.x\r\n"
        "\r\nThis is a multi-part message in MIME format.\r\n\r\n"
        f"--{mixed}\r\n"
        f'Content-Type: multipart/alternative;\r\n\tboundary="{alternative}"\r\n\r\n'
    ).encode()
    parts = [head]
    for ctype, text in (("plain", body), ("html", html)):
        parts.append(
            f'--{alternative}\r\nContent-Type: text/{ctype};\r\n\tcharset="gb18030"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + _b64(text.encode("gb18030"))
            + b"\r\n"
        )
    parts.append(f"--{alternative}--\r\n\r\n".encode())
    for file in files:
        name = _word(file.name)
        parts.append(
            f'--{mixed}\r\nContent-Type: {file.content_type};\r\n\tname="{name}"\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n'
            "Content-Transfer-Encoding: base64\r\n\r\n".encode()
            + _b64(file.payload)
            + b"\r\n"
        )
    parts.append(f"--{mixed}--\r\n".encode())
    return b"".join(parts)


def jpeg_with_exif(color: str, taken: str, size: tuple[int, int] = (64, 48)) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "HUAWEI"  # Make
    exif[0x0110] = "HUAWEI P60"  # Model
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = taken  # DateTimeOriginal
    sub[0x9011] = "+08:00"  # OffsetTimeOriginal
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def docx_bomb(unpacked: int) -> bytes:
    """A real .docx whose word/document.xml inflates to ``unpacked`` bytes (mostly spaces)."""
    chunk = b" " * (1 << 20)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(doc("article-zh-libreoffice.docx"))) as real,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as bomb,
    ):
        for member in real.namelist():
            if member != "word/document.xml":
                bomb.writestr(member, real.read(member))
        with bomb.open("word/document.xml", "w", force_zip64=True) as xml:
            xml.write(real.read("word/document.xml"))
            for _ in range(unpacked // len(chunk)):
                xml.write(chunk)
    return out.getvalue()


@pytest.fixture
def account(imap_account: tuple[str, str]) -> tuple[str, str]:
    return imap_account


def poll(app: App, count: int) -> None:
    started = time.monotonic()
    result = app.poll_mailbox(app.settings.mailboxes[0]).as_json()
    seconds = time.monotonic() - started
    log.info("poll of %d messages: %.2f s, %.3f s per message", count, seconds, seconds / count)
    assert result == {"fetched": count, "new": count, "duplicates": 0, "quarantined": 0,
                      "ignored": 0}  # fmt: skip


def by_subject(app: App) -> dict[str, tuple[Submission, list[Attachment]]]:
    """Every submission with its attachments, by subject."""
    with app.sessions() as session, session.begin():
        # The session keeps what it loaded after commit (expire_on_commit=False).
        return {
            sub.subject: (sub, list(sub.attachments)) for sub in session.scalars(select(Submission))
        }


# --------------------------------------------------------------------------- documents

SINGLE = [
    # subject, file name, committed document, content type (QQ Mail's unless given)
    ("QQ邮箱 docx", "春天里的老街.docx", "article-zh-libreoffice.docx", None),
    ("Word 97 doc", "老街.doc", "article-zh.doc", "application/msword"),
    ("WPS 文字", "老街.wps", "article-zh.wps", None),
    ("PDF 稿件", "老街.pdf", "article-zh.pdf", "application/pdf"),
    ("写字板 RTF", "老街.rtf", "wordpad-gbk.rtf", "application/rtf"),
    ("记事本 txt 带字符集", "老街.txt", "article-gb18030.txt", 'text/plain; charset="gb18030"'),
    ("记事本 txt 无字符集", "老街2.txt", "article-gb18030.txt", "text/plain"),
]


def test_a_mailbox_of_documents(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    app_factory: AppFactory,
) -> None:
    app = app_factory(settings_for(tmp_path, db_url, dovecot, account))
    mails: list[bytes] = []
    for number, (subject, name, source, ctype) in enumerate(SINGLE, 10001):
        file = File(name, doc(source), ctype) if ctype else File(name, doc(source))
        mails.append(qq_mail(number, subject, COVER_NOTE, [file]))
    mails.append(
        qq_mail(
            10100,
            "上下两篇",
            "两篇稿件见附件。",
            [File("上篇.docx", doc("article-zh-python-docx.docx")),
             File("下篇.pdf", doc("article-en.pdf"))],
        )
    )  # fmt: skip
    photos = [
        jpeg_with_exif("green", "2026:11:18 06:45:10", (64, 48)),
        jpeg_with_exif("blue", "2026:11:18 07:02:33", (48, 64)),
    ]
    mails.append(
        qq_mail(
            10200,
            "图片新闻：公园晨练",
            "今天早上，市民在人民公园晨练。\r\n\r\n"
            "图1 IMG_2031.jpg：市民在公园晨练（张三 摄）\r\n第二张：太极拳队\r\n",
            [File("IMG_2031.jpg", photos[0]), File("IMG_2032.jpg", photos[1])],
        )
    )
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("稿件/老街.txt", "春天里的老街".encode())
        zf.writestr("稿件/照片.jpg", photos[0])
    mails.append(
        qq_mail(
            10300, "压缩包投稿", "稿件和照片在压缩包里。", [File("稿件.zip", archive.getvalue())]
        )
    )
    mails.append(qq_mail(10400, "加密的PDF", COVER_NOTE, [File("老街.pdf", doc("encrypted.pdf"))]))
    for raw in mails:
        dovecot.append(*account, "INBOX", raw)

    poll(app, len(mails))

    rows = by_subject(app)
    for subject, name, source, _ in SINGLE:
        sub, (att,) = rows[subject]
        expected = essay(source)
        assert expected.startswith("春天里的老街"), subject
        assert sub.article_text == expected, subject
        assert sub.article_source == name, subject
        assert (sub.char_count, sub.word_count) == count_words(expected), subject
        assert sub.char_count > 100, subject
        assert sub.body_text.startswith("编辑老师您好"), subject
        assert (att.filename, att.kind, att.extract_error, att.encrypted) == (
            name, "document", "", False
        ), subject  # fmt: skip
        assert att.text == expected and att.text_chars == len(expected), subject
    assert "王镕" in rows["QQ邮箱 docx"][0].article_text  # not in GB2312, read all the same
    assert "喆" in rows["记事本 txt 无字符集"][0].article_text

    sub, atts = rows["上下两篇"]
    assert sub.article_source == "上篇.docx, 下篇.pdf"
    first, _, second = sub.article_text.partition("\n\n=== 下篇.pdf ===\n")
    assert first == "=== 上篇.docx ===\n" + essay("article-zh-python-docx.docx")
    assert second == essay("article-en.pdf")
    assert (sub.char_count, sub.word_count) == count_words(sub.article_text)
    assert sub.word_count > 40  # the English half is counted in words

    sub, atts = rows["图片新闻：公园晨练"]
    assert sub.article_source == "body" and sub.article_text.startswith("今天早上")
    assert [(a.filename, a.kind, a.extract_error) for a in atts] == [
        ("IMG_2031.jpg", "image", ""), ("IMG_2032.jpg", "image", ""),
    ]  # fmt: skip
    assert atts[0].meta == {
        "format": "jpeg", "width": 64, "height": 48, "taken_at": "2026-11-18T06:45:10+08:00",
        "camera": "HUAWEI P60", "caption": "市民在公园晨练（张三 摄）",
    }  # fmt: skip
    assert atts[1].meta["caption"] == "太极拳队" and atts[1].meta["width"] == 48

    sub, (att,) = rows["压缩包投稿"]
    assert (att.kind, att.extract_error, att.text, att.encrypted) == ("archive", "", "", False)
    assert att.meta["members"] == ["稿件/老街.txt", "稿件/照片.jpg"]
    assert att.meta["member_count"] == 2
    assert sub.article_source == "body"  # listed, not extracted

    sub, (att,) = rows["加密的PDF"]
    assert (att.kind, att.encrypted, att.text) == ("document", True, "")
    assert att.extract_error.startswith("encrypted")
    assert sub.article_source == "body" and sub.status == "received"

    for _, atts in rows.values():
        for att in atts:
            assert hashlib.sha256(app.blobs.get(att.blob_path)).hexdigest() == att.sha256
    assert dovecot.uids(*account, "INBOX") == []


# --------------------------------------------------------------------------- hostile input


def test_zip_bomb_is_recorded_and_the_poll_goes_on(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp_server: SmtpServer,
    app_factory: AppFactory,
) -> None:
    app = app_factory(settings_for(tmp_path, sqlite_url, dovecot, account, smtp=smtp_server))
    bomb = docx_bomb(256 << 20)
    assert len(bomb) < 2 << 20
    cover = "编辑老师您好：\r\n稿件见附件，请查收。——王五\r\n"
    dovecot.append(*account, "INBOX", qq_mail(20001, "炸弹", cover, [File("稿件.docx", bomb)]))
    follow = [File("春天里的老街.docx", doc("article-zh-libreoffice.docx"))]
    dovecot.append(*account, "INBOX", qq_mail(20002, "下一封", COVER_NOTE, follow))

    poll(app, 2)

    rows = by_subject(app)
    sub, (att,) = rows["炸弹"]
    assert (att.kind, att.text, att.size) == ("document", "", len(bomb))
    limit = app.settings.extract.max_unpacked_bytes
    assert re.fullmatch(rf"docx would unpack to \d+ bytes \(limit {limit}\); not opened",
                        att.extract_error)  # fmt: skip
    assert app.blobs.get(att.blob_path) == bomb  # kept for staff, never opened
    assert (sub.status, sub.article_source) == ("received", "body")
    assert sub.article_text == cover.replace("\r\n", "\n").strip()
    assert rows["下一封"][0].article_text == essay("article-zh-libreoffice.docx")

    with app.sessions() as session, session.begin():
        acks = session.scalars(select(Outbox).where(Outbox.template == "ack")).all()
        assert sorted(a.to_addr for a in acks) == ["20001@qq.com", "20002@qq.com"]
    app.deliver_outbox()
    received = smtp_server.wait_for(2)
    assert any(m.rcpt_tos == ("20001@qq.com",) for m in received)


def test_hostile_file_names_and_oversized_attachments(
    tmp_path: Path,
    sqlite_url: str,
    dovecot: Dovecot,
    account: tuple[str, str],
    app_factory: AppFactory,
) -> None:
    limit = 1_000_000
    settings = settings_for(
        tmp_path, sqlite_url, dovecot, account, extract={"max_attachment_bytes": limit}
    )
    app = app_factory(settings)
    article = doc("article-zh-libreoffice.docx")
    big = b"%PDF-1.4\n" + bytes(range(256)) * 5000  # 1.28 MB
    controls = "\x1b[31m稿件\x07\r\n.docx"
    raw = qq_mail(
        30001,
        "怪名字",
        COVER_NOTE,
        [File("../../etc/passwd", b"\x7fELF\x02\x01\x01" + bytes(64)), File("扫描件.pdf", big)],
    )
    # RFC 2231 carries control characters that RFC 2047 words cannot: append one such part.
    quoted = "".join(f"%{b:02X}" for b in controls.encode())
    extra = (
        f"Content-Type: {OCTET}\r\nContent-Disposition: attachment; filename*=utf-8''{quoted}\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + _b64(article)
    boundary = b"----=_NextPart_00007531_MIXED"
    raw = raw.replace(b"--" + boundary + b"--\r\n", b"--" + boundary + b"\r\n" + extra + b"\r\n--"
                      + boundary + b"--\r\n")  # fmt: skip
    dovecot.append(*account, "INBOX", raw)

    poll(app, 1)

    sub, atts = by_subject(app)["怪名字"]
    passwd, scan, word = atts
    assert (passwd.filename, passwd.safe_name) == ("../../etc/passwd", "passwd")
    assert word.filename == controls  # the original, for staff to see
    assert word.safe_name == "[31m稿件 .docx"
    assert not any(ord(c) < 32 for a in atts for c in a.safe_name)
    store = Path(app.settings.storage.path).resolve()
    for att in atts:
        assert (store / att.blob_path).resolve().is_relative_to(store)
        assert re.fullmatch(r"att/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", att.blob_path)
    assert not (tmp_path / "etc").exists()
    # nothing in the store but content-addressed blobs (and the reply key intake keeps there)
    stored = [p.relative_to(store).as_posix() for p in store.rglob("*") if p.is_file()]
    blob = r"(raw|att)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}|reply-secret"
    assert all(re.fullmatch(blob, name) for name in stored), stored

    assert (scan.size, scan.text) == (len(big), "")
    assert scan.extract_error == f"too large to read: {len(big)} bytes (limit {limit})"
    assert app.blobs.get(scan.blob_path) == big  # stored all the same
    assert sub.article_text == essay("article-zh-libreoffice.docx")  # from the odd-named file
    assert sub.article_source == controls
