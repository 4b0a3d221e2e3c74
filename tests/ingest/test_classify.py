"""Tests for intake.ingest.classify: every rule on real-format .eml files, the rule order, and the
automatic-reply policy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intake.core.mail import Address, BounceInfo, Kind, ParsedMail, Verdict
from intake.ingest.classify import (
    RULES,
    ClassifyContext,
    auto_reply_allowed,
    classify,
    is_noreply_address,
)
from intake.ingest.parsing import parse

DATA = Path(__file__).parents[1] / "data" / "classify"
OURS = "tougao@nsnews.example"
SITE = ("nsnews.example",)
CTX = ClassifyContext(own_addresses=frozenset({OURS}), site_domains=SITE)


def load(name: str) -> ParsedMail:
    """A message from tests/data/classify, parsed."""
    return parse((DATA / name).read_bytes())


def make(
    *headers: tuple[str, str],
    subject: str = "投稿：散文《故乡的槐花》",
    sender: str = "zhangsan@163.com",
    text: str = "编辑老师您好！附件是我的散文，请审阅。",
    **fields: Any,
) -> ParsedMail:
    """A plain contributor's message, with extra headers or fields changed."""
    values: dict[str, Any] = {
        "message_id": "1a2b.3c4d.Coremail.zhangsan@163.com",
        "subject": subject,
        "sender": Address("张三", sender) if sender else None,
        "headers": (("From", f"张三 <{sender}>"), ("Subject", subject), *headers),
        "text": text,
        "return_path": sender,
    }
    values.update(fields)
    return ParsedMail(**values)


def kind_of(mail: ParsedMail, ctx: ClassifyContext = CTX) -> tuple[Kind, str]:
    """The kind and the family of the rule that decided ("bounce" for "bounce.subject")."""
    verdict = classify(mail, ctx)
    return verdict.kind, verdict.rule.partition(".")[0]


# --------------------------------------------------------------------------- real messages


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("bounce-postfix.eml", Kind.BOUNCE),
        ("bounce-gmail.eml", Kind.BOUNCE),
        ("bounce-163-cn.eml", Kind.BOUNCE),
        ("bounce-exchange-ndr.eml", Kind.BOUNCE),
        ("bounce-dsn-with-list-id.eml", Kind.BOUNCE),
        ("autoreply-exchange.eml", Kind.AUTOREPLY),
        ("autoreply-qq.eml", Kind.AUTOREPLY),
        ("autoreply-gmail-vacation.eml", Kind.AUTOREPLY),
        ("autoreply-163.eml", Kind.AUTOREPLY),
        ("autoreply-through-list.eml", Kind.AUTOREPLY),
        ("list-mailman.eml", Kind.LIST),
        ("list-google-groups.eml", Kind.LIST),
        ("spam-spamassassin.eml", Kind.SPAM),
        ("own-loop.eml", Kind.OWN),
        ("submission-qq.eml", Kind.SUBMISSION),
        ("claim-zh-url.eml", Kind.CLAIM),
        ("claim-en-html.eml", Kind.CLAIM),
        ("claim-zh-source-line.eml", Kind.CLAIM),
        ("not-claim-essay.eml", Kind.SUBMISSION),
        ("not-claim-permission-question.eml", Kind.SUBMISSION),
    ],
)
def test_real_messages(name: str, kind: Kind) -> None:
    verdict = classify(load(name), CTX)
    assert verdict.kind is kind, verdict
    assert verdict.rule.partition(".")[0] == kind.value
    assert verdict.reason


def test_reasons_name_the_evidence() -> None:
    assert "wangwu2019@163.com" in classify(load("bounce-postfix.eml"), CTX).reason  # BounceInfo
    assert "postmaster@163.com" in classify(load("bounce-163-cn.eml"), CTX).reason
    assert "Auto-Submitted: auto-generated" in classify(load("autoreply-exchange.eml"), CTX).reason
    assert "自动回复" in classify(load("autoreply-qq.eml"), CTX).reason
    assert "List-Id" in classify(load("list-google-groups.eml"), CTX).reason
    assert "X-Spam-Flag" in classify(load("spam-spamassassin.eml"), CTX).reason


def test_rule_order_is_fixed() -> None:
    assert list(dict.fromkeys(r.family for r in RULES)) == [
        "own", "bounce", "autoreply", "list", "spam", "reply", "claim",
    ]  # fmt: skip
    assert [r.name for r in RULES] == [
        "own", "bounce.dsn", "bounce.report", "bounce.sender", "bounce.subject",
        "bounce.envelope", "autoreply.headers", "autoreply.subject", "autoreply.body",
        "autoreply.report", "autoreply.exchange", "list", "spam", "reply", "claim",
    ]  # fmt: skip


