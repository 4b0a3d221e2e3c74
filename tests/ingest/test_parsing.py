"""intake.ingest.parsing against mail written in real clients' formats (tests/data/mail)."""

from __future__ import annotations

import importlib.util
import os
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from io import BytesIO
from pathlib import Path

import pytest

from intake.core.errors import ParseError
from intake.core.mail import Address, ParsedMail
from intake.ingest.headers import decode_words
from intake.ingest.parsing import parse

DATA = Path(__file__).parents[1] / "data" / "mail"
CST = timezone(timedelta(hours=8))


def load(name: str) -> ParsedMail:
    return parse((DATA / name).read_bytes())


def test_qq_mail_gb18030() -> None:
    mail = load("qqmail_gb18030.eml")
    assert mail.subject == "投稿：鎔铸（散文）"
    assert mail.sender == Address("张喆", "87654321@qq.example.com")
    assert mail.to == (Address("投稿邮箱", "submissions@news.example.cn"),)
    assert mail.message_id == "tencent_5E3F2A1B9C8D7E6F5A4B3C2D1E0F@qq.example.com"
    assert mail.date == datetime(2024, 3, 5, 20, 31, 6, tzinfo=CST)
    assert mail.date.utcoffset() == timedelta(hours=8)
    assert mail.content_type == "multipart/mixed"
    # text/plain is preferred to the HTML alternative.
    assert mail.text == (
        "编辑老师您好：\n\n　　附件是我的投稿《鎔铸》，讲述外婆在𠀀字号老铺里的故事，请查收。"
        "\n\n祝好！\n张喆"
    )
    assert "<div>编辑老师您好：</div>" in mail.html
    (doc,) = mail.attachments
    assert doc.filename == "鎔铸-张喆投稿.docx"
    assert doc.safe_name == "鎔铸-张喆投稿.docx"
    assert doc.content_type == "application/octet-stream"
    assert zipfile.ZipFile(BytesIO(doc.payload)).namelist()[-1] == "word/document.xml"
    assert not doc.inline
    assert mail.header("X-QQ-MIME") == "TCMime 1.0 by Tencent"
    assert mail.return_path == "87654321@qq.example.com"
    assert mail.defects == ()
    assert mail.bounce is None


def test_foxmail_gb2312_label_holding_gbk_and_gb18030() -> None:
    mail = load("foxmail_gb2312_gbk.eml")
    assert mail.subject == "学生习作：《𡃁仔的夏天》（朱镕基中学）"
    assert mail.sender == Address("王堃", "wangkun@163.example.com")
    assert mail.cc == (Address("李昇", "lisheng@126.example.com"),)
    assert mail.reply_to == (Address("", "wangkun@163.example.com"),)
    assert "我是朱镕基中学的语文老师王堃，附上学生李昇的习作《𡃁仔的夏天》" in mail.text
    assert "镕" in mail.html  # the quoted-printable HTML alternative, gb2312-labelled too
    (doc,) = mail.attachments
    assert doc.filename == "李昇-𡃁仔的夏天.doc"
    assert doc.content_type == "application/msword"
    assert doc.payload.startswith(b"\xd0\xcf\x11\xe0")
    assert mail.defects == ()


def test_netease_split_encoded_words_and_rfc2231_filename() -> None:
    mail = load("netease163_split_words.eml")
    assert mail.subject == "投稿《城中村的早晨》"
    assert mail.sender == Address("陈晨", "chenchen_writer@163.example.com")
    assert mail.date == datetime(2024, 3, 7, 7, 58, 31, tzinfo=CST)
    (doc,) = mail.attachments
    assert doc.filename == "城中村的早晨（终稿）.docx"
    assert doc.content_type.endswith("wordprocessingml.document")
    assert mail.text.startswith("编辑：\n　　您好！投稿一篇")
    assert mail.defects == ()


