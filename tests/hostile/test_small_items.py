"""The smaller holes of issue 14, each through a real Dovecot: an oversize message whose
header cannot be recorded, a contributor whose address is not ASCII, and a display name
written to fold into a header of several addresses."""

from __future__ import annotations

import email
import email.policy
from email.headerregistry import AddressHeader

import pytest
from sqlalchemy.orm import Session

from intake.app import default_hooks
from intake.core.events import Ingested
from intake.core.mail import Kind
from tests.helpers import submission
from tests.hostile.conftest import MailRoom, RoomFactory
from tests.smtpserver import SmtpServer


def test_an_oversize_message_whose_header_fails_is_kept_and_left_on_the_server(
    room_factory: RoomFactory, db_url: str
) -> None:
    room = room_factory(db_url, ingest={"max_message_bytes": 1024})

    def fails_on_oversize(session: Session, item: Ingested) -> None:
        if item.verdict.kind is Kind.OVERSIZE:
            raise RuntimeError("the header cannot be recorded")

    room.app._hooks = [*default_hooks(room.app), fails_on_oversize]
    big = submission(subject="投稿：长篇", body="很长的正文。" * 400)
    big_uid, _ = room.deliver(big, submission(subject="投稿：短篇"))
    first = room.poll()
    assert (first.quarantined, first.new) == (1, 1), first
    room.poll()  # a second pass must not move it either: the server holds its only copy
    assert room.inbox() == [big_uid]
    held = room.messages()[0]
    assert (held.kind, held.rule, held.size) == ("quarantined", "oversize", len(big))
    assert "header not recorded: RuntimeError" in held.reason
    header = room.app.blobs.get(held.raw_path)  # what we have of it is stored
    assert big.startswith(header) and b"\r\n\r\n" not in header.rstrip(b"\r\n")

    # Reprocessing records it from that header, as oversize, and it still stays.
    room.app._hooks.pop()
    assert room.ok("reprocess", str(held.id))
    assert (room.messages()[0].kind, room.messages()[0].size) == ("oversize", len(big))
    room.poll()
    assert room.inbox() == [big_uid]


def test_a_non_ascii_contributor_is_recorded_and_shown(room: MailRoom) -> None:
    room.deliver(submission(sender="张三 <张三@qq.example>", utf8=True))
    result = room.poll()
    assert (result.new, result.quarantined) == (1, 0), result
    (row,) = room.json("list")
    assert row["sender"] == "张三@qq.example"
    assert "张三@qq.example" in room.ok("show", str(row["id"]))
    assert room.inbox() == []


@pytest.mark.parametrize(
    "name",
    [
        '"Victim, <evil@attacker.example>, Another" ',
        "=?utf-8?B?" + "5byg5LiJLCBldmlsQGF0dGFja2VyLmV4YW1wbGUs" * 12 + "?= ",
        '"' + "很长的名字，" * 60 + '" ',
    ],
    ids=["delimiters", "encoded-commas", "long"],
)
def test_a_long_display_name_never_folds_into_several_recipients(
    room_factory: RoomFactory, sqlite_url: str, smtp_server: SmtpServer, name: str
) -> None:
    room = room_factory(sqlite_url, smtp=smtp_server, replies={"copyright_request": "manual"})
    room.deliver(submission(sender=f"{name}<zhangsan@qq.example>"))
    assert room.poll().new == 1
    assert room.app.deliver_outbox().sent == 1
    (sent,) = smtp_server.wait_for(1)
    assert sent.rcpt_tos == ("zhangsan@qq.example",)
    msg = email.message_from_bytes(sent.data, policy=email.policy.default)
    to = msg["To"]
    assert isinstance(to, AddressHeader)
    assert [a.addr_spec for a in to.addresses] == ["zhangsan@qq.example"]
    # (the stdlib puts a space between the encoded words it joins back: not ours to count)
    assert len(to.addresses[0].display_name.replace(" ", "")) <= 40
