"""Hostile senders against consent and versions, through the real ingest pipeline on SQLite.

test_binding.py holds the attacks the design names; these are the ones a checker with fresh
eyes tries next: From spellings, a second address, Sender and Reply-To, a request sent to a
Reply-To the contributor's From never received, our ids rewritten, codes of other letters,
forwarded letters, several codes, a grant to a reminder from a stranger. Each must end flagged,
pending or ignored, never applied.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import dkim as dkimpy
import pytest

from intake.adapters.memory.dns import StaticResolver
from intake.app import App
from intake.store.models import Event, Outbox, Version
from tests.conversations.test_binding import (
    ARTICLE,
    STRANGER,
    T0,
    Clock,
    build,
    code_of,
    consents,
    docx_attachment,
    ingest,
    letter,
    query,
    render_text,
    reply,
    rights,
    start,
    templates,
)

REVISED = "《老街》（修改稿）\n" + ARTICLE.replace("王师傅", "赵师傅") + "后记：改过了。"


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


@pytest.fixture
def app(tmp_path: Path, sqlite_url: str, clock: Clock) -> Iterator[App]:
    made = build(tmp_path, sqlite_url, clock)
    yield made
    made.close()


def untouched(app: App, submission_id: int = 1) -> None:
    """Nothing was decided: the request still waits, no consent applied, no receipt."""
    sub = rights(app, submission_id)
    assert sub.copyright_status == "requested", sub.copyright_status
    assert all(c.state != "applied" for c in consents(app, submission_id))
    assert "consent_receipt" not in templates(app, submission_id)


# --------------------------------------------------------------------------- From spellings

#: Addresses that are not the contributor's mailbox, however much they look like it.
LOOKALIKES = [
    "张三 <zhangsan+x@qq.example>",  # sub-address: another mailbox as far as we can prove
    "张三 <zhangsan@qq.example.evil.example>",
    "张三 <zhangsan@qq-example.com>",
    "张三 <zhаngsan@qq.example>",  # Cyrillic а
    "张三 <zhangsan@qq.examp1e>",
    '"zhangsan@qq.example" <lisi@163.example>',  # the address as display name
    "zhangsan@qq.example <lisi@163.example>",
    "=?utf-8?b?emhhbmdzYW5AcXEuZXhhbXBsZQ==?= <lisi@163.example>",  # encoded display name
    "lisi@163.example (zhangsan@qq.example)",  # the address as a comment
]


@pytest.mark.parametrize("sender", LOOKALIKES)
def test_a_lookalike_sender_holding_our_request_is_a_stranger(app: App, sender: str) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, sender=sender, body=f"同意 {code_of(app, request)}"))
    untouched(app)
    assert consents(app) == []
    assert "is not from the contributor" in rights(app).flagged


#: Two addresses, or one From and a second header: no single sender.
SEVERAL = [
    "张三 <zhangsan@qq.example>, 李四 <lisi@163.example>",
    "李四 <lisi@163.example>, 张三 <zhangsan@qq.example>",
    "张三 <zhangsan@qq.example>; lisi@163.example",
    "group: zhangsan@qq.example, lisi@163.example;",
]


@pytest.mark.parametrize("sender", SEVERAL)
def test_several_from_addresses_are_no_sender(app: App, sender: str) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, sender=sender))
    untouched(app)
    assert consents(app) == []


def test_sender_and_reply_to_do_not_make_a_stranger_the_contributor(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    headers = {"Sender": "zhangsan@qq.example", "Reply-To": "zhangsan@qq.example"}
    ingest(app, reply(to=request.message_id, sender=STRANGER, headers=headers))
    untouched(app)
    assert consents(app) == []


# --------------------------------------------------------------------------- Reply-To


def test_a_request_sent_to_a_reply_to_binds_no_forged_from(app: App) -> None:
    # A piece sent as the author (From: their real address) with the attacker's Reply-To:
    # the acknowledgment goes to the Reply-To, the copyright request to the author's own
    # address, and a forged answer naming what the attacker received decides nothing.
    raw = reply(
        to=None, subject="投稿：《老街》", body=ARTICLE,
        headers={"Reply-To": "mallory@evil.example"},
    )  # fmt: skip
    ingest(app, raw)
    ack = letter(app, "ack")
    assert ack.to_addr == "mallory@evil.example"
    assert letter(app, "copyright_request").to_addr == "zhangsan@qq.example"
    ingest(app, reply(to=ack.message_id, body="同意", message_id="<a@evil.example>",
                      attachments=[docx_attachment(REVISED)]))  # fmt: skip
    untouched(app)
    assert consents(app) == []
    assert len(query(app, Version)) == 1 and "赵师傅" not in rights(app).article_text
    flagged = rights(app).flagged
    assert "went to mallory@evil.example, not to the contributor's address" in flagged
    assert "kept on the message" in flagged
    # The Reply-To mailbox answering as itself is a stranger.
    ingest(app, reply(to=ack.message_id, sender="mallory@evil.example", message_id="<m@e.x>"))
    untouched(app)
    assert "from mallory@evil.example is not from the contributor" in rights(app).flagged


def test_a_letter_sent_elsewhere_binds_nothing_however_it_is_named(app: App) -> None:
    # An old request row queued to a Reply-To (before requests went to the contributor's own
    # address): neither its id nor its code speaks for the contributor.
    start(app)
    request = letter(app, "copyright_request")
    with app.sessions() as session, session.begin():
        session.get(Outbox, request.id).to_addr = "mallory@evil.example"  # type: ignore[union-attr]
    ingest(app, reply(to=request.message_id, message_id="<1@evil.example>"))
    ingest(app, reply(body=f"同意 {code_of(app, request)}", message_id="<2@evil.example>"))
    untouched(app)
    assert consents(app) == []
    assert rights(app).flagged.count("not to the contributor's address") == 2
    notes = [e.note for e in query(app, Event, Event.action == "reply")]
    assert any("sent to mallory@evil.example, not to the contributor: binds nothing" in n
               for n in notes)  # fmt: skip


# --------------------------------------------------------------------------- our ids


def test_our_id_rewritten_in_case_still_binds_the_contributor(app: App) -> None:
    # Gateways upper-case ids; the contributor's genuine answer still binds (no staff work).
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id.upper()))
    assert rights(app).copyright_status == "granted"


def test_the_code_of_the_acknowledgment_or_a_needs_info_binds_nothing(app: App) -> None:
    start(app)
    ack = letter(app, "ack")
    # Codes are printed only on rights letters; a code computed for another letter of ours
    # (the acknowledgment) must not bind as one.
    ingest(app, reply(body=f"同意 {code_of(app, ack)}"))
    untouched(app)
    assert consents(app) == []


def test_a_code_only_in_a_forwarded_copy_binds_nothing(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    forwarded = (
        "同意\n\n---------- Forwarded message ---------\n"
        "From: 南山新闻网投稿 <tougao@nsnews.example>\nDate: 2026年11月20日周五 09:30\n"
        "Subject: [投稿 #1] 版权授权请求\nTo: <zhangsan@qq.example>\n\n" + render_text(request)
    )
    ingest(app, reply(body=forwarded))
    untouched(app)
    assert consents(app) == []


def test_several_codes_of_two_submissions_bind_only_this_ones_and_wait(app: App) -> None:
    start(app)
    start(app, sender="王五 <wangwu@163.example>", body=ARTICLE[::-1])
    mine = code_of(app, letter(app, "copyright_request"))
    theirs = code_of(app, letter(app, "copyright_request", 2))
    ingest(app, reply(body=f"同意 {theirs} {mine}"))
    untouched(app)
    untouched(app, 2)
    (row,) = consents(app)
    assert row.state == "pending" and row.authenticity == "token_only"


def test_a_strangers_grant_to_our_reminder_is_kept_not_applied(app: App, clock: Clock) -> None:
    start(app)
    clock.advance(days=6)
    app.remind_copyright()
    reminder = letter(app, "copyright_reminder")
    ingest(app, reply(to=reminder.message_id, sender=STRANGER,
                      body=f"同意 {code_of(app, reminder)}"))  # fmt: skip
    sub = rights(app)
    assert sub.copyright_status == "reminded" and consents(app) == []
    assert "is not from the contributor" in sub.flagged


def test_a_reply_to_the_acknowledgment_with_the_request_code_waits(app: App) -> None:
    start(app)
    ack = letter(app, "ack")
    code = code_of(app, letter(app, "copyright_request"))
    ingest(app, reply(to=ack.message_id, body=f"同意 {code}"))
    untouched(app)
    (row,) = consents(app)
    assert (row.state, row.authenticity) == ("pending", "token_only")


def test_a_forged_grant_does_not_hide_an_earlier_flag(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(body=f"同意 {code_of(app, request)}", message_id="<p@qq.example>"))
    assert rights(app).flagged.startswith("consent pending:")
    ingest(app, reply(body="同意授权", message_id="<f@evil.example>"))
    assert "consent pending:" in rights(app).flagged


def test_the_receipt_goes_to_the_contributor_not_a_reply_to(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, headers={"Reply-To": "mallory@evil.example"}))
    assert rights(app).copyright_status == "granted"
    (receipt,) = query(app, Outbox, Outbox.template == "consent_receipt")
    assert receipt.to_addr == "zhangsan@qq.example"


# --------------------------------------------------------------------------- changes of mind


def test_a_refusal_answering_the_receipt_reaches_an_editor(app: App) -> None:
    # The receipt invites a reply ("如对授权有任何疑问，请直接回复本邮件").
    start(app)
    ingest(app, reply(to=letter(app, "copyright_request").message_id, message_id="<1@qq.example>"))
    receipt = letter(app, "consent_receipt")
    ingest(app, reply(to=receipt.message_id, body="不好意思，我不同意了，请不要刊登。",
                      message_id="<2@qq.example>"))  # fmt: skip
    sub = rights(app)
    assert sub.copyright_status == "granted"
    assert "reads as refuse" in sub.flagged and "while copyright is granted" in sub.flagged
    assert "it answers our consent_receipt" in sub.flagged


def test_a_grant_answering_the_refusal_receipt_reaches_an_editor(app: App) -> None:
    start(app)
    request = letter(app, "copyright_request")
    ingest(app, reply(to=request.message_id, body="不同意", message_id="<1@qq.example>"))
    receipt = letter(app, "consent_receipt")
    ingest(app, reply(to=receipt.message_id, body="我改主意了，同意授权。",
                      message_id="<2@qq.example>"))  # fmt: skip
    sub = rights(app)
    assert sub.copyright_status == "refused" and "reads as grant" in sub.flagged


def test_agreeing_again_to_the_receipt_flags_nothing(app: App) -> None:
    start(app)
    ingest(app, reply(to=letter(app, "copyright_request").message_id, message_id="<1@qq.example>"))
    receipt = letter(app, "consent_receipt")
    ingest(app, reply(to=receipt.message_id, body="好的，同意，谢谢！", message_id="<2@q.example>"))
    sub = rights(app)
    assert (sub.copyright_status, sub.flagged) == ("granted", "")


# --------------------------------------------------------------------------- DKIM


def test_a_signature_of_the_bodys_start_aligns_nothing(tmp_path: Path, sqlite_url: str) -> None:
    # The contributor's own signed mail, with l= signing only its start, and an answer and the
    # code appended by someone else: the signature verifies but proves nothing about them.
    key = tmp_path / "dkim.key"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "1024"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip
    app = build(tmp_path, sqlite_url, Clock(T0))
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    app.dkim_resolver = StaticResolver({"s1._domainkey.qq.example": record})
    try:
        start(app)
        raw = reply(body="你好")
        headers = [b"from", b"to", b"subject", b"date", b"message-id"]
        signature = dkimpy.sign(raw, b"s1", b"qq.example", key.read_bytes(),
                                include_headers=headers, length=True)  # fmt: skip
        code = code_of(app, letter(app, "copyright_request"))
        ingest(app, signature + raw + f"同意 {code}\r\n".encode())
        untouched(app)
        (row,) = consents(app)
        assert (row.authenticity, row.state) == ("token_only", "pending")
        assert row.dkim.startswith("partial: l= signs")
    finally:
        app.close()


def test_the_duplicate_notice_sent_to_a_reply_to_binds_nothing(app: App, clock: Clock) -> None:
    # The same piece again, days later, as the author with the sender's Reply-To: the notice
    # about the earlier piece is a letter of submission #1, sent to the Reply-To.
    start(app)
    clock.advance(days=4)  # past the duplicate grace
    again = reply(to=None, subject="投稿：《老街》", body=ARTICLE, message_id="<d@evil.example>",
                  headers={"Reply-To": "mallory@evil.example"})  # fmt: skip
    ingest(app, again)
    notice = letter(app, "duplicate")
    assert notice.to_addr == "mallory@evil.example"
    ingest(app, reply(to=notice.message_id, body="修改稿见附件", message_id="<v@evil.example>",
                      attachments=[docx_attachment(REVISED)]))  # fmt: skip
    assert len(query(app, Version, Version.submission_id == 1)) == 1
    assert "赵师傅" not in rights(app).article_text
    assert "not to the contributor's address" in rights(app).flagged