def test_every_rule_says_what_it_looks_for() -> None:
    for rule in RULES:
        assert rule.description and rule.kind.value == rule.family, rule.name


# --------------------------------------------------------------------------- the order


def test_auto_reply_through_a_list_is_an_auto_reply() -> None:
    mail = load("autoreply-through-list.eml")
    assert mail.header("List-Id") is not None
    assert kind_of(mail) == (Kind.AUTOREPLY, "autoreply")


def test_dsn_carrying_list_id_is_a_bounce() -> None:
    mail = load("bounce-dsn-with-list-id.eml")
    assert mail.header("List-Id") is not None
    assert kind_of(mail) == (Kind.BOUNCE, "bounce")


def test_auto_reply_in_our_thread_is_still_an_auto_reply() -> None:
    ctx = ClassifyContext(own_addresses=frozenset({OURS}), thread_match="[投稿 #124]")
    assert kind_of(load("autoreply-gmail-vacation.eml"), ctx) == (Kind.AUTOREPLY, "autoreply")


def test_own_mail_wins_over_its_auto_submitted_header() -> None:
    mail = load("own-loop.eml")
    assert mail.header("Auto-Submitted") == "auto-replied"
    assert kind_of(mail) == (Kind.OWN, "own")


def test_a_claim_in_a_known_thread_is_a_reply() -> None:
    ctx = ClassifyContext(
        own_addresses=frozenset({OURS}), site_domains=SITE, thread_match="i.58231@nsnews.example"
    )
    verdict = classify(load("claim-zh-url.eml"), ctx)
    assert (verdict.kind, verdict.refers_to) == (Kind.REPLY, "i.58231@nsnews.example")


def test_spam_from_a_list_is_list_mail() -> None:
    mail = make(("List-Id", "<offers.example>"), ("X-Spam-Flag", "YES"))
    assert kind_of(mail) == (Kind.LIST, "list")


# --------------------------------------------------------------------------- 1. own mail


def test_own_address_is_case_insensitive() -> None:
    ctx = ClassifyContext(own_addresses=frozenset({"TouGao@NSNews.example"}))
    assert kind_of(make(sender="tougao@nsnews.EXAMPLE"), ctx) == (Kind.OWN, "own")


@pytest.mark.parametrize(
    "written",
    ["ｔｏｕｇａｏ＠ｎｓｎｅｗｓ．ｅｘａｍｐｌｅ", "TOUGAO@nsnews.example.",
     "tougao@nsnews。example", "<tougao@ＮＳＮＥＷＳ.example>", '"tougao"@nsnews.example'],
)  # fmt: skip
def test_own_address_in_any_variant_is_own_mail(written: str) -> None:
    # One address normalisation (intake.text.addresses): full-width, root dot, ideographic dot.
    assert kind_of(make(sender=written)) == (Kind.OWN, "own")
    assert kind_of(make(("X-Loop", f"南山 <{written}>"))) == (Kind.OWN, "own")
    allowed_, reason = auto_reply_allowed(
        make(reply_to=(Address("", written),)), Verdict(Kind.SUBMISSION, "submission", ""), CTX
    )
    assert not allowed_, reason  # our own address, or not a usable one


def test_full_width_no_reply_and_daemon_addresses_are_recognised() -> None:
    assert is_noreply_address("ｎｏｒｅｐｌｙ＠ｓｈｏｐ．ｅｘａｍｐｌｅ")
    assert kind_of(make(sender="ＭＡＩＬＥＲ-ＤＡＥＭＯＮ@mx.example"))[0] is Kind.BOUNCE


def test_our_loop_header_alone_marks_own_mail() -> None:
    # A contributor's mailbox rule forwarded our acknowledgement back, From rewritten.
    verdict = classify(make(("X-Intake-Loop", OURS)), CTX)
    assert verdict.kind is Kind.OWN
    assert "X-Intake-Loop" in verdict.reason


def test_configured_loop_header_name() -> None:
    ctx = ClassifyContext(own_addresses=frozenset({OURS}), loop_header="X-NS-Loop")
    assert kind_of(make(("x-ns-loop", "1")), ctx) == (Kind.OWN, "own")
    assert kind_of(make(("X-Intake-Loop", "1")), ctx) == (Kind.SUBMISSION, "submission")


def test_x_loop_naming_us_is_own_mail() -> None:
    assert kind_of(make(("X-Loop", f"南山新闻网 <{OURS.upper()}>"))) == (Kind.OWN, "own")
    assert kind_of(make(("X-Loop", OURS))) == (Kind.OWN, "own")


def test_x_loop_naming_someone_else_is_not_own_mail() -> None:
    assert kind_of(make(("X-Loop", "helpdesk@other.example"))) == (Kind.SUBMISSION, "submission")


