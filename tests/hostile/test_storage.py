"""Bounded storage per message, through Dovecot: a message nested in messages is kept once,
the decoded bytes of one message's attachments are capped (the raw message kept whole), and
reading its attachments has a budget of count and time past which the rest are listed."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from intake.store.models import Outbox
from tests.hostile.conftest import MailRoom, RoomFactory
from tests.hostile.generators import HEAD, many_attachments, nested_messages
from tests.smtpserver import SmtpServer


@pytest.mark.parametrize("as_files", [False, True], ids=["message-rfc822", "eml-files"])
def test_a_message_nested_deep_is_stored_once(
    room_factory: RoomFactory, sqlite_url: str, as_files: bool
) -> None:
    room = room_factory(sqlite_url)
    raw = nested_messages(24, 58_000, as_files=as_files)  # 1.4 MB, 24 levels of messages
    assert 1_350_000 < len(raw) < 1_450_000
    room.deliver(raw)
    assert room.poll().new == 1
    attachments = room.attachments()
    assert attachments[0].filename.endswith(".eml") or attachments[0].safe_name.endswith(".eml")
    assert sum(a.size for a in attachments) < 1.1 * len(raw)
    assert room.stored_bytes() < 2.2 * len(raw)  # the raw message and its outermost .eml


def test_fifty_levels_of_message_rfc822_are_stored_once(room: MailRoom) -> None:
    inner = b"Subject: bottom\r\nContent-Type: text/plain\r\n\r\n" + b"x" * 1_400_000 + b"\r\n"
    for level in range(50):
        inner = (
            b"Subject: %d\r\nMIME-Version: 1.0\r\nContent-Type: message/rfc822\r\n\r\n" % (level)
            + inner
        )
    raw = HEAD + b"Message-ID: <fifty@qq.example>\r\n" + inner.split(b"\r\n", 1)[1]
    room.deliver(raw)
    assert room.poll().new == 1
    assert room.stored_bytes() < 2.1 * len(raw)  # 70 MB before


def test_decoded_bytes_past_the_cap_are_omitted_and_the_raw_message_kept(
    room_factory: RoomFactory, db_url: str
) -> None:
    room = room_factory(db_url, ingest={"max_decoded_bytes": 10_000})
    raw = many_attachments(60, size=300)  # 60 x 304 decoded bytes
    room.deliver(raw)
    assert room.poll().new == 1
    rows = room.attachments()
    assert len(rows) == 60  # every one listed
    stored = [a for a in rows if a.blob_path]
    omitted = [a for a in rows if not a.blob_path]
    assert sum(a.size for a in stored) <= 10_000 < sum(a.size for a in stored) + rows[0].size
    assert rows[: len(stored)] == stored  # in order: the first ones fit
    assert omitted and all(
        a.extract_error.startswith("omitted:") and "max_decoded_bytes" in a.extract_error
        for a in omitted
    )
    (message,) = room.messages()
    assert room.app.blobs.get(message.raw_path) == raw  # whole, byte for byte
    number = rows.index(omitted[0]) + 1
    result = room.cli("attachment", str(message.submission_id), str(number), "--save", "x.bin")
    assert result.exit_code == 1 and "was not stored" in result.stderr


def test_3000_attachments_are_listed_a_budget_of_them_read_and_a_small_letter_sent(
    room_factory: RoomFactory, db_url: str, smtp_server: SmtpServer
) -> None:
    room = room_factory(db_url, smtp=smtp_server)
    raw = many_attachments(3000, size=40)
    room.deliver(raw)
    assert room.poll().new == 1
    rows = room.attachments()
    assert len(rows) == 3000
    read = [a for a in rows if not a.extract_error.startswith("not read")]
    assert len(read) == room.app.settings.extract.max_attachments_read == 100
    assert rows[100].extract_error == "not read: the message's budget (100 attachments) is spent"
    with room.app.sessions() as session:
        (letter,) = session.scalars(select(Outbox.raw).where(Outbox.template == "ack"))
    assert len(letter) < 8_000  # 192 KB before


def test_reading_stops_when_the_message_s_time_is_spent(
    room_factory: RoomFactory, sqlite_url: str
) -> None:
    room = room_factory(sqlite_url, extract={"message_timeout_seconds": 100.0})
    ticks = itertools.count(step=30.0)  # each look at the clock: 30 seconds later
    room.app.ingestor.recorder.monotonic = lambda: next(ticks)
    room.deliver(many_attachments(10, size=40))
    assert room.poll().new == 1
    errors = [a.extract_error for a in room.attachments()]
    assert errors[:3] == ["", "", ""]
    assert errors[3:] == ["not read: the message's budget (100 seconds) is spent"] * 7
