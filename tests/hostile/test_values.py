"""Values a database can hold: NUL bytes and lone surrogates from hostile mail, in every field,
never fail an insert on PostgreSQL (which refuses both in text), and never fail the quarantine
row of a message that could not be recorded for another reason."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from intake.adapters.memory.mailbox import MemoryMailbox
from intake.app import default_hooks
from intake.core.events import Ingested
from intake.store.models import Attachment, Message, Submission
from tests.helpers import submission
from tests.hostile.conftest import MailRoom, RoomFactory, eml
from tests.servers import Postgres

NEXT = submission(subject="投稿：下一篇", message_id="<next@qq.example>")


def test_nul_in_subject_name_filename_and_body_is_recorded_on_postgres(pg_room: MailRoom) -> None:
    pg_room.deliver(eml("nul_encoded.eml"), NEXT)
    result = pg_room.poll()
    assert (result.new, result.quarantined) == (2, 0), result
    first, second = pg_room.messages()
    assert (first.kind, second.kind) == ("submission", "submission")
    assert first.subject == "投稿：春\ufffd天的故事"
    assert "\x00" not in first.sender_name and "San" in first.sender_name
    assert "一个\ufffd字节" in first.body_text
    names = [a.filename for a in pg_room.attachments()]
    assert names == ["稿\ufffd件.txt", "图\ufffd.bin"]
    assert pg_room.inbox() == []  # both moved: recorded, nothing left blocking the mailbox


def test_lone_surrogates_from_a_broken_charset_are_recorded_on_postgres(
    pg_room: MailRoom,
) -> None:
    pg_room.deliver(eml("utf7_surrogates.eml"), NEXT)
    result = pg_room.poll()
    assert (result.new, result.quarantined) == (2, 0), result
    first = pg_room.messages()[0]
    assert first.subject.startswith("\ufffd") and "投稿：夏天" in first.subject
    assert "\ufffd here is my piece" in first.body_text
    with pg_room.app.sessions() as session:
        (name,) = session.scalars(select(Submission.sender_name).order_by(Submission.id).limit(1))
    assert "\ud800" not in name and name.endswith("Li Si")


def _raw_nul() -> bytes:
    """NUL bytes where an IMAP server that passes them (Dovecot turns them into 0x80) would
    hand them over: in the Message-ID, the From name and the subject, raw."""
    return (
        b"From: Zhang\x00San <zhangsan@qq.example>\r\n"
        b"To: tougao@news.example\r\n"
        b"Subject: \xe6\x8a\x95\xe7\xa8\xbf\x00\r\n"
        b"Message-ID: <nul\x00id@qq.example>\r\n"
        b"Date: Fri, 20 Nov 2026 09:30:00 +0800\r\n"
        b"\r\n" + "编辑老师您好：这是我的稿件正文。春天来了，万物复苏。\x00".encode() * 5 + b"\r\n"
    )


def test_a_raw_nul_message_id_neither_stops_nor_loses_mail_on_postgres(
    pg_room: MailRoom,
) -> None:
    box = MemoryMailbox()
    box.deliver(_raw_nul())
    box.deliver(NEXT)
    config = pg_room.app.settings.mailboxes[0]
    result = pg_room.app.ingestor.poll(box, config)
    assert (result.new, result.quarantined) == (2, 0), result
    first, _ = pg_room.messages()
    assert first.message_id == "nul\ufffdid@qq.example"
    assert box.messages("INBOX") == {}
    # The same Message-ID again is known by its cleaned form: a redelivery, not a new piece.
    box.deliver(_raw_nul().replace(b"Date: Fri", b"Received: by mx\r\nDate: Fri"))
    assert pg_room.app.ingestor.poll(box, config).new == 0


def test_the_quarantine_row_survives_the_values_that_failed_recording(
    room_factory: RoomFactory, postgres: Postgres
) -> None:
    failures: list[str] = []

    def broken_hook(session: Session, item: Ingested) -> None:
        failures.append(item.parsed.message_id)
        raise RuntimeError(f"hook failed on {item.parsed.subject}\x00\ud800")

    room = room_factory(postgres.new_database())
    room.app._hooks = [*default_hooks(room.app), broken_hook]
    box = MemoryMailbox()
    box.deliver(_raw_nul())
    box.deliver(eml("utf7_surrogates.eml"))
    result = room.app.ingestor.poll(box, room.app.settings.mailboxes[0])
    assert (result.quarantined, len(failures)) == (2, 2), result
    first, second = room.messages()
    assert (first.kind, second.kind) == ("quarantined", "quarantined")
    assert first.message_id == "nul\ufffdid@qq.example"
    assert "hook failed on 投稿\ufffd\ufffd\ufffd" in first.reason
    assert first.raw_path and second.raw_path  # the bytes are kept for `intake reprocess`
    assert box.messages("INBOX") == {}
    with room.app.sessions() as session:
        assert session.scalars(select(Attachment)).all() == []
        assert session.scalars(select(Message.size)).all() == [len(_raw_nul()), second.size]