def test_our_message_id_is_own_mail() -> None:
    ctx = ClassifyContext(
        own_addresses=frozenset({OURS}), is_own_message_id=lambda mid: mid.startswith("i.123.")
    )
    mail = make(message_id="i.123.1709604901.7c0f3e2a9b@nsnews.example")
    assert kind_of(mail, ctx) == (Kind.OWN, "own")
    assert kind_of(make(), ctx) == (Kind.SUBMISSION, "submission")


# --------------------------------------------------------------------------- 2. bounce


def test_parser_bounce_info_decides() -> None:
    info = BounceInfo(permanent=True, recipients=("wangwu2019@163.com",), detector="qmail")
    verdict = classify(make(bounce=info), CTX)
    assert verdict.kind is Kind.BOUNCE
    assert "wangwu2019@163.com" in verdict.reason and "qmail" in verdict.reason


def test_delivery_report_the_parser_could_not_read_is_still_a_bounce() -> None:
    mail = make(
        ("Content-Type", 'multipart/report;\r\n report-type="delivery-status"; boundary=x'),
        subject="Notification",
        sender="mta@relay.example",
        content_type="multipart/report",
    )
    verdict = classify(mail, CTX)
    assert (verdict.kind, verdict.reason) == (
        Kind.BOUNCE,
        "multipart/report with report-type=delivery-status",
    )


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Delivery Status Notification (Failure)",
        "Delivery Status Notification (Delay)",
        "Mail delivery failed: returning message to sender",
        "Undeliverable: 来稿已收到 [投稿 #123]",
        "Returned mail: see transcript for details",
        "failure notice",
        "退信：来稿已收到 [投稿 #123]",
        "系统退信/Systems bounce",
        "投递失败：来稿已收到",
        "邮件投递失败",
        "来自postmaster@126.com的退信",
    ],
)
def test_non_delivery_subjects(subject: str) -> None:
    assert kind_of(make(subject=subject, sender="mail@relay.example")) == (Kind.BOUNCE, "bounce")


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@qq.com"])
def test_daemon_senders(sender: str) -> None:
    assert kind_of(make(subject="Warning", sender=sender)) == (Kind.BOUNCE, "bounce")


def test_null_return_path_alone_is_a_bounce() -> None:
    verdict = classify(make(subject="您的邮件", return_path=""), CTX)
    assert (verdict.kind, verdict.reason) == (Kind.BOUNCE, "null Return-Path <>")


def test_return_path_mailer_daemon_is_a_bounce() -> None:
    assert kind_of(make(return_path="MAILER-DAEMON")) == (Kind.BOUNCE, "bounce")


def test_null_return_path_with_auto_reply_markers_is_an_auto_reply() -> None:
    # RFC 3834 responders (Exchange OOF) send from <>; that alone must not make them bounces.
    mail = make(("Auto-Submitted", "auto-replied"), return_path="")
    assert kind_of(mail) == (Kind.AUTOREPLY, "autoreply")


def test_read_receipt_is_not_a_bounce() -> None:
    mail = make(
        ("Content-Type", 'multipart/report; report-type=disposition-notification; boundary="b"'),
        subject="已读: 投稿",
        content_type="multipart/report",
    )
    verdict = classify(mail, CTX)
    assert verdict.kind is Kind.AUTOREPLY
    assert "disposition-notification" in verdict.reason


def test_subject_mentioning_a_bounce_later_is_not_one() -> None:
    mail = make(subject="投稿：关于退信的烦恼（散文）")
    assert kind_of(mail) == (Kind.SUBMISSION, "submission")


# --------------------------------------------------------------------------- 3. auto-reply


@pytest.mark.parametrize(
    "header",
    [
        ("Auto-Submitted", "auto-replied"),
        ("Auto-Submitted", "auto-generated"),
        ("auto-submitted", 'auto-replied; owner-email="li@contoso.example"'),
        ("X-Autoreply", "yes"),
        ("X-Autorespond", "Out of office"),
        ("X-Autoreply-From", "li@contoso.example"),
        ("X-Mail-Autoreply", "yes"),
        ("X-Autogenerated", "Reply"),
        ("Precedence", "auto_reply"),
        ("X-Precedence", "auto_reply"),
        ("Precedence", "bulk"),
        ("Precedence", "junk"),
        ("X-Apple-Action", "vacation"),
    ],
)
def test_auto_reply_headers(header: tuple[str, str]) -> None:
    verdict = classify(make(header, subject="Re: 来稿已收到"), CTX)
    assert verdict.kind is Kind.AUTOREPLY
    assert header[0].lower() in verdict.reason.lower()


