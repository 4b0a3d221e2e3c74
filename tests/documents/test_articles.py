"""The article choice on a table of real-style bodies, the cover note, and the fee."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from intake.core.config import FeesConfig
from intake.documents.articles import choose, points_at_attachment, read
from intake.submissions.fees import fee
from intake.text.covernote import cover_note

DOCS = Path(__file__).parents[1] / "data" / "docs"
ESSAY = "\n".join((DOCS / "article-utf8.txt").read_text(encoding="utf-8").split("\n\n")).strip()
POEM = "春夜\n\n雨落在窗台上\n灯亮在河对岸\n我想起你"  # a short document: a poem
BRIEF = "本报讯 3月5日，南山区图书馆新馆开放。"  # a one-line news brief
LONG_BODY = ESSAY  # an article pasted into the body

# (body, the document's text, "doc" when the document must be the article, else "body")
ROWS: list[tuple[str, str, str]] = [
    # the usual cover notes: the short document wins whatever its length
    ("编辑老师您好：稿件见附件，请查收。谢谢！", POEM, "doc"),
    ("编辑老师您好：稿件见附件，请查收。谢谢！", BRIEF, "doc"),
    ("稿件见附件", POEM, "doc"),
    ("见附件。", POEM, "doc"),
    ("附件为拙作《春夜》，请审阅。", POEM, "doc"),
    ("附件是我的投稿，望采用。", POEM, "doc"),
    ("详见附件", BRIEF, "doc"),
    ("请查收！", POEM, "doc"),
    ("敬请查收，谢谢", POEM, "doc"),
    ("您好，投稿一篇，以附件形式发送，请查收。", POEM, "doc"),
    ("您好！附上诗稿一组，请编辑老师斧正。", POEM, "doc"),
    ("随信附上小文一篇。", POEM, "doc"),
    ("稿件在附件里，麻烦老师看看。", POEM, "doc"),
    ("文章见附件，字数约五百。", POEM, "doc"),
    ("拙作见附件，不吝赐教。", POEM, "doc"),
    ("编辑您好，附件：春夜.docx", POEM, "doc"),
    ("編輯老師您好：稿件見附件，請查收。謝謝！", POEM, "doc"),
    ("附上拙作一篇，敬請指正。", POEM, "doc"),
    ("お世話になっております。原稿を添付いたします。", POEM, "doc"),
    ("안녕하세요. 원고를 첨부합니다.", POEM, "doc"),
    ("Dear editor,\n\nPlease find my poem attached.\n\nBest,\nZhang", POEM, "doc"),
    ("Hi, my submission is attached. Thanks!", POEM, "doc"),
    ("Attached is my story for your consideration.", POEM, "doc"),
    ("PFA my article.", POEM, "doc"),
    ("Enclosed please find a short poem.", POEM, "doc"),
    ("I have attached the essay we discussed.", BRIEF, "doc"),
    # greetings, thanks and a signature only
    ("", POEM, "doc"),
    ("您好！", POEM, "doc"),
    ("编辑老师好", POEM, "doc"),
    ("谢谢！", POEM, "doc"),
    ("您好\n\n-- \n张三\n某某大学", POEM, "doc"),
    ("老师您好！\n\n此致\n敬礼\n\n李明\n13812345678", POEM, "doc"),
    ("尊敬的编辑：\n您好！\n\n祝编安！\n王芳 敬上", POEM, "doc"),
    ("Hello,\n\nThanks,\nSam", POEM, "doc"),
    ("发自我的iPhone", POEM, "doc"),
    ("编辑部：\n\n作者：李明\n电话：13812345678\n地址：深圳市南山区科技园路1号", POEM, "doc"),
    ("您好\n\n发自网易邮箱大师", BRIEF, "doc"),
    # a cover note with a longer introduction still points at the attachment
    (
        "编辑老师您好！我是一名退休教师，平时喜欢写写散文，这是我第一次投稿，"
        "写的是我小时候住过的老街。稿件见附件，请查收。",
        POEM,
        "doc",
    ),
    # quoted originals do not count as the body
    ("修改稿见附件。\n\n------------------ 原始邮件 ------------------\n" + ESSAY, POEM, "doc"),
    # the article is in the body
    (LONG_BODY, "作者简介：张三，退休教师。", "body"),
    (LONG_BODY + "\n\n作者简介见附件。", "作者简介：张三，退休教师，现居深圳。", "body"),
    (LONG_BODY + "\n\n照片见附件。", "图一：老街的早晨。", "body"),
    (LONG_BODY + "\n\n配图见附件，请查收。", "图注：老槐树。", "body"),
    (LONG_BODY + "\n\n身份证照片在附件里。", "身份证", "body"),
    (LONG_BODY, POEM, "body"),
    (LONG_BODY + "\n", ESSAY, "body"),
    ("I felt attached to the old street. " * 30, POEM, "body"),
    ("The attachment we feel to a place is older than any map. " * 30, POEM, "body"),
    # a short body without a pointer, a long document: the document
    ("我是一名退休教师，平时喜欢写写散文。" * 5, ESSAY, "doc"),
    ("我是一名退休教师，平时喜欢写写散文。" * 12, ESSAY * 3, "doc"),
]


@pytest.mark.parametrize(("body", "document", "expected"), ROWS)
def test_article_choice(body: str, document: str, expected: str) -> None:
    chosen = choose(body, [("稿件.docx", document)])
    assert ("doc" if chosen.from_documents else "body") == expected, chosen.reason
    if expected == "doc":
        assert chosen.text == document.strip()


def test_the_table_is_large() -> None:
    assert len(ROWS) >= 50


@pytest.mark.parametrize(
    "body", ["照片见附件", "作者简介见附件", "photos attached? no: see the attached photo"]
)
def test_pointers_at_other_things(body: str) -> None:
    assert points_at_attachment(body) is (body.startswith("photos"))


def test_cover_note_is_the_body_when_the_article_came_from_a_document() -> None:
    body = "编辑老师您好：稿件见附件，请查收。谢谢！\n\n-- \n李明"
    assert cover_note(body, "春夜.docx") == body
    assert cover_note(body, "body") == ""
    quoted = body + "\n\n------------------ 原始邮件 ------------------\n发件人: 编辑部"
    assert cover_note(quoted, "春夜.docx") == body


def test_read_takes_the_author_from_the_cover_note_then_the_document() -> None:
    body = "稿件见附件。\n作者：李明\n电话：13812345678"
    document = POEM + "\n\n地址：深圳市南山区科技园路1号\n邮编：518057"
    article = read(body, [("春夜.docx", document)])
    assert article.chosen.source == "春夜.docx"
    assert article.author.as_json()["phone"] == "13812345678"
    assert (article.author.address, article.author.postcode) == (
        "深圳市南山区科技园路1号",
        "518057",
    )


@pytest.mark.parametrize(
    ("chars", "fees", "expected"),
    [
        (2345, FeesConfig(rate_per_thousand_chars=100), Decimal("235.00")),
        (2345, FeesConfig(rate_per_thousand_chars=100, round_to="fen"), Decimal("234.50")),
        (2345, FeesConfig(rate_per_thousand_chars=100, rounding="down"), Decimal("234.00")),
        (2301, FeesConfig(rate_per_thousand_chars=100, rounding="up"), Decimal("231.00")),
        (2345, FeesConfig(rate_per_thousand_chars=100, count="thousands-up"), Decimal("300.00")),
        (2345, FeesConfig(rate_per_thousand_chars=80, round_to="ten"), Decimal("190.00")),
        (1234, FeesConfig(rate_per_thousand_chars=33.3, round_to="jiao"), Decimal("41.10")),
        (120, FeesConfig(rate_per_thousand_chars=100, minimum=50), Decimal("50.00")),
        (0, FeesConfig(rate_per_thousand_chars=100, minimum=50), Decimal("0.00")),
        (1005, FeesConfig(rate_per_thousand_chars=0.1, round_to="fen"), Decimal("0.10")),
    ],
)
def test_fee(chars: int, fees: FeesConfig, expected: Decimal) -> None:
    assert fee(chars, fees) == expected


def test_no_rate_no_fee() -> None:
    assert fee(5000, FeesConfig()) is None
