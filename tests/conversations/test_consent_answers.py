"""intake.conversations.consent read against answers written afresh, none of them in
test_consent.py: as non-native writers, QQ web mail, phones and old Outlook write them.

Each row is a whole reply body (greeting, signature, phone footer and all) with its expected
reading; it is read the way the pipeline reads it: ``quotes.new_text`` first, then the reader.
A grant only when it is clearly unconditional; anything doubtful is ``unclear``. Then a set of
answers is written into each mail client's reply layout, above and below our quoted request.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from intake.conversations.consent import Decision, read
from intake.core.config import CopyrightConfig
from intake.text import quotes
from tests.conversations.test_consent import ANSWERS as EARLIER

RIGHTS = CopyrightConfig()
G, R, U = Decision.GRANT, Decision.REFUSE, Decision.UNCLEAR


def reading(body: str) -> Decision:
    new = quotes.new_text(body)
    return read(new, RIGHTS.grant_phrases, RIGHTS.refuse_phrases).decision


FRESH: list[tuple[str, Decision]] = [
    # polite grants, Chinese (greetings, thanks, signatures, emoji, full-width punctuation)
    ("好的，没问题，同意发表", G), ("可以的呀", G), ("授权贵刊刊登拙作，谢谢！", G),
    ("老师您好，同意发表，谢谢您的厚爱！", G), ("同意授权贵报在网站及新媒体平台刊发。", G),
    ("您好！本人同意授权，特此回复。", G), ("同意！谢谢编辑老师的肯定～", G),
    ("嗯嗯，可以的，谢谢老师！", G), ("没问题哈，同意", G), ("好滴，同意～", G),
    ("同意，辛苦编辑老师😄", G), ("OK 没问题", G), ("同意，祝贵报越办越好！", G),
    ("同意！期待早日见刊～", G), ("同意授权！！谢谢谢谢", G), ("好的老师，我同意", G),
    ("收到，可以发表", G), ("同意。——张三", G), ("同意的，麻烦老师了", G),
    ("本人同意将作品《老街》授权贵网发布。", G), ("同意，谢谢了！！", G), ("👌同意", G),
    ("同意❤️", G), ("同意🙏🏻", G), ("OK的，同意", G), ("Yes 同意授权", G), ("同意 no problem", G),
    ("同意 thanks a lot", G),
    ("王编辑：\n您好！\n来信收到，同意授权。\n此致\n敬礼！\n李华\n2026年11月21日", G),
    ("同意\n\n王芳\n电话：13900001111\n地址：上海市浦东新区世纪大道100号", G),
    ("好的，我同意。\n\n-- \n王芳\n自由撰稿人", G),
    ("同意\n\n张三\nzhangsan@163.com\n签名由 网易邮箱大师 定制", G),
    ("同意。另外想问一下大概什么时候能发表？", G), ("同意，希望能早点发出来", G),
    ("我改主意了，同意授权。", G), ("同意，祝编安", G), ("同意。顺颂编祺", G),
    ("同意，感谢编辑部的认可与厚爱！", G), ("非常荣幸，同意授权！", G), ("很乐意授权贵报刊登", G),
    ("我很愿意，谢谢！", G), ("同意同意，没问题的", G), ("好呀，同意的～", G), ("可以发，谢谢", G),
    ("你们发吧", G), ("发吧，没问题", G), ("同意~等你们好消息", G), ("同意，等发表了告诉我一声", G),
    ("可以，就按你们说的办", G), ("百分百同意", G), ("当然同意啦，求之不得", G),
    ("巴不得呢，同意！", G), ("OK啦，同意", G), ("agree同意", G), ("同意 agree", G),
    ("同意，没有任何条件", G), ("同意，没有任何要求。", G), ("同意，授权书我明天寄给你", G),
    ("本人对授权无异议。", G), ("没有异议，同意", G), ("同意，就这样吧", G),
    # traditional characters
    ("同意發表，謝謝編輯！", G), ("我同意貴報刊登此文。", G), ("授權，沒問題。", G),
    ("同意，謝謝您！", G), ("您好，同意授權，祝編安。", G),
    # English grants
    ("OK, go ahead", G), ("Yes, I agree to the terms. Thanks!", G),
    ("Dear editor, I agree. Best, Wang Fang", G), ("Sure thing, go ahead and publish it.", G),
    ("Hi, yes you can publish it. Thanks a lot!", G),
    ("Yes please go ahead. Looking forward to seeing it online.", G),
    ("Yes, I give my consent.", G), ("I am happy for you to publish it.", G),
    ("Hello,\n\nI agree.\n\nRegards,\nChen Jing", G), ("I agree, thanks so much!", G),
    ("Yes of course, please publish it.", G), ("Ok, publish it.", G),
    ("I agree! Can't wait to see it published.", G), ("I agree 100%.", G),
    ("I agree, no strings attached.", G), ("I agree with no conditions.", G),
    ("Yes you can, why not!", G), ("Go for it!", G), ("Not a problem, go ahead.", G),
    ("I have no objection.", G), ("No objection.", G), ("Yep, all good.", G),
    # conditional, the condition before or after, near or far
    ("同意，只要保留我的署名", U), ("只要不删改，同意发表", U), ("如能付稿酬，我同意授权", U),
    ("可以刊登，但请付稿费", U), ("同意的话需要签什么吗？", U), ("如果需要我同意，那我同意", U),
    ("要是能给稿费就更好了，同意", U), ("同意，稿费随意", U), ("你们发吧，稿费就不要了", U),
    ("发表时请署名“老街人”，同意", U), ("同意，若不删改的话", U), ("假如稿件被录用，我同意授权", U),
    ("同意，前提是不转载到别的平台", U), ("同意是可以同意，就是稿费的事", U),
    ("同意，以收到稿费为准", U), ("签完协议就同意", U), ("同意，请把稿子发到我邮箱确认一下再登", U),
    ("Provided you pay me, I agree.", U), ("As long as my name is on it, go ahead.", U),
    ("Go ahead as long as you keep the title.", U), ("I agree, if you can send me a copy.", U),
    ("If it's non-exclusive, I agree.", U), ("Yes, assuming it's online only.", U),
    ("I agree so long as you don't edit it.", U), ("I agree, send me the contract.", U),
    ("如果付费，我没有异议", U),
    # partial grants, edits, a byline, payment, published elsewhere
    ("同意，麻烦帮我把第二段删掉", U), ("同意，帮我把错别字改一下", U), ("同意，照片请不要用", U),
    ("同意网站发，报纸不行", U), ("同意授权网络版，纸质版另谈", U), ("同意，记得署名哦", U),
    ("同意，就是别改我的标题", U), ("同意。我想再改一下个别字句，稍后发给您", U),
    ("同意，附件是修改稿", U), ("同意，不用寄样刊了", U), ("同意，不需要稿费", U),
    ("Agreed. No need to pay me.", U), ("I agree, with one small request.", U),
    ("I agree, just credit me please.", U), ("我同意，不过我得问问我的出版社", U),
    ("同意，不过我已经发在公众号上了", U), ("同意。这篇之前在我的博客发过", U),
    ("同意。已经在别的报纸登过了", U), ("同意，我已经发在公众号了", U),
    ("同意，已在个人公众号发布过", U), ("同意！顺便说一下，这篇也投了别的报社", U),
    ("Yes, I agree. It was already published on my blog.", U),
    # negated and unable, before and after the verb; hedged
    ("暂时不行", U), ("不太想授权", U), ("现在还不能同意", U), ("恐怕不能同意", U),
    ("I'm afraid I can't agree.", U), ("Sorry, I cannot give permission.", U), ("我没有同意", U),
    ("No thanks, I'd rather not.", U), ("I don't want it published.", U), ("应该没问题", U),
    ("问题不大，同意", U), ("Fine.", U), ("I don't mind.", U), ("Please don't.", U),
    ("I'd prefer you didn't publish it.", U),
    # refusals
    ("不同意发表，抱歉", R), ("不可以，谢谢", R), ("No, I don't agree to this.", R),
    ("我不想授权", R), ("不好意思，这篇不授权了", R), ("我拒绝授权，谢谢", R), ("不用了，谢谢", R),
    ("这篇稿子我不打算授权了", R), ("抱歉，不同意授权。", R), ("對不起，我不同意。", R),
    ("No. 不同意。", R), ("不同意发表，我想投给别的刊物", R), ("抱歉，我决定不授权了", R),
    ("谢谢，不过我不同意", R), ("sorry but no", R), ("不，我不同意", R),
    ("Nope, not interested.", R), ("不行不行，不同意", R), ("Sorry, no.", R), ("I object.", R),
    # questions
    ("需要我签字吗", U), ("要签合同吗？", U), ("是要我回复同意吗？", U),
    ("同意的话要怎么操作？", U),
    ("请问授权是独家的吗？", U), ("Do you need me to sign anything?", U),
    ("What rights exactly?", U), ("同意后还能投别家吗", U), ("可以同意一部分吗", U),
    ("授权多久？", U), ("Can I agree later?", U), ("我是不是要回复同意", U),
    ("回复同意就行了吗", U), ("同意就好了吧", U), ("同意，发表后能寄份样刊给我吗？", U),
    ("同意, but 稿费呢?", U), ("Why not publish it in print too?", U),
    ("您是否同意授权？ 同意", U),
    # double negatives
    ("没有不同意的", U), ("不是不可以", U), ("我没说不同意", U), ("哪有不同意的道理", U),
    ("不会不同意的", U), ("I wouldn't say no.", U), ("没什么不可以的", U), ("我有异议", U),
    ("并非没有异议", U),
    # a grant and a refusal, either order
    ("同意。不过想了想，还是不同意吧", U), ("之前说同意，现在改主意了，不同意", U),
    ("I agreed earlier but now I withdraw.", U), ("本来不同意，现在同意了", U),
    # agreeing to another thing than our request
    ("同意修改标题", U), ("同意删减", U), ("同意你们的修改意见", U), ("可以改标题", U),
    ("I agree to the edits.", U), ("I agree with the changes you suggested.", U),
    ("同意换个笔名发表", U), ("同意编辑部的处理", U), ("同意退稿", U),
    # no answer at all; typos we do not guess at
    ("收到，谢谢！", U), ("好的好的", U), ("已阅", U), ("嗯", U), ("Noted, thanks.", U),
    ("统一", U), ("tongyi", U), ("I agred.", U),
]  # fmt: skip


def test_the_fresh_table_is_broad_and_new() -> None:
    assert len(FRESH) >= 200
    assert len({text for text, _ in FRESH}) == len(FRESH), "a row is there twice"
    assert not {text for text, _ in FRESH} & {text for text, _ in EARLIER}
    counts = {d: sum(1 for _, e in FRESH if e is d) for d in Decision}
    assert min(counts.values()) >= 20, counts


@pytest.mark.parametrize(("text", "expected"), FRESH)
def test_each_fresh_answer_is_read(text: str, expected: Decision) -> None:
    found = read(quotes.new_text(text), RIGHTS.grant_phrases, RIGHTS.refuse_phrases)
    assert found.decision is expected, found


# --------------------------------------------------------------------------- reply layouts

#: The end of our request as it is quoted: it says 同意 and 不同意, a condition ("如不同意"),
#: and the code, so a quote left in the new text can never read as a grant.
REQUEST = "\n".join(
    (
        "张三老师，您好：",
        "",
        "感谢您向南山新闻网投稿。现就该作品的信息网络传播权授权事宜征求您的意见。",
        "",
        "如何答复：",
        "    同意授权：请直接回复本邮件，在正文第一行写“同意”二字。",
        "    不同意授权：请直接回复本邮件，在正文第一行写“不同意”三字。",
        "    确认码：K7QM-3RTD",
        "",
        "您的答复仅针对上述网络传播授权。如不同意授权，我们将不会在网络平台使用该作品。",
        "",
        "南山新闻网编辑部",
    )
)
SUBJECT = "[投稿 #12] 版权授权请求：《老街》"
OURS = "南山新闻网投稿 <tougao@nsnews.example>"


def marked(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def qq_web(answer: str) -> str:
    return (
        f"{answer}\n\n\n------------------&nbsp;原始邮件&nbsp;------------------\n"
        f'发件人:&nbsp;"{OURS}";\n发送时间:&nbsp;2026年11月20日(星期五) 上午9:30\n'
        f'收件人:&nbsp;"张三"<zhangsan@qq.com>;\n主题:&nbsp;{SUBJECT}\n\n{REQUEST}'
    )


def qq_mobile(answer: str) -> str:
    return (
        f"{answer}\n\n\n\n发自我的iPhone\n\n\n------------------ Original ------------------\n"
        f"From: 南山新闻网投稿 <tougao@nsnews.example>\nDate: Fri,Nov 20,2026 9:30 AM\n"
        f"To: 张三 <zhangsan@qq.com>\nSubject: {SUBJECT}\n\n{REQUEST}"
    )


def foxmail(answer: str) -> str:
    return (
        f"{answer}\n\n\n\nzhangsan@foxmail.com\n \n发件人： {OURS}\n"
        f"发送时间： 2026-11-20 09:30\n收件人： zhangsan\n主题： {SUBJECT}\n{REQUEST}"
    )


def netease_web(answer: str) -> str:
    attribution = '在 2026-11-20 09:30:00，"南山新闻网投稿" <tougao@nsnews.example> 写道：'
    return f"{answer}\n\n\n\n\n\n{attribution}\n{REQUEST}"


def netease_master(answer: str) -> str:
    return (
        f"{answer}\n\n| |\n王五\n|\n|\nwangwu@163.com\n|\n签名由网易邮箱大师定制\n"
        f"---- 回复的原邮件 ----\n| 发件人 | {OURS} |\n| 日期 | 2026年11月20日 09:30 |\n"
        f"| 收件人 | wangwu@163.com |\n| 主题 | {SUBJECT} |\n{REQUEST}"
    )


def outlook_zh(answer: str) -> str:
    return (
        f"{answer}\n\n-----原始邮件-----\n发件人: {OURS}\n发送时间: 2026年11月20日 9:30\n"
        f"收件人: 李四 <lisi@company.example>\n主题: {SUBJECT}\n\n{REQUEST}"
    )


def outlook_old(answer: str) -> str:
    return (
        f"{answer}\n\n-----Original Message-----\nFrom: {OURS}\n"
        f"Sent: Friday, November 20, 2026 9:30 AM\nTo: lisi@company.example\n"
        f"Subject: {SUBJECT}\n\n{REQUEST}"
    )


def outlook_web(answer: str) -> str:
    return (
        f"{answer}\n\n________________________________\nFrom: {OURS}\n"
        f"Sent: Friday, November 20, 2026 09:30\nTo: Li Si\nSubject: {SUBJECT}\n\n{REQUEST}"
    )


def gmail_zh(answer: str) -> str:
    return f"{answer}\n\n{OURS} 于2026年11月20日周五 09:30写道：\n\n{marked(REQUEST)}\n"


def iphone(answer: str) -> str:
    attribution = f"在 2026年11月20日，09:30，{OURS} 写道："
    return f"{answer}\n\n发自我的iPhone\n\n{marked(attribution + chr(10) + chr(10) + REQUEST)}"


def gmail_bottom(answer: str) -> str:
    # Bottom-posted under the quote, as contributors used to mailing lists write.
    return f"On Fri, Nov 20, 2026 at 9:30 AM {OURS} wrote:\n{marked(REQUEST)}\n\n{answer}\n"


def thunderbird_bottom(answer: str) -> str:
    return f"在 2026/11/20 09:30, 南山新闻网投稿 写道:\n{marked(REQUEST)}\n\n{answer}\n"


LAYOUTS: dict[str, Callable[[str], str]] = {
    f.__name__: f
    for f in (
        qq_web, qq_mobile, foxmail, netease_web, netease_master, outlook_zh, outlook_old,
        outlook_web, gmail_zh, iphone, gmail_bottom, thunderbird_bottom,
    )
}  # fmt: skip

#: Answers several lines long, each read in every layout.
IN_LAYOUTS: list[tuple[str, Decision]] = [
    ("好的，没问题，同意发表", G),
    ("老师您好：\n\n同意授权，谢谢！\n\n张三\n2026-11-21", G),
    ("OK, go ahead.\n\nBest,\nLi Si", G),
    ("授权贵报刊登，谢谢编辑老师😊", G),
    ("同意發表，謝謝！", G),
    ("不同意，谢谢。", R),
    ("No, I don't agree to this.", R),
    ("如果有稿费，我同意", U),
    ("同意。\n\n稿费到账后再刊登", U),
    ("需要我签字吗", U),
    ("同意修改标题", U),
    ("没有不同意的", U),
    ("同意。已经在别的报纸登过了", U),
]


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize(("answer", "expected"), IN_LAYOUTS)
def test_answers_in_each_reply_layout(layout: str, answer: str, expected: Decision) -> None:
    body = LAYOUTS[layout](answer)
    assert "K7QM" not in quotes.new_text(body), "the quoted request was left in the new text"
    assert reading(body) is expected


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_the_quote_alone_is_no_answer(layout: str) -> None:
    # A reply with nothing written above or below the quote decides nothing.
    assert reading(LAYOUTS[layout]("")) is U