def test_auto_submitted_no_is_a_person() -> None:
    assert kind_of(make(("Auto-Submitted", "no"))) == (Kind.SUBMISSION, "submission")


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: 来稿已收到 [投稿 #123]",
        "Out of Office: 来稿已收到",
        "Out of Office AutoReply: 来稿已收到",
        "[External] Automatic reply: 来稿已收到",
        "Auto: 来稿已收到",
        "Auto Response",
        "Li Ming is out of the office",
        "自动回复: 来稿已收到 [投稿 #123]",
        "自动回复：来稿已收到",
        "自动答复: 来稿已收到",
        "王五 自动回复: 来稿已收到 [投稿 #123]",
        "休假中，3月12日返回",
        "【休假】来稿已收到",
        "不在办公室：来稿已收到",
    ],
)
def test_auto_reply_subjects(subject: str) -> None:
    assert kind_of(make(subject=subject)) == (Kind.AUTOREPLY, "autoreply")


@pytest.mark.parametrize(
    "subject",
    [
        "投稿：休假归来（散文）",
        "Re: Out of Office",
        "投稿：自动回复机器人的一天",
        "Automation in the newsroom",
        "Auto Responses and the Modern Inbox",
    ],
)
def test_people_writing_about_holidays_are_not_auto_replies(subject: str) -> None:
    assert kind_of(make(subject=subject)) == (Kind.SUBMISSION, "submission")


@pytest.mark.parametrize(
    "opening",
    [
        "这是来自QQ邮箱的假期自动回复邮件。\n \n您好，我最近正在休假中，无法亲自回复您的邮件。",
        "这是来自QQ邮箱的自动回复邮件。\n \n您好，我已收到您的邮件。",
        "这是一封自动回复邮件。已经收到您的来信，我会尽快回复。",
        "您发给我的信件已经收到。\n祝好！\nThis is an automatic reply, confirming that your "
        "e-mail was received.Thank you",
    ],
)
def test_vendor_auto_reply_bodies(opening: str) -> None:
    # QQ keeps the original subject when the user wrote none, so the body is the only marker.
    assert kind_of(make(subject="Re: 来稿已收到", text=opening)) == (Kind.AUTOREPLY, "autoreply")


def test_a_quoted_qq_auto_reply_further_down_is_not_one() -> None:
    text = "编辑您好，上次收到的是我的自动回复，现重新投稿。\n" + "正文。" * 200
    text += "\n> 这是来自QQ邮箱的假期自动回复邮件。"
    assert kind_of(make(text=text)) == (Kind.SUBMISSION, "submission")


def test_x_auto_response_suppress_alone_is_a_person() -> None:
    # Exchange stamps it on ordinary mail (e.g. via distribution lists): jitbit, GLPI #2170.
    assert kind_of(make(("X-Auto-Response-Suppress", "All"))) == (Kind.SUBMISSION, "submission")


def test_exchange_inbox_rules_loop_alone_is_a_forward() -> None:
    # An editor's Outlook rule forwarding a contribution to the submissions box carries it.
    mail = make(("X-MS-Exchange-Inbox-Rules-Loop", "editor@nsnews-staff.example"))
    assert kind_of(mail) == (Kind.SUBMISSION, "submission")


def test_exchange_rule_reply_pair_is_an_auto_reply() -> None:
    mail = make(
        ("X-Auto-Response-Suppress", "All"),
        ("X-MS-Exchange-Inbox-Rules-Loop", "li@contoso.example"),
        subject="Thanks",
    )
    assert kind_of(mail) == (Kind.AUTOREPLY, "autoreply")


def test_bulk_precedence_on_list_mail_is_list_mail() -> None:
    mail = make(("Precedence", "bulk"), ("List-Unsubscribe", "<mailto:leave@news.example>"))
    assert kind_of(mail) == (Kind.LIST, "list")


# --------------------------------------------------------------------------- 4. list, 5. spam


@pytest.mark.parametrize(
    "header",
    [
        ("List-Id", "<authors.lists.nsnews.example>"),
        ("List-Post", "<mailto:authors@lists.nsnews.example>"),
        ("List-Unsubscribe", "<https://mp.example/unsub?u=1>"),
        ("X-Mailing-List", "authors@lists.example"),
        ("Mailing-List", "list nanshan@googlegroups.com"),
        ("Precedence", "list"),
    ],
)
def test_list_headers(header: tuple[str, str]) -> None:
    assert kind_of(make(header)) == (Kind.LIST, "list")


