"""intake.conversations.consent: a grant or a refusal in a reply's new text, never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.conversations.consent import Decision, read
from intake.core.config import CopyrightConfig
from intake.ingest import parsing
from intake.text import quotes

RIGHTS = CopyrightConfig()
REPLIES = Path(__file__).parents[1] / "data" / "replies"


def decide(text: str) -> Decision:
    return read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases).decision


@pytest.mark.parametrize(
    ("name", "decision"),
    [
        ("qq-web.eml", Decision.GRANT),
        ("qq-app.eml", Decision.GRANT),
        ("qq-card.eml", Decision.GRANT),
        ("foxmail.eml", Decision.GRANT),
        ("netease-webmail.eml", Decision.GRANT),
        ("netease-mailmaster.eml", Decision.REFUSE),
        ("outlook-desktop-zh.eml", Decision.REFUSE),
        ("outlook-web.eml", Decision.GRANT),
        ("gmail-zh.eml", Decision.GRANT),
        ("gmail-en.eml", Decision.GRANT),
        ("iphone-zh.eml", Decision.GRANT),
        ("thunderbird-zh.eml", Decision.GRANT),
    ],
)
def test_each_client_reply_is_read(name: str, decision: Decision) -> None:
    text = parsing.parse((REPLIES / name).read_bytes()).text
    assert decide(quotes.new_text(text)) is decision


def test_the_whole_reply_with_its_quote_would_be_unclear() -> None:
    # Why only the new text is read: our quoted request says both.
    text = parsing.parse((REPLIES / "qq-web.eml").read_bytes()).text
    assert decide(text) is Decision.UNCLEAR


@pytest.mark.parametrize(
    "text",
    ["同意", "我同意。", "同意授权，谢谢！", "非常同意！", "同意\n\n张三", "I agree.", "Agreed.",
     "agree", "Ｉ ａｇｒｅｅ！", "Agreed, thank you. 同意授权。", "没什么问题，同意",
     "No problem, I agree", "我同意。\n\n另外想问稿费什么时候发？"],
)  # fmt: skip
def test_grants(text: str) -> None:
    reading = read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert reading.decision is Decision.GRANT, reading
    assert reading.phrase


@pytest.mark.parametrize(
    "text",
    ["不同意", "我不同意授权。", "不授权", "拒绝", "不愿意", "I disagree.", "I do not agree",
     "I don’t agree", "sorry, I don't agree", "不同意。谢谢"],
)  # fmt: skip
def test_refusals(text: str) -> None:
    assert decide(text) is Decision.REFUSE


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("同意吗?", "question"),
        ("同意吗", "question"),
        ("是否需要同意？", "question"),
        ("Do I need to agree?", "question"),
        ("不同意会怎么样？", "question"),
        ("不太同意", "negated"),
        ("无法同意", "negated"),
        ("并非不同意", "negated"),
        ("I don't really agree", "negated"),
        ("I have not agreed yet", "negated"),
        ("如同意，请回复", "conditional"),
        ("同意，但请保留我的笔名", "reservation"),
        ("I agree, but only for the website", "reservation"),
        ("同意 but I don't agree to exclusive use", "both"),
        ("我同意，但我爱人不同意", "both"),
        ("I agree 不同意", "both"),
        ("好的，收到", "no grant"),
        ("agreement", "no grant"),
        ("", "no new text"),
    ],
)
def test_unclear_is_never_guessed(text: str, why: str) -> None:
    reading = read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert reading.decision is Decision.UNCLEAR
    assert why in reading.reason, reading


def test_refusal_containing_the_grant_word_is_a_refusal() -> None:
    reading = read("不同意", ["同意"], ["不同意"])
    assert (reading.decision, reading.phrase) == (Decision.REFUSE, "不同意")


def test_phrases_come_from_configuration() -> None:
    assert read("可以用", ["可以用"], ["不可以"]).decision is Decision.GRANT
    assert read("同意", ["可以用"], ["不可以"]).decision is Decision.UNCLEAR
    assert read("不可以用", ["可以用"], ["不可以"]).decision is Decision.REFUSE