def test_outlook_express_big5_hkscs() -> None:
    mail = load("outlook_express_big5.eml")
    assert mail.subject == "投稿：《𨋢門前》"
    assert mail.sender == Address("陳大文", "taiman.chan@netvigator.example.com")
    assert mail.text == "編輯先生：\n\n附上拙作《𨋢門前》，寫香港舊樓冇𨋢嘅日子，請賜正。\n\n陳大文"
    assert mail.attachments == ()
    assert mail.content_type == "text/plain"


def test_html_only_body_becomes_text() -> None:
    mail = load("html_only_iphone.eml")
    assert mail.text == (
        "编辑您好，\n\n这是我拍的暴雨现场照片说明，原图见 网盘链接 (https://pan.example.com/s/1AbC)。"
        "\n\n- 拍摄时间：3月9日\n- 地点：滨江路\n\n发自我的iPhone"
    )
    assert mail.html.startswith("<html>")
    assert "<" not in mail.text


def test_forwarded_message_is_kept_and_walked() -> None:
    mail = load("thunderbird_forward_rfc822.eml")
    # format=flowed soft breaks are joined; the signature separator "-- " is not.
    assert mail.text == (
        "Forwarding Amy's submission to the desk, she sent it to me directly. Flowed text "
        "continues on this line.\n\n-- \nZhou Wen"
    )
    assert "night market" not in mail.text  # the enclosed text is not this message's body
    eml, docx = mail.attachments
    assert eml.filename == "Night market feature.eml"
    assert eml.content_type == "message/rfc822"
    inner = parse(eml.payload)
    assert inner.subject == "Night market feature"
    assert inner.message_id == "a1b2c3d4-night-market@example.org"
    assert inner.attachments[0].payload == docx.payload
    assert docx.filename == "night-market.docx"
    assert docx.payload.startswith(b"PK")


def test_malformed_mime_is_read_with_defects() -> None:
    mail = load("malformed_mime.eml")
    assert mail.text == "正文在这里。"
    (pdf,) = mail.attachments
    assert pdf.filename == "report.pdf"
    assert pdf.payload.startswith(b"%PDF-1.4")
    assert "message (multipart/mixed): CloseBoundaryNotFoundDefect" in mail.defects
    assert "message/2: base64 junk or data after padding ignored" in mail.defects


def test_hostile_filenames() -> None:
    mail = load("hostile_filenames.eml")
    names = [(a.filename, a.safe_name) for a in mail.attachments]
    assert names[0] == ("../../etc/passwd", "passwd")
    assert names[1] == ("a\r\nb.doc", "a b.doc")
    assert names[2] == ("invoice\u202efdp.exe", "invoicefdp.exe")
    long_name, long_safe = names[3]
    assert len(long_name) > 200
    assert long_safe.endswith(".docx") and len(long_safe.encode()) <= 200
    assert names[4] == ("..", "attachment")
    assert names[5] == ("C:\\Users\\Public\\evil.bat", "evil.bat")
    assert names[6] == ("con.jpg", "_con.jpg")
    assert mail.attachments[6].inline


def test_raw_8bit_gbk_headers() -> None:
    mail = load("outlook_express_raw_8bit_gbk.eml")
    assert mail.subject == "诗稿三首（赵喆）"
    assert mail.sender == Address("赵喆", "zhaozhe@sina.example.com")
    assert mail.to == (Address("投稿", "submissions@news.example.cn"),)
    assert mail.text == "各位编辑：\n　　随信附上诗稿三首，请批评指正。\n赵喆"
    assert [a.filename for a in mail.attachments] == ["诗稿.doc"]
    assert mail.header("subject") == "诗稿三首（赵喆）"
    assert "Subject: raw 8-bit header that is not UTF-8" in mail.defects