@pytest.mark.parametrize(
    "header",
    [
        ("X-Spam-Flag", "YES"),
        ("X-Spam-Flag", "yes"),
        ("X-Spam-Status", "Yes, score=8.1 required=5.0 tests=BAYES_99"),
        ("X-Spam", "Yes"),
        ("X-Forefront-Antispam-Report", "CIP:1.2.3.4;CTRY:CN;LANG:zh;SCL:9;SRV:;IPV:NLI;SFV:SPM;"),
    ],
)
def test_spam_flags(header: tuple[str, str]) -> None:
    assert kind_of(make(header)) == (Kind.SPAM, "spam")


@pytest.mark.parametrize(
    "header",
    [
        ("X-Spam-Flag", "NO"),
        ("X-Spam-Status", "No, score=-0.1 required=5.0"),
        ("X-Spam", "No"),
        ("X-Forefront-Antispam-Report", "CIP:1.2.3.4;CTRY:CN;SCL:1;SFV:NSPM;"),
    ],
)
def test_ham_verdicts(header: tuple[str, str]) -> None:
    assert kind_of(make(header)) == (Kind.SUBMISSION, "submission")


def test_second_spam_flag_counts() -> None:
    # An upstream relay said NO, our own filter said YES.
    mail = make(("X-Spam-Flag", "NO"), ("X-Spam-Flag", "YES"))
    assert kind_of(mail) == (Kind.SPAM, "spam")


# --------------------------------------------------------------------------- 6. reply, 7. claim


def test_reply_carries_what_matched() -> None:
    ctx = ClassifyContext(own_addresses=frozenset({OURS}), thread_match="[投稿 #123]")
    verdict = classify(make(subject="回复：版权授权确认 [投稿 #123]", text="同意"), ctx)
    assert verdict == Verdict(Kind.REPLY, "reply", "refers to [投稿 #123]", refers_to="[投稿 #123]")


def test_claim_verdict_has_score_and_signals() -> None:
    verdict = classify(load("claim-zh-url.eml"), CTX)
    assert verdict.kind is Kind.CLAIM
    assert verdict.score >= 3.0
    assert "infringement:侵权" in verdict.reason
    assert "site_url:https://www.nsnews.example/wenhua/2024/0212/58231.html" in verdict.reason


def test_claim_threshold_decides() -> None:
    ctx = ClassifyContext(own_addresses=frozenset({OURS}), site_domains=SITE, claim_threshold=9)
    assert kind_of(load("claim-zh-url.eml"), ctx) == (Kind.SUBMISSION, "submission")


def test_lawyers_letter_counts_through_attachment_text() -> None:
    mail = load("claim-lawyer-letter.eml")
    assert kind_of(mail) == (Kind.SUBMISSION, "submission")  # the cover note alone says little
    letter = (DATA / "lawyer-letter.txt").read_text(encoding="utf-8")
    ctx = ClassifyContext(
        own_addresses=frozenset({OURS}), site_domains=SITE, claim_attachment_texts=(letter,)
    )
    assert kind_of(mail, ctx) == (Kind.CLAIM, "claim")


def test_no_rule_means_a_submission() -> None:
    verdict = classify(load("submission-qq.eml"), CTX)
    assert verdict == Verdict(Kind.SUBMISSION, "submission", "no rule matched: a new submission")


# --------------------------------------------------------------------------- no-reply addresses


@pytest.mark.parametrize(
    "addr",
    [
        "MAILER-DAEMON@mx.example",
        "MAILER-DAEMON",
        "mailer_daemon@mx.example",
        "postmaster@163.com",
        "PostMaster@qq.com",
        "noreply@github.example",
        "no-reply@accounts.example",
        "no_reply@bank.example",
        "NoReply-Notifications@shop.example",
        "shop-noreply@shop.example",
        "donotreply@gov.example",
        "do-not-reply@gov.example",
        "do_not_reply@gov.example",
        "bounce@esp.example",
        "bounces+1234-abcd=nsnews.example@esp.example",
        "authors-bounces@lists.nsnews.example",
        "authors-request@lists.nsnews.example",
        "owner-authors@lists.example",
        "mailer@site.example",
        "notification@weibo.example",
        "notifications@github.example",
        "listserv@lists.example",
        "<noreply@wx.example>",
    ],
)
def test_noreply_addresses(addr: str) -> None:
    assert is_noreply_address(addr)


@pytest.mark.parametrize(
    "addr",
    [
        "zhangsan@163.com",
        "1234567890@qq.com",
        "norepair@shop.example",
        "bouncer.li@gmail.com",
        "replyto.me@foxmail.com",
        "postmasters.guild@example.org",
        "daemon.hunter@example.org",
        "",
    ],
)
def test_people_addresses(addr: str) -> None:
    assert not is_noreply_address(addr)


# --------------------------------------------------------------------------- auto_reply_allowed


def allowed(mail: ParsedMail, ctx: ClassifyContext = CTX) -> tuple[bool, str]:
    return auto_reply_allowed(mail, classify(mail, ctx), ctx)


