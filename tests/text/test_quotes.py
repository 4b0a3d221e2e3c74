"""intake.text.quotes: the new text of a reply, from each mail client's real quoting format."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.ingest import parsing
from intake.text import quotes

REPLIES = Path(__file__).parents[1] / "data" / "replies"

#: Each client's reply (tests/data/replies/README.md) and what its sender wrote.
NEW_TEXT = {
    "qq-web.eml": "同意\n\n张三\n1234567890@qq.com",
    "qq-app.eml": "我同意授权，谢谢编辑老师！",
    "qq-card.eml": "同意。\n\nzhangsan",
    "foxmail.eml": "同意\n\nzhangsan@foxmail.com",
    "netease-webmail.eml": "同意授权。\n\n王五",
    "netease-mailmaster.eml": "不同意，谢谢。\n\n| |\n王五\n|\n|\nwangwu2019@163.com\n|",
    "outlook-desktop-zh.eml": "不同意。\n\n李四",
    "outlook-web.eml": "I agree.\n\nLi Si",
    "gmail-zh.eml": "同意",
    "gmail-en.eml": "Agreed, thank you. 同意授权。",
    "iphone-zh.eml": "同意",
    "thunderbird-zh.eml": "我同意。",
}


def lines(*parts: str) -> str:
    return "\n".join(parts)


def crlf_lines(*parts: str) -> str:
    return "\r\n".join(parts)


def test_every_fixture_is_covered() -> None:
    assert sorted(p.name for p in REPLIES.glob("*.eml")) == sorted(NEW_TEXT)


@pytest.mark.parametrize("name", sorted(NEW_TEXT))
def test_client_reply_new_text(name: str) -> None:
    text = parsing.parse((REPLIES / name).read_bytes()).text
    split = quotes.split(text)
    assert split.new == NEW_TEXT[name]
    # Nothing of our request survives (it says both 同意 and 不同意) ...
    assert "如何答复" not in split.new and "授权内容" not in split.new
    # ... and the request is what was cut off.
    assert "如何答复" in split.quoted
    assert split.cue


def test_qq_card_in_chinese_starts_at_the_bare_label() -> None:
    text = lines(
        "好的，同意。",
        "",
        "         原始邮件",
        "         ",
        "发件人:编辑部 <t@n.example>",
        "发送时间:2026年11月20日 10:02",
        "",
        "如同意请回复",
    )
    assert quotes.new_text(text) == "好的，同意。"


def test_foxmail_chinese_header_block_with_full_width_colons() -> None:
    text = lines(
        "同意",
        " ",
        " ",
        "zs@foxmail.com",
        " ",
        "发件人： 南山新闻网投稿",
        "发送时间： 2026-11-20 10:02",
        "收件人： zs",
        "主题： [投稿 #1]",
        "如同意，请回复",
    )
    assert quotes.new_text(text) == "同意\n\nzs@foxmail.com"


def test_mail_master_in_chinese() -> None:
    text = lines(
        "不同意",
        "",
        "---- 回复的原邮件 ----",
        "| 发件人 | 编辑部<t@n.example> |",
        "| 发送日期 | 2026年11月20日 10:02 |",
        "同意请回复",
    )
    assert quotes.new_text(text) == "不同意"


def test_outlook_rule_then_chinese_header_block() -> None:
    text = crlf_lines(
        "同意",
        "",
        "________________________________",
        "发件人: 编辑部 <t@n.example>",
        "发送时间: 2026年11月20日 10:02",
        "收件人: 李四",
        "主题: 授权",
        "",
        "不同意请回复",
    )
    assert quotes.new_text(text) == "同意"


def test_bold_markers_from_html_to_text() -> None:
    text = lines(
        "同意", "", "> ", "*发件人:* 编辑部 <t@n.example>", "*发送时间:* 2026年11月20日 10:02",
        "*主题:* 授权", "不同意",
    )  # fmt: skip
    assert quotes.new_text(text) == "同意"


def test_gmail_attribution_wrapped_over_two_lines() -> None:
    text = lines(
        "I agree",
        "",
        "On Fri, Nov 20, 2026 at 10:02 AM Editor <tougao@nsnews.example>",
        "wrote:",
        "",
        "> do you agree?",
    )
    assert quotes.new_text(text) == "I agree"


def test_attribution_without_quote_marks_cuts_to_the_end() -> None:
    # HTML-only mail turned into text loses the ">" of its blockquote.
    text = '同意\n\n在 2026-11-20 10:02:11，"编辑部" <t@n.example> 写道：\n不同意请回复'
    assert quotes.new_text(text) == "同意"


def test_bottom_posted_answer_after_the_quote_is_new() -> None:
    text = (
        "On Fri, Nov 20, 2026 at 10:02 AM Editor <t@n.example> wrote:\n> Do you agree?\n\nI agree."
    )
    split = quotes.split(text)
    assert split.new == "I agree."
    assert "Do you agree?" in split.quoted


def test_interleaved_answers_keep_only_unquoted_lines() -> None:
    text = "> 一、作品名称\n好的\n> 二、是否同意\n同意"
    assert quotes.new_text(text) == "好的\n同意"


@pytest.mark.parametrize(
    "signature",
    ["发自我的iPhone", "发自我的华为手机", "来自我的华为Mate 60", "Sent from my iPhone",
     "Sent from my Huawei phone", "Get Outlook for Android", "发自网易邮箱大师",
     "从我的 iPad 发送"],
)  # fmt: skip
def test_phone_signatures_are_not_new_text(signature: str) -> None:
    assert quotes.new_text(f"同意\n\n{signature}\n\n> 原文") == "同意"


def test_words_like_a_signature_in_a_sentence_are_kept() -> None:
    assert quotes.new_text("发自我的内心地同意授权") == "发自我的内心地同意授权"


def test_dash_dash_signature_is_cut() -> None:
    assert quotes.new_text("同意\n-- \n张三\n作家协会会员") == "同意"


def test_own_words_that_look_like_an_attribution_are_kept() -> None:
    text = "我在第3段写道：\n春天来了\n同意"
    assert quotes.new_text(text) == text


def test_a_single_from_line_in_the_text_is_not_a_header_block() -> None:
    text = "发件人：张三（笔名）\n同意授权"
    assert quotes.new_text(text) == text


def test_entities_in_qq_plain_text_are_decoded() -> None:
    text = "同意&nbsp;\n------------------&nbsp;Original&nbsp;------------------\nFrom: x"
    assert quotes.new_text(text) == "同意"


def test_all_quoted_and_empty() -> None:
    assert quotes.new_text("> 如同意请回复\n> 同意") == ""
    assert quotes.new_text("") == ""
    assert quotes.split("同意").cue == ""
