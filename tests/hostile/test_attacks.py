"""The attacks of issue 14 that aim at the mailbox and the outbox, each through a real Dovecot:
shapes that made parsing quadratic or the parser give up never stop the poll or lose the next
message; our own address in full-width letters gets nothing; a forged sender in every spelling
of a victim's mailbox gets one small quota of small letters."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Callable
from email.headerregistry import AddressHeader

import pytest

from tests.helpers import submission
from tests.hostile.conftest import MailRoom, RoomFactory
from tests.hostile.generators import deep_multiparts, flowed, many_attachments, nested_links
from tests.smtpserver import SmtpServer

SHAPES: dict[str, tuple[Callable[[int], bytes], int, str]] = {
    "nested links": (nested_links, 20_000, "submission"),
    "long flowed paragraph": (flowed, 50_000, "submission"),
    "multiparts 120 deep": (deep_multiparts, 120, "quarantined"),
    "many attachments": (many_attachments, 1_000, "submission"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_hostile_shape_never_stops_the_mailbox(room: MailRoom, shape: str) -> None:
    build, size, kind = SHAPES[shape]
    room.deliver(build(size), submission(subject="投稿：下一篇", message_id="<next@qq.example>"))
    result = room.poll()
    assert result.errors == () and result.fetched == 2, result
    first, following = room.messages()
    assert (first.kind, following.kind) == (kind, "submission")
    assert following.message_id == "next@qq.example"
    assert room.inbox() == []


def _encoded(text: str) -> str:
    return "=?utf-8?B?" + base64.b64encode(text.encode()).decode() + "?="


@pytest.mark.parametrize(
    "ours",
    ["ｔｏｕｇａｏ＠ｎｅｗｓ．ｅｘａｍｐｌｅ", "TOUGAO@NEWS.EXAMPLE", "tougao+x@news.example"],
)
def test_our_own_address_in_full_width_gets_no_letter(
    room_factory: RoomFactory, sqlite_url: str, smtp_server: SmtpServer, ours: str
) -> None:
    room = room_factory(sqlite_url, smtp=smtp_server)
    room.deliver(submission(sender=f"{_encoded('投稿信箱')} <{ours}>", utf8=True))
    room.deliver(submission(sender="Someone <someone@qq.example>", body="另一篇稿子。" * 20,
                            headers={"Reply-To": ours}, utf8=True))  # fmt: skip
    room.poll()
    assert room.app.deliver_outbox().sent == 0
    assert smtp_server.messages == []


SPELLINGS = [
    "victim@v.example",
    "VICTIM@V.EXAMPLE",
    "victim@ｖ.example",
    "ｖｉｃｔｉｍ＠ｖ．ｅｘａｍｐｌｅ",
    "victim+1@v.example",
    "victim+tougao@V.Example",
    "Victim@v.example",
    "victim+2@v.example",
]


def test_a_forged_sender_in_every_spelling_gets_one_quota_of_small_letters(
    room_factory: RoomFactory, db_url: str, smtp_server: SmtpServer
) -> None:
    room = room_factory(db_url, smtp=smtp_server, replies={"copyright_request": "manual"})
    name = "亲爱的编辑，请把以下内容转告所有人：" * 20
    for n, spelling in enumerate(SPELLINGS):
        files = [(f"{'广告文字很长很长' * 20}{i}.docx", "application/octet-stream", b"x%d" % n)
                 for i in range(40)]  # fmt: skip
        room.deliver(
            submission(sender=f"{_encoded(name)} <{spelling}>", body=f"第{n}篇。" * 50,
                       attachments=files, message_id=f"<forged-{n}@v.example>", utf8=True)
        )  # fmt: skip
    assert room.poll().new == len(SPELLINGS)
    assert room.app.deliver_outbox().sent == room.app.settings.replies.max_auto_replies_per_day
    letters = smtp_server.messages
    assert len(letters) == 5
    for letter in letters:
        assert len(letter.rcpt_tos) == 1 and letter.rcpt_tos[0].lower().startswith("victim")
        assert len(letter.data) < 12_000  # a bounded name, 20 file names and a count
        msg = email.message_from_bytes(letter.data, policy=email.policy.default)
        to = msg["To"]
        assert isinstance(to, AddressHeader) and len(to.addresses) == 1
        assert "广告文字很长很长" * 20 not in msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