def test_a_contributor_gets_an_acknowledgement() -> None:
    ok, reason = allowed(load("submission-qq.eml"))
    assert ok, reason
    assert "1234567890@qq.com" in reason


@pytest.mark.parametrize(
    "name",
    [
        "bounce-postfix.eml",
        "autoreply-exchange.eml",
        "autoreply-qq.eml",
        "autoreply-gmail-vacation.eml",
        "list-mailman.eml",
        "spam-spamassassin.eml",
        "own-loop.eml",
    ],
)
def test_no_reply_to_ignored_kinds(name: str) -> None:
    ok, reason = allowed(load(name))
    assert not ok
    assert "never get an automatic reply" in reason


@pytest.mark.parametrize("kind", [Kind.BOUNCE, Kind.AUTOREPLY, Kind.LIST, Kind.SPAM, Kind.OWN,
                                  Kind.QUARANTINED])  # fmt: skip
def test_no_reply_to_any_excluded_kind(kind: Kind) -> None:
    ok, _ = auto_reply_allowed(make(), Verdict(kind, kind.value, "test"), CTX)
    assert not ok


def test_claims_and_submissions_may_be_answered() -> None:
    assert allowed(load("claim-zh-url.eml"))[0]
    assert auto_reply_allowed(make(), Verdict(Kind.REPLY, "reply", "r"), CTX)[0]


@pytest.mark.parametrize(
    ("mail", "because"),
    [
        (make(sender="noreply@shop.example"), "no-reply address"),
        (make(sender=""), "no usable sender address"),
        (make(sender="undisclosed-recipients"), "no usable sender address"),
        (make(reply_to=(Address("", "not an address"),)), "no usable reply address"),
        (make(reply_to=(Address("", "no-reply@shop.example"),)), "no-reply address"),
        (make(reply_to=(Address("", OURS),)), "our own address"),
        (make(return_path=""), "null Return-Path"),
        (make(("X-Loop", "helpdesk@other.example")), "X-Loop"),
        (make(("X-Auto-Response-Suppress", "DR, RN, NRN, OOF, AutoReply")), "Suppress"),
        (make(("X-Auto-Response-Suppress", "All")), "Suppress"),
    ],
)
def test_reply_refused(mail: ParsedMail, because: str) -> None:
    ok, reason = auto_reply_allowed(mail, Verdict(Kind.SUBMISSION, "submission", ""), CTX)
    assert not ok
    assert because in reason


def test_reply_refused_for_our_loop_header_and_machine_markers() -> None:
    submission = Verdict(Kind.SUBMISSION, "submission", "")
    for mail in (
        make(("X-Intake-Loop", "1")),
        make(("Auto-Submitted", "auto-generated")),
        make(("Precedence", "bulk")),
        make(("List-Id", "<x.example>")),
    ):
        assert not auto_reply_allowed(mail, submission, CTX)[0], mail.headers


def test_out_of_office_suppression_alone_allows_an_acknowledgement() -> None:
    # "OOF" asks only that out-of-office notices be held back; an acknowledgement is not one.
    assert allowed(make(("X-Auto-Response-Suppress", "OOF")))[0]


def test_reply_goes_to_reply_to() -> None:
    mail = make(reply_to=(Address("张三", "zhangsan.writer@qq.com"),))
    assert allowed(mail) == (True, "automatic reply allowed to zhangsan.writer@qq.com")


# --------------------------------------------------------------------------- beyond the headers


@pytest.mark.parametrize(
    ("name", "rule", "because"),
    [
        ("autoreply-latvian-outlook.eml", "autoreply.subject", "Automātiskā atbilde"),
        ("autoreply-german-abwesenheit.eml", "autoreply.subject", "Abwesenheitsnotiz"),
        ("autoreply-french.eml", "autoreply.subject", "Réponse automatique"),
        ("autoreply-swedish-autosvar.eml", "autoreply.subject", "Autosvar"),
        ("autoreply-russian.eml", "autoreply.subject", "Автоматический ответ"),
        ("autoreply-japanese.eml", "autoreply.subject", "自動応答"),
        ("autoreply-korean.eml", "autoreply.subject", "자동 회신"),
        ("autoreply-taiwan-big5.eml", "autoreply.subject", "自動回覆"),
        ("autoreply-english-body-only.eml", "autoreply.body", "out of the office"),
        ("bounce-returned-mail-error.eml", "bounce.subject", "Returned Mail - Error"),
        ("bounce-undeliverable-plain.eml", "bounce.subject", "Undeliverable mail"),
        ("bounce-qq-tuixin.eml", "bounce.sender", "系统退信"),
        ("bounce-exchange-dsn-subject.eml", "bounce.subject", "Delivery Status Notification"),
        ("bounce-report-relabelled.eml", "bounce.dsn", "zhaoliu@mail-cn.example"),
        ("bounce-report-no-boundary.eml", "bounce.report", "final-recipient"),
    ],
)
def test_shapes_that_evade_the_header_rules(name: str, rule: str, because: str) -> None:
    mail = load(name)
    verdict = classify(mail, CTX)
    assert (verdict.rule, because in verdict.reason) == (rule, True), verdict
    ok, reason = auto_reply_allowed(mail, verdict, CTX)
    assert not ok and "never get an automatic reply" in reason


