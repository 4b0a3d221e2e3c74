"""Tests for intake.text.claims: real claims in Chinese and English score over the default
threshold, contributors who talk about copyright do not."""

from __future__ import annotations

from typing import Any

import pytest

from intake.core.mail import Address, ParsedMail
from intake.text.claims import ClaimAssessment, assess, site_urls, work_title
from tests.ingest.test_classify import DATA, SITE, load

THRESHOLD = 3.0  # SiteConfig.claim_threshold's default
LETTER = (DATA / "lawyer-letter.txt").read_text(encoding="utf-8")


def written(text: str, subject: str = "关于贵网转载拙作一事", **fields: Any) -> ParsedMail:
    """A message written by hand: ``text`` as its body, other fields as given."""
    values: dict[str, Any] = {
        "message_id": "5e6f.Coremail.author@163.com",
        "subject": subject,
        "sender": Address("作者", "author@163.com"),
        "text": text,
    }
    values.update(fields)
    return ParsedMail(**values)


def names(found: ClaimAssessment) -> set[str]:
    return {s.partition(":")[0] for s in found.signals}


# --------------------------------------------------------------------------- claims


def test_chinese_claim_with_page_link() -> None:
    found = assess(load("claim-zh-url.eml"), SITE)
    assert found.score >= THRESHOLD
    assert found.urls == ("https://www.nsnews.example/wenhua/2024/0212/58231.html",)
    assert found.demand == "both"  # 删除 … 或 … 支付稿酬
    assert found.work_title == "春夜喜雨"  # not 《江城晚报》, the outlet named first
    assert {"infringement", "unauthorized", "site_url", "addressed", "source_line"} <= names(found)


def test_english_html_only_claim_with_link_in_href() -> None:
    mail = load("claim-en-html.eml")
    assert not mail.text.strip() or "Your website" in mail.text
    found = assess(mail, SITE)
    assert found.score >= THRESHOLD
    assert found.urls == ("https://m.nsnews.example/en/culture/2024/02/rain-over-the-harbour.html",)
    assert found.demand == "remove"
    assert found.work_title == "Copyright infringement notice"
    assert {"infringement", "unauthorized", "addressed", "demand"} <= names(found)


def test_html_link_is_found_when_the_text_part_is_empty() -> None:
    html = (
        '<p>Your site copied my essay without permission: <a href="https://www.nsnews.example/a/'
        '9.html">here</a>. Please take it down.</p>'
    )
    found = assess(written("", subject="Infringement", html=html), SITE)
    assert found.urls == ("https://www.nsnews.example/a/9.html",)
    assert found.score >= THRESHOLD


def test_chinese_claim_without_link_but_with_source_line() -> None:
    found = assess(load("claim-zh-source-line.eml"), SITE)
    assert found.urls == ()
    assert found.score >= THRESHOLD
    assert "source_line:来源：渝州日报（非本网）" in found.signals
    assert found.work_title == "山城的雾"
    assert found.demand == "remove"


def test_lawyers_letter_arrives_as_attachment_text() -> None:
    mail = load("claim-lawyer-letter.eml")
    assert assess(mail, SITE).score < THRESHOLD
    found = assess(mail, SITE, attachment_texts=(LETTER,))
    assert found.score >= THRESHOLD
    assert found.urls == ("https://www.nsnews.example/wenhua/2024/0212/58231.html",)
    assert found.demand == "both"  # 删除 … 赔偿
    assert found.work_title == "春夜喜雨"
    assert "lawyer_letter:律师函" in found.signals


def test_short_claim_without_link() -> None:
    found = assess(written("你们网站上转载了我的文章，这是侵权行为，请立即删除。"), ())
    assert found.score >= THRESHOLD
    assert found.demand == "remove"


def test_dmca_notice_next_to_chinese_text() -> None:
    found = assess(
        written("根据DMCA规定，请贵网下架 www.nsnews.example/a/1.html。", subject="通知"), SITE
    )
    assert "dmca:DMCA" in found.signals
    assert found.urls == ("www.nsnews.example/a/1.html",)
    assert found.score >= THRESHOLD


def test_forwarded_claim_keeps_the_forwarded_text() -> None:
    text = (
        "转给你们，请处理。\n\n------------------ 原始邮件 ------------------\n"
        '发件人: "赵六" <zhaoliu_writer@163.com>;\n发送时间: 2024年3月6日\n\n'
        "贵网未经授权转载了我的文章《春夜喜雨》，已构成侵权，请删除。"
    )
    found = assess(written(text, subject="转发：关于贵网侵权转载拙作的函"), SITE)
    assert found.score >= THRESHOLD


# --------------------------------------------------------------------------- not claims


def test_essay_about_copyright_law_is_not_a_claim() -> None:
    mail = load("not-claim-essay.eml")
    assert mail.text.count("侵权") >= 5 and mail.text.count("版权") >= 3
    found = assess(mail, SITE)
    assert found.score < THRESHOLD
    assert found.urls == ()
    assert "source_line" not in names(found)  # its 来源 lines are citations


ESSAY = (
    "不少网站认为只要注明“来源：某某日报”就可以随意转载。这是误解：未经授权转载他人作品即构成"
    "侵权。作者发现后往往只能要求对方删除，维权成本高、赔偿数额低。"
)


