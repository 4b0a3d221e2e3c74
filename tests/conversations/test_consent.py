"""intake.conversations.consent: a grant or a refusal in a reply's new text, never guessed.

The table ``ANSWERS`` holds answers written the way contributors write them (Chinese, English,
mixed; polite, conditional, negated, asked, partial, paid, hedged, traditional, full-width,
spaced, with emoji) and attempts to get a conditional answer read as a grant; each row is read
alone and inside every mail client's reply layout of tests/data/replies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.conversations.consent import MAX_ANSWER_CHARS, Decision, read
from intake.core.config import CopyrightConfig
from intake.ingest import parsing
from intake.text import quotes

RIGHTS = CopyrightConfig()
REPLIES = Path(__file__).parents[1] / "data" / "replies"
G, R, U = Decision.GRANT, Decision.REFUSE, Decision.UNCLEAR


def decide(text: str) -> Decision:
    return read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases).decision


ANSWERS: list[tuple[str, Decision]] = [
    # plain and polite grants, Chinese
    ("同意", G), ("同意。", G), ("我同意", G), ("我同意。", G), ("好的，同意", G),
    ("好的，同意！", G),
    ("同意，谢谢", G), ("同意，谢谢！", G), ("可以", G), ("可以的", G), ("可以，谢谢老师", G),
    ("没问题", G), ("没问题！", G), ("没有问题，同意。", G), ("没什么问题，同意", G),
    ("授权贵报刊登", G), ("我授权贵网站刊登该作品。", G), ("同意授权。", G),
    ("同意授权，谢谢！", G),
    ("非常同意！", G), ("完全同意", G), ("本人同意", G), ("收到，同意。", G), ("已阅，同意", G),
    ("同意，辛苦了", G), ("同意，麻烦老师了，谢谢！", G), ("同意刊登", G),
    ("同意发表，谢谢编辑老师", G),
    ("老师好，我同意授权，谢谢！", G),
    ("编辑老师您好！我同意将该作品授权贵网刊登。祝工作顺利！", G),
    ("愿意授权", G), ("我愿意", G), ("当然可以", G), ("当然同意，谢谢！", G), ("可以，没问题", G),
    ("没问题，可以发", G), ("同意转载", G), ("同意贵刊使用", G), ("同意，不客气", G),
    ("同意。如有问题请联系我。", G), ("同意。\n\n张三\n13800138000", G),
    ("同意\n\n张三\nzhangsan@qq.com", G),
    ("嗯嗯 同意", G), ("同意同意", G), ("同意！！！", G), ("无条件同意", G), ("允许刊登", G),
    ("欢迎刊登", G), ("行", G), ("行的，谢谢", G), ("请刊登，谢谢", G),
    ("同意。请问什么时候发表？", G),
    ("同意。如果发表了能通知我吗？", G), ("同意。再次感谢！", G), ("同意，不好意思回复晚了", G),
    ("同意，最后祝编辑老师工作顺利", G), ("王先生您好，同意。", G), ("同意。刚才看到邮件。", G),
    # traditional, full-width, spacing, typos, emoji
    ("同意發表", G), ("我同意授權，謝謝", G), ("沒問題", G), ("授權貴報刊登", G),
    ("可以，沒問題。", G),
    ("ＯＫ，同意！", G), ("Ｉ ａｇｒｅｅ！", G), ("同 意", G), ("同　意", G), ("同\u200b意", G),
    ("同意👍", G),
    ("同意🙏", G), ("同意😊😊", G), ("同义", G), ("I agre", G), ("i aggree", G),
    # English grants
    ("I agree", G), ("I agree.", G), ("Agreed.", G), ("Agreed, thank you.", G), ("Yes", G),
    ("Yes, you may publish it", G), ("Yes, you may publish it.", G), ("Sure, go ahead", G),
    ("Sure, go ahead.", G), ("Go ahead and publish.", G), ("I consent.", G),
    ("Permission granted.", G),
    ("No problem, I agree", G), ("No problem at all, go ahead!", G),
    ("Of course you can publish it!", G),
    ("I accept.", G), ("That's fine with me.", G), ("Feel free to publish it.", G),
    ("I agree. Thank you for considering my article.", G), ("I agree.\n\nBest regards,\nLi Si", G),
    ("Yes, I agree. Please let me know if you need anything else.", G),
    ("I hereby give my permission.", G),
    ("agree", G), ("I agree to the terms.", G), ("Agreed, thank you. 同意授权。", G),
    # mixed language
    ("同意 / I agree", G), ("OK, 同意", G), ("Yes 可以", G),
    # refusals
    ("不同意", R), ("不同意。", R), ("我不同意授权。", R), ("不授权", R), ("拒绝", R),
    ("不愿意", R),
    ("不同意，谢谢", R), ("不同意。谢谢", R), ("不同意，不好意思", R), ("我不同意刊登。", R),
    ("不，谢谢", R), ("不了，谢谢", R), ("算了", R), ("请勿刊登", R), ("不要发表", R), ("撤稿", R),
    ("I disagree.", R), ("I do not agree", R), ("I don’t agree", R), ("sorry, I don't agree", R),
    ("No.", R), ("No, thank you.", R), ("I refuse.", R), ("Please do not publish it.", R),
    ("I decline.", R), ("我不願意", R), ("不同意，我已经投给别的报社了。", R),
    # questions
    ("同意吗？", U), ("同意吗", U), ("同意?", U), ("需要我同意什么?", U),
    ("what do I agree to?", U),
    ("What do I agree to", U), ("是否需要同意？", U), ("Do I need to agree?", U), ("可以吗？", U),
    ("同意不同意都可以吗", U), ("可不可以不授权？", U), ("不同意会怎么样？", U), ("I agree?", U),
    ("同意❓", U), ("Should I agree?", U), ("我同意。请问需要我同意什么？", U),
    ("同意，但是稿费怎么算？", U),
    # conditions, both orders, near and far
    ("如果付稿费，我同意", U), ("我同意，如果你们付稿费的话", U), ("稿费到账后同意", U),
    ("付费的话可以", U), ("只要署名就同意", U), ("只有付费我才同意", U),
    ("同意，前提是署我的真名", U),
    ("除非付费，否则不同意", U), ("若能保留原标题，同意", U), ("假如不改动内容，可以", U),
    ("倘若贵报支付报酬，本人同意授权", U), ("同意，条件是独家首发", U), ("签合同后同意", U),
    ("等稿费到了再同意", U), ("如同意，请回复", U), ("同意，不过要先付费", U),
    ("我同意。前提是署我的真名。", U), ("同意。\n\n稿费请打到我的银行卡。", U),
    ("同意。稿费到账后生效。", U), ("同意授权，价格另议", U), ("可以，你们给多少钱？", U),
    ("If you pay, I agree", U), ("I agree if you pay", U),
    ("I agree, as long as you credit me.", U),
    ("Agreed, provided that my name is kept.", U), ("Agreed, providing you pay the fee.", U),
    ("I agree unless you change the title", U), ("Only if you pay me, I agree.", U),
    ("I agree on condition that it is not edited.", U), ("I agree. But only for the website.", U),
    ("I agree, subject to payment.", U), ("I agree once I receive the payment.", U),
    ("Yes, after you pay me.", U), ("I agree. Payment first, please.", U),
    ("I would agree if you paid.", U), ("Sure, but credit me as the author.", U),
    ("我同意，稿费到账后生效", U), ("付费后授权", U), ("稿費到帳後同意", U),
    ("如果有稿費的話我就同意", U),
    # negation and inability, before and after
    ("不太同意", U), ("无法同意", U), ("我没法同意", U), ("没办法同意", U), ("很难同意", U),
    ("同意不了", U), ("同意不了了", U), ("暂不同意", U), ("暂时不能同意", U),
    ("我从来没同意过", U),
    ("我不能同意", U), ("并非不同意", U), ("不是不同意", U), ("我并不反对", U), ("我没意见", U),
    ("I can't agree to this", U), ("I cannot agree.", U), ("I am unable to agree.", U),
    ("I'm not able to agree", U), ("I won't agree unless paid", U), ("I don't disagree.", U),
    ("I do not disagree", U), ("I don't really agree", U), ("I have not agreed yet", U),
    ("I dont agree with this", R), ("No, I agree", U), ("Yes and no.", U),
    ("同意❌", U),
    # partial grants and reservations
    ("只同意网络版", U), ("同意但不要改标题", U), ("同意，但请保留我的笔名", U),
    ("仅同意在网站刊登", U),
    ("同意，不得修改内容", U), ("同意授权一年", U), ("同意，但署名用笔名", U),
    ("同意非独家授权", U),
    ("同意，不过不要删改", U), ("I agree, but only for the website", U),
    ("I agree except for print.", U),
    ("I agree to non-exclusive use only.", U), ("Yes, but do not edit it.", U),
    ("同意。不要改标题。", U),
    ("同意。请不要修改。", U),
    # payment
    ("同意，稿费请寄到我的地址", U), ("同意免费使用", U),
    ("I agree. Please send the fee to my bank.", U),
    ("同意，需要付费吗？", U),
    # hedges and other matters
    ("应该可以", U), ("原则上同意", U), ("可能同意吧", U), ("我考虑一下", U),
    ("I think I agree", U),
    ("Maybe.", U), ("Probably fine.", U), ("我同意您的意见", U), ("I agree with you.", U),
    ("同意🤔", U),
    ("基本同意", U),
    # mixed grant and refusal
    ("我同意，但我爱人不同意", U), ("I agree 不同意", U),
    ("同意 but I don't agree to exclusive use", U),
    ("同意。不同意。", U), ("Yes. No.", U),
    # neither
    ("好的，收到", U), ("好的", U), ("收到", U), ("agreement", U), ("谢谢", U), ("张三", U),
    ("👍", U), ("OK", U), ("我再想想", U), ("已收到授权请求。", U), ("感谢接受我的稿件", U),
    ("感谢您的认可", U), ("我也可以投别家", U), ("附件是修改后的稿件", U),
    # attacks on the reader
    ("同意，ｉｆ ｙｏｕ ｐａｙ", U), ("I agree іf you pаy", U), ("I agree i f y o u p a y", U),
    ("同意，前.提是署.名", U), ("同意，稿-费先付", U), ("同意，如\u200b果付费", U),
    ("同意，付 费 后", U),
    ("I agree, p-a-y first", U), ("同意 ruguo gei gaofei", U), ("同意, pay me first", U),
    ("同意（稿费到账后）", U), ("同意。" + "谢谢。" * 3 + "先付款。", U),
    ("同意，除稿费外无其他要求", U),
    ("我同意，\n\n\n\n如果你们先付钱。", U), ("agree; if paid", U), ("AGREE IF PAID", U),
    ("同意同意同意，若付费", U), ("同意😊如果付费", U), ("同意(若付费)", U),
    ("Agreed (pending payment)", U),
    ("同意，另：需署真名", U), ("同意，ps：不要改", U), ("同意\n-\n除非付费", U),
    # more of each class: plain grants, refusals, conditions and terms, someone else's answer
    ("好的，我同意授权。", G), ("同意授权贵网使用", G), ("收到，没问题，同意授权", G),
    ("您好，我同意。", G),
    ("嗯，同意", G), ("好的好的，同意", G), ("同意的", G), ("我是同意的", G), ("可以可以", G),
    ("完全没问题", G),
    ("没问题，授权", G), ("我同意授权，请刊登", G), ("感谢老师！同意授权", G), ("同意。祝好！", G),
    ("同意，祝编辑部工作顺利！", G), ("同意授权。\n此致\n敬礼", G), ("已同意", G),
    ("同意，谢谢您的认可", G),
    ("同意，感谢贵网站采用拙作", G), ("我同意贵网在网络平台刊登此作品。", G), ("Yes, I agree.", G),
    ("Yes please", G), ("Absolutely, go ahead!", G),
    ("I give you permission to publish my article.", G),
    ("Yes, please publish it.", G), ("OK, I agree!", G), ("I agree to your terms.", G),
    ("Agree.", G),
    ("I do agree.", G), ("AGREED", G), ("Yes, you can use it.", G), ("You have my permission.", G),
    ("Consent given.", G), ("I approve.", G), ("Fine by me.", G), ("同意 Thanks!", G),
    ("同意✅", G),
    ("同意，其他没有问题", G), ("ｎｏ", R), ("不要", R), ("我拒绝", R), ("拒绝授权", R),
    ("谢谢，但不同意", R),
    ("Not agreed.", R), ("No, sorry.", R), ("I do not give permission.", R),
    ("Permission denied.", R),
    ("Thanks, but I don't agree.", R),
    ("同意，不过稿费要按时给", U), ("要是给稿费就同意", U), ("同意，只要不改我的文字", U),
    ("我同意，但是要署我的名字", U), ("付了稿费再说", U), ("我要先看合同", U), ("先付款再授权", U),
    ("同意。希望稿费能高一点。", U), ("同意吗？我还没想好", U), ("我还在考虑", U), ("让我想想", U),
    ("I'll think about it.", U), ("I agree in principle.", U),
    ("I agree, pending my editor's approval.", U),
    ("Agreed — on the condition that you keep my byline.", U),
    ("You may publish it if you pay me.", U),
    ("Go ahead once the fee is paid.", U), ("Sure, as soon as I get paid.", U),
    ("I don't agree unless you pay.", U),
    ("Not unless you pay me.", U), ("I never agreed.", U), ("I'd rather not.", U),
    ("Please don't publish it until I get paid", U), ("I agree but I want payment.", U),
    ("Happy to agree if you can pay.", U), ("Let me think about it.", U),
    ("同意，但我需要看到最终稿", U),
    ("同意，请在发表前让我确认", U), ("同意，刊登前请发我校对", U),
    ("I agree. Please send me the final version before publishing.", U),
    ("同意，但请勿用于商业用途", U),
    ("同意，限网络使用", U), ("同意我的作品被刊登吗", U), ("同意是同意，但是要给稿费", U),
    ("我家人同意了", U), ("我老公同意了，我还在犹豫", U), ("同意（代我父亲回复）", U),
    ("已转告作者，作者同意", U),
    ("She agrees.", U), ("My husband agrees.", U), ("I agree on behalf of the author.", U),
    ("过几天再说", U), ("同意，发个红包就行", U),
    ("I agree as far as the website is concerned.", U),
    ("I agree in part.", U), ("I agree, for now.", U), ("Agreed, though I'd like a copy.", U),
    ("I agree; please keep my name.", U), ("I agree. No edits please.", U),
    ("I agree to publish it on your website only.", U), ("I agree (after payment)", U),
    ("I agree, payment on publication", U), ("I consent provided I am paid", U), ("agree what", U),
    ("同意啥", U), ("Yes?", U), ("Yes I think so", U), ("Agreed, I guess.", U),
    ("I'm against it", U),
    ("Absolutely not", U), ("No way", U), ("同意网站刊登，不同意公众号", U), ("👌", U), ("✅", U),
    ("同意🙅", U), ("同意，付我五百", U), ("同意。唯一的请求是署真名", U),
    ("I agree. One request: credit me.", U),
    ("同意\n\n前\n提\n署\n名", U), ("同意。前。提。署。名。", U),
]  # fmt: skip

#: Phrases that make any grant unclear, put before or after it, in its sentence or apart.
POISONS = [
    "如果付稿费", "稿费到账后", "付费的话", "只要署名", "除非付费", "前提是署真名", "但不要改标题",
    "只限网络版", "不能", "没法", "不了", "需要我同意什么？", "不同意", "等我想想", "先付款",
    "要求署名", "仅限一次", "暂不", "我再考虑", "条件是独家", "才同意", "就同意", "的话", "若付费",
    "倘若付费", "假如付费", "只有付费", "稿費到帳後", "如果有稿費的話", "if you pay",
    "only if paid", "as long as you credit me", "provided I am paid", "unless you edit it",
    "on condition that you pay", "but not the title", "I can't", "won't", "pending payment",
    "after payment", "I don't", "not yet", "maybe", "subject to payment", "providing payment",
]  # fmt: skip
SEPARATORS = ["，", " ", "。", "\n\n", "; ", "—"]
PLAIN_GRANTS = [text for text, expected in ANSWERS if expected is G and "\n" not in text]


def test_the_table_is_broad() -> None:
    counts = {d: sum(1 for _, e in ANSWERS if e is d) for d in Decision}
    assert len(ANSWERS) >= 120 and min(counts.values()) >= 30, counts
    assert len({text for text, _ in ANSWERS}) == len(ANSWERS), "a row is there twice"


@pytest.mark.parametrize(("text", "expected"), ANSWERS)
def test_each_answer_is_read(text: str, expected: Decision) -> None:
    reading = read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert reading.decision is expected, reading
    if expected is not U:
        assert reading.phrase and reading.clause, reading


@pytest.mark.parametrize("poison", POISONS)
def test_no_condition_negation_or_question_leaves_a_grant_standing(poison: str) -> None:
    for grant in PLAIN_GRANTS:
        for separator in SEPARATORS:
            for text in (f"{grant}{separator}{poison}", f"{poison}{separator}{grant}"):
                assert decide(text) is not G, text


@pytest.mark.parametrize(
    ("name", "decision"),
    [
        ("qq-web.eml", G),
        ("qq-app.eml", G),
        ("qq-card.eml", G),
        ("foxmail.eml", G),
        ("netease-webmail.eml", G),
        ("netease-mailmaster.eml", R),
        ("outlook-desktop-zh.eml", R),
        ("outlook-web.eml", G),
        ("gmail-zh.eml", G),
        ("gmail-en.eml", G),
        ("iphone-zh.eml", G),
        ("thunderbird-zh.eml", G),
    ],
)
def test_each_client_reply_is_read(name: str, decision: Decision) -> None:
    text = parsing.parse((REPLIES / name).read_bytes()).text
    assert decide(quotes.new_text(text)) is decision


def test_the_whole_reply_with_its_quote_would_be_unclear() -> None:
    # Why only the new text is read: our quoted request says both.
    text = parsing.parse((REPLIES / "qq-web.eml").read_bytes()).text
    assert decide(text) is U


#: Answers written into each client's reply layout, above the quoted request.
IN_LAYOUTS = [
    ("好的，同意", G), ("同意，谢谢！", G), ("可以", G), ("没问题", G), ("授权贵报刊登", G),
    ("I agree", G), ("Yes, you may publish it", G), ("Sure, go ahead", G), ("同意刊登", G),
    ("我同意授權，謝謝", G), ("Ｉ ａｇｒｅｅ", G), ("同 意", G), ("同意👍", G),
    ("如果付稿费，我同意", U), ("我同意，如果你们付稿费的话", U), ("同意吗？", U),
    ("需要我同意什么?", U), ("what do I agree to?", U), ("稿费到账后同意", U), ("付费的话可以", U),
    ("只同意网络版", U), ("同意但不要改标题", U), ("I can't agree to this", U),
    ("I agree if you pay", U), ("I don't disagree", U), ("同意不了", U),
    ("我同意，但我爱人不同意", U), ("同意。\n\n稿费请打到我的银行卡。", U),
    ("不同意", R), ("I do not agree", R), ("不同意，谢谢", R),
]  # fmt: skip


@pytest.mark.parametrize("name", sorted(p.name for p in REPLIES.glob("*.eml")))
def test_answers_inside_each_client_layout(name: str) -> None:
    text = parsing.parse((REPLIES / name).read_bytes()).text
    written = quotes.new_text(text).split("\n")[0]  # what the fixture's sender wrote first
    for answer, expected in IN_LAYOUTS:
        reply = text.replace(written, answer, 1)
        reading = read(quotes.new_text(reply), RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
        assert reading.decision is expected, (answer, reading)


@pytest.mark.parametrize(
    ("text", "why", "clause"),
    [
        ("同意吗?", "question", "同意吗?"),
        ("Do I need to agree?", "question", "Do I need to agree?"),
        ("不同意会怎么样？", "question", "不同意会怎么样？"),
        ("不太同意", "negated", "不太同意"),
        ("无法同意", "negated", "无法同意"),
        ("并非不同意", "double negative", "并非不同意"),
        ("I don't disagree.", "double negative", "I don't disagree."),
        ("如同意，请回复", "conditional", "如同意，请回复"),
        ("我同意，如果你们付稿费的话", "conditional", "我同意，如果你们付稿费的话"),
        ("同意。\n\n张三\n\n前提是署我的真名", "conditional", "同意。 … 前提是署我的真名"),
        ("同意，但请保留我的笔名", "reservation", "同意，但请保留我的笔名"),
        ("付费的话可以", "conditional", "付费的话可以"),
        ("同意免费使用", "payment", "同意免费使用"),
        ("原则上同意", "hedged", "原则上同意"),
        ("我同意您的意见", "another matter", "我同意您的意见"),
        ("我同意，但我爱人不同意", "both", "我同意，但我爱人不同意"),
        ("I agree.\nNo.", "both", "I agree. … No."),
        ("I agree іf you pаy", "letters", "I agree іf you pаy"),
        ("同意。前。提。署。名。", "single characters", "前。 … 提。"),
        ("好的，收到", "no grant", ""),
        ("agreement", "no grant", ""),
        ("", "no new text", ""),
    ],
)
def test_unclear_says_why_and_which_sentence(text: str, why: str, clause: str) -> None:
    reading = read(text, RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert reading.decision is U
    assert why in reading.reason, reading
    assert reading.clause == clause, reading


def test_a_grant_carries_its_sentence_as_written() -> None:
    reading = read("老师您好！\n\n我同意授權。謝謝！\n\n张三", ["同意"], ["不同意"])
    assert (reading.decision, reading.phrase, reading.clause) == (G, "同意", "我同意授權。")


def test_a_long_answer_is_for_an_editor() -> None:
    letter = "同意。" + "这是我写给编辑的一段很长的话。" * (MAX_ANSWER_CHARS // 10)
    reading = read(letter, RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert reading.decision is U and "characters long" in reading.reason


def test_refusal_containing_the_grant_word_is_a_refusal() -> None:
    reading = read("不同意", ["同意"], ["不同意"])
    assert (reading.decision, reading.phrase) == (R, "不同意")


def test_configured_phrases_are_read_besides_the_tables() -> None:
    assert read("可以用", ["可以用"], ["不可以"]).decision is G
    assert read("照登", ["照登"], []).decision is G
    assert read("照登吧，如果付费", ["照登"], []).decision is U  # the rules apply to them too
    assert read("照登", [], []).decision is U
    assert read("免谈", [], ["免谈"]).decision is R
    assert read("不可以用", ["可以用"], ["不可以"]).decision is R
    # The tables' own reading wins over a configured phrase they already know.
    assert read("收到同意书", ["同意"], []).decision is U