@pytest.mark.parametrize(
    "subject",
    [
        "Automatic reply: 来稿已收到",
        "Automatische Antwort: Ihr Beitrag",
        "Risposta automatica: 来稿已收到",
        "Respuesta automática: 来稿已收到",
        "Resposta automática: 来稿已收到",
        "Automatisch antwoord: 来稿已收到",
        "Automatiskt svar: 来稿已收到",
        "Automatisk svar: 来稿已收到",
        "Automaattinen vastaus: 来稿已收到",
        "Odpowiedź automatyczna: 来稿已收到",
        "Automatická odpověď: 来稿已收到",
        "Automatikus válasz: 来稿已收到",
        "Răspuns automat: 来稿已收到",
        "Automatski odgovor: 来稿已收到",
        "Automatinis atsakymas: 来稿已收到",
        "Automaatvastus: 来稿已收到",
        "Αυτόματη απάντηση: 来稿已收到",
        "Автоматична відповідь: 来稿已收到",
        "Otomatik yanıt: 来稿已收到",
        "Trả lời tự động: 来稿已收到",
        "Risposta Non al computer: 来稿已收到",
        "Fuori sede: 来稿已收到",
        "Frånvaro: 来稿已收到",
        "AUTOMĀTISKĀ ATBILDE: 来稿已收到",
        "自動返信: 来稿已収到",
        "自动应答：来稿已收到",
        "[外部邮件] 自动回复：来稿已收到",
    ],
)
def test_auto_reply_subjects_in_many_languages(subject: str) -> None:
    assert kind_of(make(subject=subject)) == (Kind.AUTOREPLY, "autoreply")


@pytest.mark.parametrize(
    "subject",
    [
        "Undelivered Mail Returned to Sender",
        "Undeliverable mail - 来稿已收到",
        "Returned Mail - Error During Delivery",
        "Delivery Status Notification",
        "Delivery Notification: Delivery has failed",
        "Message not delivered",
        "Mail System Error - Returned Mail",
        "Nicht zustellbar: 来稿已收到",
        "Non remis : 来稿已收到",
        "Non recapitabile: 来稿已收到",
        "No se puede entregar: 来稿已收到",
        "Onbestelbaar: 来稿已收到",
        "配信不能: 来稿已収到",
        "退信通知：来稿已收到",
        "邮件退回：来稿已收到",
        "邮件无法投递",
        "系統退信",
    ],
)
def test_bounce_subjects_in_many_languages(subject: str) -> None:
    assert kind_of(make(subject=subject, sender="mail@relay.example")) == (Kind.BOUNCE, "bounce")


@pytest.mark.parametrize(
    "subject",
    [
        "投稿：退信的故事（散文）",
        "退信之后",
        "投稿：无法投递的信",
        "Returned to the village (a short story)",
        "Undeliverable Love — poems",
        "Autosvarare och andra robotar",
        "Automated journalism: an essay",
        "Out of Officers (fiction)",
        "投稿：休假中的父亲",
    ],
)
def test_titles_that_only_look_like_robots(subject: str) -> None:
    assert kind_of(make(subject=subject)) == (Kind.SUBMISSION, "submission")


@pytest.mark.parametrize(
    ("name", "addr"),
    [
        ("Mail Delivery System", "relay@mx.example"),
        ("Mail Delivery Subsystem", "root@mx.example"),
        ("系统退信", "notify@mail-cn.example"),
        ("Microsoft Outlook", "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example"),
    ],
)
def test_delivery_system_senders(name: str, addr: str) -> None:
    mail = make(subject="Warning", sender=addr)
    mail = ParsedMail(
        **{**{f: getattr(mail, f) for f in mail.__slots__}, "sender": Address(name, addr)}
    )
    assert classify(mail, CTX).rule == "bounce.sender"


def test_a_person_called_postmaster_general_is_not_a_daemon() -> None:
    mail = make(subject="投稿：散文", sender="li@163.com")
    mail = ParsedMail(
        **{
            **{f: getattr(mail, f) for f in mail.__slots__},
            "sender": Address("Postmaster General Li", "li@163.com"),
        }
    )
    assert kind_of(mail) == (Kind.SUBMISSION, "submission")