def test_essay_under_a_cover_note_to_the_site_is_not_a_claim() -> None:
    # The cover note says 贵网 politely; the 来源 line is the essay's citation.
    text = f"编辑老师好：久闻贵网大名，现投上拙文一篇，望审阅。\n\n{ESSAY}"
    found = assess(written(text, subject="投稿：浅谈转载与著作权"), SITE)
    assert found.score < THRESHOLD
    assert "source_line" not in names(found)
    assert "not_claim:offers_piece" in found.signals


def test_essay_in_an_attachment_under_a_cover_note_is_not_a_claim() -> None:
    mail = written("久闻贵网大名，附件是拙文一篇，请编辑老师审阅。", subject="投稿：转载与著作权")
    assert assess(mail, SITE, attachment_texts=(ESSAY,)).score < THRESHOLD


def test_source_line_beside_a_link_to_the_site_counts() -> None:
    text = "贵网 https://www.nsnews.example/a/1.html 标注“来源：江城晚报”，未经授权，请删除。"
    assert "source_line:来源：江城晚报" in assess(written(text), SITE).signals


def test_permission_question_is_not_a_claim() -> None:
    found = assess(load("not-claim-permission-question.eml"), SITE)
    assert found.score < THRESHOLD
    assert "not_claim:permission_question" in found.signals


def test_consent_reply_quoting_our_request_is_not_a_claim() -> None:
    mail = load("not-claim-consent-reply.eml")
    assert "nsnews.example" in mail.text and "侵权" in mail.text  # in the quoted request
    found = assess(mail, SITE)
    assert found.score < THRESHOLD
    assert found.urls == ()
    assert "not_claim:consent_opening" in found.signals


def test_submission_asking_for_a_fee_is_not_a_claim() -> None:
    found = assess(load("submission-qq.eml"), SITE)
    assert found.demand == "fee"
    assert found.score < THRESHOLD


def test_contributor_linking_an_earlier_piece_is_not_a_claim() -> None:
    text = (
        "编辑老师好！我曾在贵网发表过《江边》（https://www.nsnews.example/wenhua/2023/1101/1.html），"
        "承蒙厚爱。现寄上新作，版权归本人所有，该文也曾被多家媒体转载。"
    )
    assert assess(written(text, subject="新作一篇"), SITE).score < THRESHOLD


def test_fee_question_about_a_published_piece_is_not_a_claim() -> None:
    text = (
        "您好，我在贵网发表的《江边》https://www.nsnews.example/a/1.html "
        "稿费还没有收到，请问何时支付？"
    )
    assert assess(written(text, subject="稿费查询"), SITE).score < THRESHOLD


@pytest.mark.parametrize(
    "text",
    [
        "同意。版权归我所有，同意贵网刊发。",
        "我同意授权贵网使用。",
        "I agree. I hold the copyright and you may publish it on your website.",
    ],
)
def test_consent_replies_are_not_claims(text: str) -> None:
    assert assess(written(text, subject="回复：版权授权确认 [投稿 #123]"), SITE).score < THRESHOLD


def test_precious_is_not_your() -> None:
    # 宝贵网友 contains 贵网 but means "valued netizens".
    found = assess(written("感谢宝贵网友的支持，版权问题值得讨论。", subject="随笔"), SITE)
    assert "addressed" not in names(found)


def test_reply_quote_lines_are_ignored() -> None:
    text = "好的，谢谢。\n> 贵网未经授权转载侵权，请删除 https://www.nsnews.example/a/1.html"
    found = assess(written(text, subject="Re: 说明"), SITE)
    assert found.score == 0.0
    assert found.urls == ()


# --------------------------------------------------------------------------- site URLs


def test_site_urls_match_subdomains_and_stop_at_chinese_text() -> None:
    text = (
        "见https://m.nsnews.example/a/1.html，以及 http://www.nsnews.example/b/2.html?from=wx。"
        "还有 news.nsnews.example/c/3.html请删除"
    )
    assert site_urls([text], ["nsnews.example"]) == (
        "https://m.nsnews.example/a/1.html",
        "http://www.nsnews.example/b/2.html?from=wx",
        "news.nsnews.example/c/3.html",
    )


@pytest.mark.parametrize(
    "text",
    [
        "投稿邮箱 tougao@nsnews.example",
        "https://notnsnews.example/a/1.html",
        "https://nsnews.example.evil.example/a/1.html",
        "mail server host mail.nsnews.example said 550",
        "https://www.othernews.example/a/1.html",
    ],
)
def test_site_urls_skip_other_hosts_addresses_and_bare_hosts(text: str) -> None:
    assert site_urls([text], ["nsnews.example"]) == ()


def test_site_urls_several_domains_and_duplicates() -> None:
    text = "https://www.nsnews.example/a.html https://www.nsnews.example/a.html https://ns.example.cn/b"
    assert site_urls([text], ["ns.example.cn", ".NSNEWS.example", ""]) == (
        "https://www.nsnews.example/a.html",
        "https://ns.example.cn/b",
    )
    assert site_urls([text], []) == ()


# --------------------------------------------------------------------------- work titles


@pytest.mark.parametrize(
    ("subject", "texts", "title"),
    [
        ("关于《春夜喜雨》被转载", [], "春夜喜雨"),
        ("Re: 回复：转发: 侵权通知", [], "侵权通知"),
        ("RE：Fwd： Copyright notice", [], "Copyright notice"),
        ("侵权通知", ["原载于《江城晚报》的拙作《春夜喜雨》"], "春夜喜雨"),
        ("侵权通知", ["刊于《江城晚报》"], "江城晚报"),
    ],
)
def test_work_title(subject: str, texts: list[str], title: str) -> None:
    assert work_title(subject, texts) == title