def test_raw_8bit_utf8_headers_are_not_defects() -> None:
    raw = "From: 李雷 <lilei@example.com>\nSubject: 你好\nDate: Tue, 5 Mar 2024 10:00:00 +0800\n"
    mail = parse(f"{raw}\n正文\n".encode())
    assert mail.subject == "你好"
    assert mail.sender == Address("李雷", "lilei@example.com")
    assert mail.text == "正文"
    assert mail.defects == ()


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.eml")))
def test_crlf_as_imap_returns_it(name: str) -> None:
    raw = (DATA / name).read_bytes()
    lf = parse(raw)
    crlf = parse(raw.replace(b"\n", b"\r\n"))
    assert crlf.subject == lf.subject
    assert crlf.sender == lf.sender
    assert crlf.text == lf.text
    assert [
        (a.filename, a.payload) for a in crlf.attachments if a.content_type != "message/rfc822"
    ] == [(a.filename, a.payload) for a in lf.attachments if a.content_type != "message/rfc822"]
    assert crlf.headers == lf.headers


def test_bounce_is_detected_through_parse() -> None:
    mail = parse((DATA / "bounces" / "postfix_dsn_failed.eml").read_bytes())
    assert mail.return_path == ""
    assert mail.bounce is not None
    assert mail.bounce.permanent
    assert mail.bounce.original_message_ids == ("reply.20240305.7f3a9c@intake.news.example.cn",)


# --- headers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoded", "decoded"),
    [
        # A GBK character (稿 = B8 E5) split between two base64 words.
        ("=?GBK?B?zba4?= =?GBK?B?5Q==?=", "投稿"),
        # The same with a gb2312 label on GBK-only 镕 (E9 46) split across words.
        ("=?gb2312?B?1uzp?= =?gb2312?B?Rrv5?=", "朱镕基"),
        # UTF-8 中 (E4 B8 AD) split in Q encoding, folded onto a new line.
        ("=?UTF-8?Q?=E4=B8?=\r\n =?UTF-8?Q?=AD=E6=96=87?=", "中文"),
        # Base64 split off a four-character boundary.
        ("=?utf-8?B?5Lit5?= =?utf-8?B?paH?=", "中文"),
        ("Re: =?utf-8?B?5Lit5paH?= draft", "Re: 中文 draft"),
        ("=?utf-8?q?a_b?= =?iso-8859-1?q?caf=E9?=", "a bcafé"),
        ("=?utf-8*zh?B?5Lit5paH?=", "中文"),
        ("plain ascii", "plain ascii"),
        # Raw 8-bit text inside an encoded word (already decoded from the header bytes).
        ("=?gb2312?Q?中文?=", "中文"),
        ("=?gb2312?B?broken", "=?gb2312?B?broken"),
    ],
)
def test_decode_words(encoded: str, decoded: str) -> None:
    assert decode_words(encoded.replace("\r\n ", " ")) == decoded


def test_decode_words_unknown_charset_is_noted() -> None:
    defects: list[str] = []
    assert decode_words("=?x-unknown?B?5Lit5paH?=", defects, "Subject") == "中文"
    assert defects == ["Subject: unknown charset 'x-unknown'"]


def raw_message(*headers: str, body: str = "body\n") -> bytes:
    return ("\n".join(headers) + "\n\n" + body).encode()


def test_ids_and_return_path() -> None:
    mail = parse(
        raw_message(
            "Return-Path: <>",
            "From: a@example.com",
            "Message-ID: <abc@x.example>",
            "In-Reply-To: <r1@x.example> (Zhang San's message)",
            "References: <r0@x.example>\n <r1@x.example>",
            "Date: Tue, 5 Mar 2024 10:00:00 +0800",
        )
    )
    assert mail.message_id == "abc@x.example"
    assert mail.in_reply_to == ("r1@x.example",)
    assert mail.references == ("r0@x.example", "r1@x.example")
    assert mail.return_path == ""
    assert mail.thread_ids == ("r1@x.example", "r0@x.example")


def test_missing_headers() -> None:
    mail = parse(raw_message("Subject: hi"))
    assert mail.message_id == ""
    assert mail.sender is None
    assert mail.return_path is None
    assert mail.date is None
    assert "Date: header missing" in mail.defects


def test_unparseable_date_is_none_with_a_defect() -> None:
    mail = parse(raw_message("From: a@example.com", "Date: 2024-03-05 10:15:08"))
    assert mail.date is None
    assert "Date: invalid-date-syntax: '2024-03-05 10:15:08'" in mail.defects


