"""Reply templates, reference tokens, outgoing headers (threading, loop prevention, no header
injection, RFC 2047 round trips) and HMAC Message-IDs."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

import pytest

from intake.core.errors import ConfigError, PermanentDeliveryError
from intake.core.mail import Address
from intake.replies.mime import build_message
from intake.replies.render import (
    LANGUAGES,
    TEMPLATES,
    RenderedText,
    Renderer,
    make_message_id,
    parse_tokens,
    token_for,
    verify_message_id,
)

SECRET = b"k" * 32
RECEIVED = datetime(2024, 5, 1, 6, 30, tzinfo=UTC)
BEIJING = timezone(timedelta(hours=8))
NOTE = "编辑附言：请补充作者简介。"


def full_context() -> dict[str, object]:
    """Every variable any template uses."""
    return {
        "site_name": "南方晨报",
        "contact": "电话 020-12345678",
        "name": "张三",
        "number": 123,
        "title": "我的家乡",
        "note": NOTE,
        "received_at": RECEIVED,
        "attachments": [
            {"filename": "家乡.docx", "readable": True},
            {"filename": "照片.heic", "readable": False},
        ],
        "decision_due": RECEIVED + timedelta(days=15),
        "decision_days": 15,
        "byline": "张三",
        "platforms": ["南方晨报网", "南方晨报微信公众号"],
        "exclusive": False,
        "term": "三年",
        "editing_allowed": True,
        "fee_policy": "按本报稿酬标准支付",
        "terms": "第一条 作者授权本报……",
        "terms_version": "2024-01",
        "respond_by": RECEIVED + timedelta(days=14),
        "requested_at": RECEIVED,
        "granted": True,
        "limit_mb": 50,
        "url": "https://news.example.cn/a/1.html",
        "work_title": "春天的故事",
        "urls": ["https://news.example.cn/a/2.html"],
        "response_days": 3,
        "amount": "500 元",
        "reason": "该作品为本报记者原创，首发于本报。",
    }


def render(template: str, language: str = "zh", **changes: object) -> RenderedText:
    return Renderer("", language, timezone=BEIJING).render(template, full_context() | changes)


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_every_template_renders_with_a_full_context(template: str, language: str) -> None:
    out = render(template, language)
    kind = TEMPLATES[template]
    assert out.subject.startswith(token_for(kind, 123, language))
    assert parse_tokens(out.subject) == [(kind, 123)]
    assert "\n" not in out.subject and len(out.subject) < 120
    assert out.text.endswith("\n") and not out.text.startswith("\n")
    assert "\n\n\n" not in out.text
    assert "None" not in out.text and "{{" not in out.text and "{%" not in out.text
    assert "南方晨报" in out.text  # the signature
    if template not in ("needs_info", "claim_needs_info"):
        assert NOTE in out.text
    assert out.html == ""


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_optional_variables_may_be_left_out(template: str, language: str) -> None:
    context = full_context()
    del context["note"]
    if template != "claim_ack":  # there the answer's due date is required
        del context["respond_by"]
    out = Renderer("", language).render(template, context | {"name": "", "site_name": ""})
    assert out.text and "None" not in out.text


def test_ack_lists_attachments_and_the_deadline() -> None:
    text = render("ack").text
    assert "家乡.docx（可以正常打开）" in text
    assert "照片.heic（无法打开）" in text
    assert "2024年5月16日之前" in text and "15日内" in text
    assert "收稿时间：2024年5月1日 14:30（UTC+8）" in text
    assert "一稿多投" in text and "电话 020-12345678" in text


def test_copyright_request_says_how_to_answer() -> None:
    text = render("copyright_request").text
    for expected in (
        "信息网络传播权",
        "南方晨报网、南方晨报微信公众号",
        "非专有",
        "三年",
        "（版本：2024-01）",
        "第一条 作者授权本报",
        "“同意”",
        "“不同意”",
        "原创",
    ):
        assert expected in text  # fmt: skip
    assert "专有使用（授权期限内" in render("copyright_request", exclusive=True).text


@pytest.mark.parametrize("language", ["zh", "en"])
def test_copyright_request_never_points_at_terms_it_does_not_have(language: str) -> None:
    # A desk that set neither a term nor the full terms must not be told "see the terms below".
    bare = {"terms": "", "term": "", "fee_policy": ""}
    text = Renderer("", language).render("copyright_request", full_context() | bare).text
    assert "以下列授权条款为准" not in text and "terms below" not in text
    assert ("撤回授权" if language == "zh" else "withdraw the grant") in text
    with_terms = full_context() | bare | {"terms": "第一条 作者授权本报……"}
    text = Renderer("", language).render("copyright_request", with_terms).text
    assert ("以下列授权条款为准" if language == "zh" else "terms below") in text


def test_oversize_may_have_no_number() -> None:
    out = Renderer("", "zh").render("oversize", full_context() | {"number": None})
    assert out.subject == "来稿未能接收：邮件超过 50 MB"


@pytest.mark.parametrize("title", ["[投稿 #999]\r\nBcc: x@example.com", "［投稿　＃９９９］春，夏"])
def test_titles_cannot_smuggle_tokens_or_newlines_into_subjects(title: str) -> None:
    out = render("ack", title=title)
    assert parse_tokens(out.subject) == [("submission", 123)]
    assert "\r" not in out.subject and "\n" not in out.subject


def test_dates_may_be_plain_dates_but_nothing_else() -> None:
    assert "2024年5月16日之前" in render("ack", decision_due=date(2024, 5, 16)).text
    assert "16 May 2024" in render("ack", "en", decision_due=date(2024, 5, 16)).text
    with pytest.raises(ConfigError, match="zh/ack.txt: the date filter needs a date, got str"):
        render("ack", decision_due="2024-05-16")


def test_a_missing_variable_is_an_error_naming_the_template() -> None:
    context = full_context()
    del context["title"]
    with pytest.raises(ConfigError, match=r"zh/ack.txt.*'title' is undefined"):
        Renderer("", "zh").render("ack", context)


def test_unknown_template_and_language() -> None:
    with pytest.raises(ConfigError, match="no template zh/nonesuch.txt"):
        Renderer("", "zh").render("nonesuch", {})
    with pytest.raises(ConfigError, match="invalid template name"):
        Renderer("", "zh").render("../../etc/passwd", {})
    with pytest.raises(ConfigError, match="replies.language"):
        Renderer("", "fr")


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_staff_overrides_replace_packaged_files_by_name(tmp_path: Path) -> None:
    write(tmp_path, "zh/accepted.txt", "{% block subject %}采用 {{ number }}{% endblock %}"
                                       "{% block text %}恭喜！{% endblock %}")  # fmt: skip
    write(tmp_path, "zh/_signature.txt", "\n——晨报文艺部\n")
    renderer = Renderer(str(tmp_path), "zh")
    assert renderer.render("accepted", full_context()) == RenderedText("采用 123", "恭喜！\n")
    # Packaged templates pick up an overridden partial.
    assert renderer.render("declined", full_context()).text.endswith("——晨报文艺部\n")
    renderer.check()


def test_an_override_can_extend_the_default_and_add_html(tmp_path: Path) -> None:
    write(tmp_path, "zh/ack.txt", '{% extends "default/zh/ack.txt" %}'
          "{% block html %}{% autoescape true %}<p>{{ title }}</p>{% endautoescape %}"
          "{% endblock %}")  # fmt: skip
    out = Renderer(str(tmp_path), "zh").render("ack", full_context() | {"title": "<b>春</b>"})
    assert out.subject.startswith("[投稿 #123] 收稿回执")
    assert "一稿多投" in out.text
    assert out.html == "<p>&lt;b&gt;春&lt;/b&gt;</p>"


@pytest.mark.parametrize(
    "source",
    [
        "{% block subject %}{{ ''.__class__.__mro__ }}{% endblock %}{% block text %}{% endblock %}",
        "{% block subject %}x{% endblock %}{% block text %}{{ attachments.append(1) }}"
        "{% endblock %}",
    ],
)
def test_templates_run_sandboxed(tmp_path: Path, source: str) -> None:
    write(tmp_path, "zh/ack.txt", source)
    with pytest.raises(ConfigError, match="zh/ack.txt"):
        Renderer(str(tmp_path), "zh").render("ack", full_context())


def test_check_finds_a_broken_partial(tmp_path: Path) -> None:
    write(tmp_path, "zh/_signature.txt", "{{ site_name ")
    with pytest.raises(ConfigError, match="zh/_signature.txt line 1"):
        Renderer(str(tmp_path), "zh").check()
    Renderer(str(tmp_path), "en").check()


def test_syntax_errors_name_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "en/ack.txt", "{% block subject %}x{% endblock %}\n{% block text %}{% if %}")
    renderer = Renderer(str(tmp_path), "en")
    with pytest.raises(ConfigError, match="en/ack.txt line 2"):
        renderer.check()
    with pytest.raises(ConfigError, match="en/ack.txt line 2"):
        renderer.render("ack", full_context())


def test_a_template_without_a_text_block_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "zh/ack.txt", "{% block subject %}x{% endblock %}")
    with pytest.raises(ConfigError, match="no {% block text %}"):
        Renderer(str(tmp_path), "zh").render("ack", full_context())


# --------------------------------------------------------------------------- tokens


def test_token_for() -> None:
    assert token_for("submission", 123, "zh") == "[投稿 #123]"
    assert token_for("submission", 123, "en") == "[Submission #123]"
    assert token_for("claim", 7, "zh") == "[版权 #7]"
    assert token_for("claim", 7, "en") == "[Claim #7]"
    with pytest.raises(ValueError):
        token_for("invoice", 1, "zh")


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("回复：[投稿 #123] 收稿回执：《我的家乡》", [("submission", 123)]),
        ("Re: [Submission #123] Received", [("submission", 123)]),
        ("RE: [submission#45]", [("submission", 45)]),
        ("答复: 【投稿 ＃１２３】", [("submission", 123)]),
        ("［投稿　＃１２３］", [("submission", 123)]),
        ("Fw: [版权 #7] 已收到", [("claim", 7)]),
        ("[Claim No. 7]", [("claim", 7)]),
        ("Re: [投稿 #5] Re: [Submission #5] [版权 #7]", [("submission", 5), ("claim", 7)]),
        ("投稿 #123", []),
        ("[投稿] 我的家乡", []),
        ("[投稿 #] x", []),
        ("", []),
    ],
)
def test_parse_tokens(subject: str, expected: list[tuple[str, int]]) -> None:
    assert parse_tokens(subject) == expected


# --------------------------------------------------------------------------- building mail


def build(**changes: object) -> bytes:
    values: dict[str, object] = {
        "rendered": RenderedText("[投稿 #123] 收稿回执：《我的家乡》", "张三，您好！\n正文。\n"),
        "from_address": "南方晨报编辑部 <tougao@news.example.cn>",
        "to": Address("张三", "zhangsan@qq.com"),
        "message_id": "intake.1.abc.def@news.example.cn",
        "in_reply_to": "<ABC123@qq.com>",
        "references": ["<root@qq.com>"],
        "loop_value": "tougao@news.example.cn",
        "date": RECEIVED,
        "template": "ack",
    }
    values.update(changes)
    return build_message(**values).raw  # type: ignore[arg-type]


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_chinese_subject_and_names_round_trip() -> None:
    raw = build()
    assert raw.isascii()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    msg = parse(raw)
    assert msg["Subject"] == "[投稿 #123] 收稿回执：《我的家乡》"
    assert msg["To"].addresses[0].display_name == "张三"
    assert msg["To"].addresses[0].addr_spec == "zhangsan@qq.com"
    assert msg["From"].addresses[0].display_name == "南方晨报编辑部"
    body = msg.get_body(("plain",))
    # Canonical MIME text (RFC 2045): CRLF line breaks inside the base64.
    assert body is not None and body.get_content() == "张三，您好！\r\n正文。\r\n"
    assert body.get_content_charset() == "utf-8"


def test_reply_headers_thread_and_prevent_loops() -> None:
    msg = parse(build())
    assert msg["Message-ID"] == "<intake.1.abc.def@news.example.cn>"
    assert msg["In-Reply-To"] == "<ABC123@qq.com>"
    assert msg["References"].split() == ["<root@qq.com>", "<ABC123@qq.com>"]
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Intake-Loop"] == "tougao@news.example.cn"
    assert msg["Precedence"] is None
    assert msg["Date"].datetime == RECEIVED
    staff = parse(build(automatic=False, loop_header="X-Loop"))
    assert staff["Auto-Submitted"] is None and staff["X-Loop"] == "tougao@news.example.cn"


def test_outgoing_mail_fields() -> None:
    out = build_message(
        rendered=RenderedText("主题", "正文\n"),
        from_address="tougao@news.example.cn",
        to=Address("", "li@163.com"),
        message_id="<intake.x@news.example.cn>",
        loop_value="x",
        date=datetime(2024, 5, 1),  # naive: taken as UTC
        template="accepted",
    )
    assert (out.template, out.subject, out.message_id) == (
        "accepted",
        "主题",
        "intake.x@news.example.cn",
    )
    assert out.to == Address("", "li@163.com")
    assert (out.in_reply_to, out.references) == ("", ())
    msg = parse(out.raw)
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg["Date"].datetime == datetime(2024, 5, 1, tzinfo=UTC)


def test_long_message_ids_are_not_encoded_and_references_are_bounded() -> None:
    long_id = "x" * 150 + "@mail.qq.com"
    refs = [f"<ref{i}@163.com>" for i in range(40)]
    msg = parse(build(in_reply_to=long_id, references=refs))
    assert msg["In-Reply-To"] == f"<{long_id}>"
    chain = msg["References"].split()
    assert len(chain) == 20
    assert chain[0] == "<ref0@163.com>" and chain[-1] == f"<{long_id}>"


def test_references_may_be_given_as_a_header_value() -> None:
    msg = parse(build(in_reply_to="c@qq.com", references=["<a@qq.com> <b@qq.com>\r\n <a@qq.com>"]))
    assert msg["References"].split() == ["<a@qq.com>", "<b@qq.com>", "<c@qq.com>"]


def test_garbage_message_ids_are_dropped() -> None:
    msg = parse(
        build(in_reply_to="not an id", references=["<a b@c>", "", "<ok@qq.com>", "<中@文>"])
    )
    assert msg["In-Reply-To"] is None
    assert msg["References"] == "<ok@qq.com>"


def test_header_injection_is_impossible() -> None:
    raw = build(
        to=Address("Evil\r\nBcc: victim@example.com", "zhangsan@qq.com"),
        rendered=RenderedText("[投稿 #1] hello\nX-Injected: 1", "body\n"),
        in_reply_to="<a@b>\r\nBcc: victim2@example.com",
        references=["<c@d>\nX-Injected: 2"],
        loop_value="v\r\nX-Injected: 3",
    )
    msg = parse(raw)
    names = [name.lower() for name in msg.keys()]
    assert "bcc" not in names and "x-injected" not in names
    assert len(names) == len(set(names))
    recipients = getaddresses([str(v) for v in msg.get_all("To", [])])
    assert [addr for _, addr in recipients] == ["zhangsan@qq.com"]
    # The name keeps its words, not the characters that delimit addresses.
    assert msg["To"].addresses[0].display_name == "Evil Bcc victim example com"
    assert msg["Subject"] == "[投稿 #1] hello X-Injected: 1"
    assert b"\r\nBcc" not in raw and b"\r\nX-Injected" not in raw
    with pytest.raises(ConfigError, match="smtp.from_address"):
        build(from_address="Desk\r\nBcc: victim3@example.com <tougao@news.example.cn>")


def test_unsendable_recipients_are_permanent_failures() -> None:
    with pytest.raises(PermanentDeliveryError):
        build(to=Address("", "no-at-sign"))
    with pytest.raises(PermanentDeliveryError):
        build(to=Address("", '"two words"@qq.com'))
    msg = parse(build(to=Address("", "li@例子.中国")))
    assert msg["To"].addresses[0].domain == "xn--fsqu00a.xn--fiqs8s"


def test_a_non_ascii_mailbox_gets_a_utf8_header_for_smtputf8() -> None:
    raw = build(to=Address("张三", "张三@例子.中国"))
    head = raw.split(b"\r\n\r\n")[0].decode("utf-8")  # RFC 6532: UTF-8 in the header
    assert "To: 张三 <张三@xn--fsqu00a.xn--fiqs8s>" in head.splitlines()
    msg = email.message_from_string(raw.decode("utf-8"), policy=email.policy.default)
    assert [a.addr_spec for a in msg["To"].addresses] == ["张三@xn--fsqu00a.xn--fiqs8s"]
    # An ASCII mailbox keeps the 7-bit header every relay takes.
    assert build(to=Address("张三", "zhangsan@qq.com")).isascii()


def test_html_alternative() -> None:
    msg = parse(build(rendered=RenderedText("s", "纯文本\n", "<p>网页</p>")))
    assert msg.get_content_type() == "multipart/alternative"
    html = msg.get_body(("html",))
    plain = msg.get_body(("plain",))
    assert html is not None and html.get_content() == "<p>网页</p>\r\n"
    assert plain is not None and plain.get_content() == "纯文本\r\n"


# --------------------------------------------------------------------------- Message-IDs


def test_message_ids_verify() -> None:
    mid = make_message_id(SECRET, "news.example.cn", now=RECEIVED, nonce=b"12345678")
    assert mid.endswith("@news.example.cn") and "<" not in mid
    assert len(f"Message-ID: <{mid}>") <= 78
    assert verify_message_id(SECRET, mid)
    assert verify_message_id(SECRET, f"<{mid}>")
    assert verify_message_id(SECRET, f" <{mid.upper()}> ")  # gateways that change case
    assert mid != make_message_id(SECRET, "news.example.cn", now=RECEIVED, nonce=b"87654321")


def test_forged_and_tampered_message_ids_fail() -> None:
    mid = make_message_id(SECRET, "news.example.cn", now=RECEIVED, nonce=b"12345678")
    _, stamp, nonce, mac = mid.partition("@")[0].split(".")
    assert not verify_message_id(b"another secret", mid)
    assert not verify_message_id(SECRET, mid.replace(stamp, f"{int(stamp, 16) + 1:x}"))
    assert not verify_message_id(SECRET, mid.replace(nonce, "a" + nonce[1:]))
    assert not verify_message_id(SECRET, mid.replace(mac, "a" * len(mac)))
    assert not verify_message_id(SECRET, mid.replace(mac, mac[:-2]))
    for junk in ("", "<>", "abc@qq.com", "intake.1.2.3", "intake..x.y@z", "a.b.c.d.e@f"):
        assert not verify_message_id(SECRET, junk)
    assert not verify_message_id(b"", mid)


def test_message_id_arguments() -> None:
    with pytest.raises(ValueError):
        make_message_id(b"", "example.com", now=RECEIVED, nonce=b"x")
    with pytest.raises(ValueError):
        make_message_id(SECRET, "example.com", now=RECEIVED, nonce=b"")
    with pytest.raises(ValueError):
        make_message_id(SECRET, "bad domain\r\n", now=RECEIVED, nonce=b"x")
    mid = make_message_id(SECRET, "例子.中国", now=RECEIVED, nonce=b"x")
    assert mid.endswith("@xn--fsqu00a.xn--fiqs8s") and verify_message_id(SECRET, mid)


# --------------------------------------------------------------------------- the desk's letters


def desk_item(**changes: object) -> dict[str, object]:
    return {
        "kind": "submission", "id": 42, "subject": "投稿：《故乡的秋天》", "sender": "a@qq.example",
        "sender_name": "张三", "received_at": RECEIVED, "chars": 3210, "attachments": 2,
        "status": "received", "duplicate_of": None, "command": "intake show 42",
    } | changes  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", ["submission", "claim"])
def test_desk_new_names_subject_sender_length_and_the_command(language: str, kind: str) -> None:
    item = desk_item(kind=kind, command="intake claim show 42" if kind == "claim" else "x")
    out = Renderer("", language, timezone=BEIJING).render("desk_new", {**item, "item": item})
    assert parse_tokens(out.subject) == []  # the desk's answer must not file as a reply
    assert "#42" in out.subject and "故乡的秋天" in out.subject and "张三" in out.subject
    assert "3210" in out.text and str(item["command"]) in out.text
    assert "a@qq.example" in out.text and "intake triage" in out.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_desk_digest_lists_every_item_and_counts_the_rest(language: str) -> None:
    items = [desk_item(id=i, command=f"intake show {i}") for i in (7, 8)]
    items.append(desk_item(kind="claim", id=3, command="intake claim show 3", duplicate_of=None))
    context = {
        "items": items, "submissions": 2, "claims": 1, "more": 5, "mode": "daily",
        "period_start": RECEIVED,
    }  # fmt: skip
    out = Renderer("", language, timezone=BEIJING).render("desk_digest", context)
    assert parse_tokens(out.subject) == []
    for command in ("intake show 7", "intake show 8", "intake claim show 3", "intake list"):
        assert command in out.text
    assert "5" in out.text and "\n\n\n" not in out.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_reply_is_the_editors_words_with_the_desks_signature(language: str) -> None:
    words = "来稿收到，第二段的数据请注明出处。\n\n谢谢！"
    out = render("reply", language, note=words)
    assert parse_tokens(out.subject) == [("submission", 123)]
    assert words in out.text and "南方晨报" in out.text
    assert "投稿处理系统" not in out.text and "submissions system" not in out.text