def test_delivery_status_fields_quoted_by_a_person_once_are_not_a_report() -> None:
    text = "编辑您好，上次投稿被退回，提示 Status: 5.1.1，现重新投稿。\n" + "正文。" * 50
    assert kind_of(make(text=text)) == (Kind.SUBMISSION, "submission")


# --------------------------------------------------------------------------- claims from letters

BOOK_ZH = (
    "《南山往事》\n作者：李明\n\n版权信息\n本书由作者授权发布。版权所有，侵权必究。"
    "未经作者书面许可，任何单位和个人不得以任何形式转载、摘编、复制本书内容，"
    "违者将依法追究法律责任，并要求删除侵权内容、赔偿损失。\nISBN 978-7-0000-0000-0\n\n目录\n"
    + "".join(f"第{i}章 老街旧事\n" for i in "一二三四五六七八")
    + "\n第一章 老街旧事\n\n"
    + "三月的风吹过老街，青石板路上还留着昨夜的雨水。" * 300
)
BOOK_EN = (
    "The Old Street\n\nCopyright (c) 2023 Li Ming. This work is licensed under a Creative "
    "Commons Attribution-NonCommercial 4.0 licence. Any unauthorized reproduction or "
    "infringement will be pursued; copies published without permission must be removed.\n\n"
    "Chapter 1\n\n" + "The March wind blows down the old street. " * 400
)


@pytest.mark.parametrize("book", [BOOK_ZH, BOOK_EN])
@pytest.mark.parametrize(
    ("subject", "text"),
    [
        (
            "投稿：长篇小说《南山往事》",
            "编辑老师您好，附件是我的书稿，请贵网审阅。稿费请支付到我的账户。",
        ),
        ("来稿 — The Old Street", "Dear editor, please find my book attached for your site."),
        ("【投稿】南山往事（全书）", "您好！书稿见附件，希望贵网能连载，如不合适请删除。"),
        ("书稿一部", "编辑您好，这是我的书，贵网如采用请支付稿酬。"),
    ],
)
def test_a_book_with_a_licence_page_makes_no_claim(book: str, subject: str, text: str) -> None:
    ctx = ClassifyContext(
        own_addresses=frozenset({OURS}), site_domains=SITE, claim_attachment_texts=(book,)
    )
    assert kind_of(make(subject=subject, text=text), ctx) == (Kind.SUBMISSION, "submission")


def test_a_submission_subject_weighs_against_a_claim() -> None:
    text = "贵网未经授权转载了我的文章，侵犯了我的著作权，请删除并支付稿酬。"
    assert kind_of(make(subject="关于贵网侵权的通知", text=text))[0] is Kind.CLAIM
    verdict = classify(make(subject="投稿：我的文章", text=text), CTX)
    assert verdict.kind is Kind.SUBMISSION


def test_a_lawyers_letter_is_still_read_for_a_claim() -> None:
    letter = (DATA / "lawyer-letter.txt").read_text(encoding="utf-8")
    from intake.text.claims import letter_like

    assert letter_like(letter)
    assert not letter_like(BOOK_ZH) and not letter_like(BOOK_EN)


# --------------------------------------------------------------------------- public corpus

SISIMAI = {
    "arf-01.eml": "autoreply.report",  # an abuse feedback report (ARF)
    "arf-22.eml": "bounce.subject",  # Hotmail's JMRP: "complaint about message from …"
    "lhost-apachejames-01.eml": "bounce.sender",  # post_master@, no DSN structure
    "lhost-verizon-02.eml": "bounce.sender",
    "lhost-exchange2007-01.eml": "bounce.dsn",
    "lhost-gmail-01.eml": "bounce.dsn",
    "lhost-googlegroups-01.eml": "bounce.dsn",
    "lhost-outlook-01.eml": "bounce.dsn",
    "lhost-postfix-01.eml": "bounce.dsn",
    "lhost-qmail-01.eml": "bounce.dsn",
    "rfc3834-01.eml": "autoreply.headers",
    "rfc3834-02.eml": "autoreply.subject",
    "rfc3834-03.eml": "autoreply.headers",
    "rfc3834-04.eml": "autoreply.subject",
    "rfc3834-05.eml": "autoreply.headers",
    "rfc3834-06.eml": "autoreply.headers",
}


@pytest.mark.parametrize(("name", "rule"), sorted(SISIMAI.items()))
def test_sisimai_bounces_and_auto_replies_get_no_reply(name: str, rule: str) -> None:
    mail = load(f"sisimai/{name}")
    verdict = classify(mail, CTX)
    assert verdict.rule == rule, verdict
    assert not auto_reply_allowed(mail, verdict, CTX)[0]