def test_obsolete_date_read_leniently() -> None:
    mail = parse(raw_message("From: a@example.com", "Date: 01 Jan 2001 00:01+0000"))
    assert mail.date == datetime(2001, 1, 1, 0, 1, tzinfo=UTC)


def test_several_to_addresses_and_headers_in_order() -> None:
    mail = parse(
        raw_message(
            "From: =?utf-8?B?5byg5LiJ?= <zs@example.com>",
            'To: "Li, Si" <ls@example.com>, ww@example.com',
            "To: extra@example.com",
            "X-Custom: =?utf-8?B?5Lit5paH?=",
        )
    )
    assert mail.to == (
        Address("Li, Si", "ls@example.com"),
        Address("", "ww@example.com"),
        Address("", "extra@example.com"),
    )
    assert [name for name, _ in mail.headers] == ["From", "To", "To", "X-Custom"]
    assert mail.header("x-custom") == "中文"
    assert mail.header("From") == "张三 <zs@example.com>"


# --- what cannot be parsed ---------------------------------------------------------------------


def nested(depth: int) -> bytes:
    lines = ["From: a@example.com", 'Content-Type: multipart/mixed; boundary="b0"', ""]
    for level in range(depth):
        lines += [f"--b{level}", f'Content-Type: multipart/mixed; boundary="b{level + 1}"', ""]
    lines += [f"--b{depth}", "Content-Type: text/plain", "", "deep"]
    lines += [f"--b{level}--" for level in range(depth, -1, -1)]
    return "\n".join(lines).encode()


def test_moderate_nesting_is_fine() -> None:
    assert parse(nested(20)).text == "deep"


@pytest.mark.parametrize("depth", [60, 1200])
def test_deep_nesting_is_a_parse_error(depth: int) -> None:
    # 60: over our limit; 1200: the stdlib parser itself runs out of recursion.
    with pytest.raises(ParseError, match="nested"):
        parse(nested(depth))


@pytest.mark.parametrize("raw", [b"", b"\r\n\r\n  "])
def test_empty_is_a_parse_error(raw: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        parse(raw)


def test_headerless_text_is_parsed_with_a_defect() -> None:
    mail = parse(b"Just some text\nwith no headers at all.\n")
    assert "message has no header fields" in mail.defects
    assert "with no headers at all." in mail.text


# --- CPython's own email test corpus -----------------------------------------------------------


def cpython_email_corpus() -> Path | None:
    # The CPython test package is left out of some distributions' Python builds.
    spec = importlib.util.find_spec("test")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "test_email" / "data"
    return path if path.is_dir() else None


def test_cpython_email_corpus_never_crashes() -> None:
    corpus = cpython_email_corpus()
    if corpus is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CPython's test_email data is missing; CI must have it")
        pytest.skip("CPython's test_email data is not installed")
    files = sorted(corpus.glob("msg_*.txt"))
    assert len(files) >= 47
    refused: list[str] = []
    for path in files:
        try:
            mail = parse(path.read_bytes())
        except ParseError:
            refused.append(path.name)
            continue
        assert isinstance(mail.text, str)
        for attachment in mail.attachments:
            assert attachment.safe_name
    assert refused == []


# --------------------------------------------------------------------------- hostile shapes


def _flowed(body: str, *, delsp: bool = False) -> bytes:
    params = "; format=flowed" + ("; delsp=yes" if delsp else "")
    return (
        f"From: a@example.com\r\nContent-Type: text/plain; charset=utf-8{params}\r\n\r\n{body}"
    ).encode()


@pytest.mark.parametrize(
    ("body", "delsp", "text"),
    [
        ("one \r\ntwo \r\nthree\r\nfour", False, "one two three\nfour"),
        ("一二 \r\n三四\r\n", True, "一二三四"),
        ("> quoted \r\n> more\r\n>> deeper \r\n>> too\r\nplain", False,
         "> quoted more\n>> deeper too\nplain"),
        # A "-- " line ends a paragraph only when it starts one (as the parser always did).
        ("text \r\n-- \r\nsignature", False, "text -- signature"),
        ("-- \r\nsig \r\nname", False, "-- \nsig name"),
        ("- \r\n- \r\nx", True, "-- \nx"),  # "-- " made by a join is a separator too
        (" stuffed \r\n line", False, "stuffed line"),
        ("a \r\n\r\nb", False, "a b"),  # an empty line joined to a soft break stays soft
    ],
)  # fmt: skip
def test_format_flowed_is_unfolded(body: str, delsp: bool, text: str) -> None:
    assert parse(_flowed(body, delsp=delsp)).text == text


def test_a_long_flowed_paragraph_is_one_line() -> None:
    mail = parse(_flowed("word \r\n" * 50_000 + "end", delsp=True))
    assert mail.text == "word" * 50_000 + "end"


def test_boundaries_nested_past_the_limit_are_refused_before_parsing() -> None:
    with pytest.raises(ParseError, match="boundaries nested more than 100 deep"):
        parse(nested(101))
    # Many multiparts one after the other, and lines that only look like delimiters, are fine.
    parts = "".join(
        f'--top\r\nContent-Type: multipart/alternative; boundary="alt{i}"\r\n\r\n'
        f"--alt{i}\r\nContent-Type: text/plain\r\n\r\npart {i}\r\n-----Original-----\r\n"
        f"--alt{i}--\r\n"
        for i in range(300)
    )
    raw = f'From: a@example.com\r\nContent-Type: multipart/mixed; boundary="top"\r\n\r\n{parts}'
    assert "part 299" in parse((raw + "--top--\r\n").encode()).text


def test_a_message_nested_in_a_forwarded_message_is_kept_once() -> None:
    inner = (
        b"Subject: inner\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="i"\r\n\r\n'
        b"--i\r\nContent-Type: text/plain\r\n\r\ninner text\r\n"
        b"--i\r\nContent-Type: application/pdf\r\n"
        b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n%PDF-1.4\r\n--i--\r\n'
    )
    middle = (
        b'Subject: middle\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="m"\r\n'
        b"\r\n--m\r\nContent-Type: text/plain\r\n\r\nmiddle\r\n--m\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--m--\r\n"
    )
    outer = (
        b'From: a@example.com\r\nSubject: outer\r\nContent-Type: multipart/mixed; boundary="o"'
        b"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nouter\r\n--o\r\n"
        b"Content-Type: message/rfc822\r\n\r\n" + middle + b"\r\n--o--\r\n"
    )
    mail = parse(outer)
    assert [a.content_type for a in mail.attachments] == ["message/rfc822", "application/pdf"]
    assert b"inner text" in mail.attachments[0].payload  # the inner message, inside the outer
    assert mail.text == "outer"


@pytest.mark.parametrize("end", [b"\r\r\n", b"\r\r\r\n"])
def test_lines_ended_cr_cr_lf_keep_their_header(end: bytes) -> None:
    # A mailer that turned LF into CRLF twice: read as it is, an empty line follows the first
    # field, and the subject, the Message-ID and the charset fall into the body.
    lines = [
        b"From: =?utf-8?b?5byg5LiJ?= <zhang@example.com>",
        b"To: tougao@nsnews.example",
        b"Subject: =?gbk?b?zba45Q==?=",
        b"Message-ID: <crcrlf@example.com>",
        b"Content-Type: text/plain; charset=gbk",
        b"",
        "春天来了。".encode("gbk"),
    ]
    mail = parse(end.join(lines) + end)
    assert mail.subject == "投稿"
    assert mail.message_id == "crcrlf@example.com"
    assert mail.text.strip() == "春天来了。"


def test_a_cr_inside_a_line_is_left_alone() -> None:
    raw = b"From: a@example.com\r\nSubject: x\r\n\r\nline one\r\r\nline two\r\n"
    assert parse(raw).subject == "x"
