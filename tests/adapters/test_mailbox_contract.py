"""The mailbox ports (MailSource for ingest, SentMailbox for the outbox), one suite run against
the in-memory mailbox and the real Dovecot: what the fake promises, the server does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import pytest

from intake.adapters.imap import PROCESSED_KEYWORD, ImapMailbox
from intake.adapters.memory.mailbox import MemoryMailbox
from intake.core.errors import MailboxError, MailboxProtocolError, MailboxUnavailable
from intake.core.ports import MailSource, SentMailbox
from tests.helpers import settings_for, submission
from tests.servers import Dovecot

NAME = "submissions"


class Mailbox(MailSource, SentMailbox, Protocol):
    """Both ports, as one connection offers them."""


class Backend(Protocol):
    """A mailbox server as the suite drives it: mail arriving from outside, and sessions."""

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int: ...
    def session(self) -> contextlib.AbstractContextManager[Mailbox]: ...
    def change_uidvalidity(self, folder: str) -> int: ...


class MemoryBackend:
    def __init__(self) -> None:
        self.box = MemoryMailbox(NAME)

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        return self.box.deliver(raw, folder, flags=flags)

    def session(self) -> contextlib.AbstractContextManager[Mailbox]:
        return self.box.connection()

    def change_uidvalidity(self, folder: str) -> int:
        return self.box.change_uidvalidity(folder)


class DovecotBackend:
    def __init__(self, dovecot: Dovecot, tmp_path: Path) -> None:
        self.dovecot = dovecot
        self.account = dovecot.add_user("contract")
        settings = settings_for(tmp_path, "sqlite://", dovecot, self.account)
        self.config = settings.mailboxes[0]

    def deliver(self, raw: bytes, folder: str = "INBOX", flags: tuple[str, ...] = ()) -> int:
        return self.dovecot.append(*self.account, folder, raw, flags=flags)

    def session(self) -> contextlib.AbstractContextManager[Mailbox]:
        return ImapMailbox(self.config, self.account[1])

    def change_uidvalidity(self, folder: str) -> int:
        return self.dovecot.change_uidvalidity(self.account[0], folder)


@pytest.fixture(params=["memory", "dovecot"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    if request.param == "memory":
        return MemoryBackend()
    return DovecotBackend(request.getfixturevalue("dovecot"), tmp_path)


@pytest.fixture
def box(backend: Backend) -> Iterator[Mailbox]:
    with backend.session() as session:
        yield session


def mail(n: int, **kwargs: str) -> bytes:
    return submission(subject=f"稿件 {n}", message_id=f"<m{n}@qq.example>", **kwargs)


# --------------------------------------------------------------------------- MailSource


def test_select_reports_uidvalidity_and_count(backend: Backend, box: Mailbox) -> None:
    backend.deliver(mail(1))
    backend.deliver(mail(2))
    info = box.select("INBOX")
    assert (info.name, info.exists) == ("INBOX", 2)
    assert info.uidvalidity > 0
    assert box.select("INBOX").uidvalidity == info.uidvalidity  # stable across selects


def test_select_of_a_missing_folder_is_unavailable(box: Mailbox) -> None:
    with pytest.raises(MailboxUnavailable):
        box.select("NoSuchFolder")


def test_uids_ascend_and_include_seen_mail(backend: Backend, box: Mailbox) -> None:
    first = backend.deliver(mail(1), flags=("\\Seen",))
    second = backend.deliver(mail(2))
    box.select("INBOX")
    assert box.uids() == [first, second]
    assert second > first


def test_fetch_is_byte_exact_in_uid_order_and_leaves_seen_alone(
    backend: Backend, box: Mailbox
) -> None:
    raws = [mail(n, body=f"正文 {n}\r\n.leading dot\r\n") for n in range(3)]
    uids = [backend.deliver(raw) for raw in raws]
    info = box.select("INBOX")
    fetched = list(box.fetch(list(reversed(uids))))
    assert [f.raw for f in fetched] == raws
    assert [(f.ref.mailbox, f.ref.folder, f.ref.uidvalidity, f.ref.uid) for f in fetched] == [
        (NAME, "INBOX", info.uidvalidity, uid) for uid in uids
    ]
    assert all(f.internaldate is not None and f.internaldate.tzinfo is not None for f in fetched)
    again = list(box.fetch(uids))
    assert all("\\Seen" not in f.flags for f in again)


def test_fetch_skips_uids_that_are_gone(backend: Backend, box: Mailbox) -> None:
    uid = backend.deliver(mail(1))
    box.select("INBOX")
    assert [f.ref.uid for f in box.fetch([uid, uid + 100])] == [uid]


def test_fetch_needs_a_selected_folder(backend: Backend, box: Mailbox) -> None:
    backend.deliver(mail(1))
    with pytest.raises(MailboxError):
        list(box.fetch([1]))


def test_sizes_and_internaldate(backend: Backend, box: Mailbox) -> None:
    raws = [mail(1), mail(2, body="长" * 5000)]
    uids = [backend.deliver(raw) for raw in raws]
    box.select("INBOX")
    sizes = box.sizes(uids + [uids[-1] + 50])
    assert [(s.uid, s.size) for s in sizes] == [
        (u, len(r)) for u, r in zip(uids, raws, strict=True)
    ]
    for size in sizes:
        assert size.internaldate is not None
        assert abs(size.internaldate - datetime.now(UTC)).days < 2


def test_fetch_header_is_the_header_block(backend: Backend, box: Mailbox) -> None:
    raw = mail(1)
    uid = backend.deliver(raw)
    box.select("INBOX")
    header = box.fetch_header(uid)
    assert raw.startswith(header) and header.endswith(b"\r\n\r\n")
    assert b"Subject:" in header and "正文".encode() not in header
    assert box.fetch_header(uid + 100) == b""


def test_mark_processed_moves_out_of_the_folder(backend: Backend, box: Mailbox) -> None:
    raws = [mail(1), mail(2), mail(3)]
    uids = [backend.deliver(raw) for raw in raws]
    box.select("INBOX")
    assert box.mark_processed(uids[:2], "Processed") in ("move", "copy")
    assert box.uids() == [uids[2]]
    box.select("Processed")
    moved = sorted(f.raw for f in box.fetch(box.uids()))
    assert moved == sorted(raws[:2])
    assert box.mark_processed([], "Processed") == "none"


def test_uids_only_grow(backend: Backend, box: Mailbox) -> None:
    first = backend.deliver(mail(1))
    box.select("INBOX")
    box.mark_processed([first], "Processed")
    second = backend.deliver(mail(2))
    assert second > first


def test_moving_to_a_missing_folder_creates_it(backend: Backend, box: Mailbox) -> None:
    uid = backend.deliver(mail(1))
    box.select("INBOX")
    box.mark_processed([uid], "已处理投稿")
    assert box.uids() == []
    box.select("已处理投稿")
    assert len(box.uids()) == 1


def test_without_a_destination_processed_mail_is_flagged_and_stays(
    backend: Backend, box: Mailbox
) -> None:
    uid = backend.deliver(mail(1))
    box.select("INBOX")
    assert box.mark_processed([uid], "") == "flag"
    assert box.uids() == [uid]
    (fetched,) = box.fetch([uid])
    assert PROCESSED_KEYWORD in fetched.flags


def test_a_new_uidvalidity_keeps_messages_and_uids(backend: Backend, box: Mailbox) -> None:
    uid = backend.deliver(mail(1))
    before = box.select("INBOX").uidvalidity
    box.select("Processed")  # a session must not sit in the folder while it changes
    new = backend.change_uidvalidity("INBOX")
    info = box.select("INBOX")
    assert info.uidvalidity == new > before
    assert box.uids() == [uid]
    (fetched,) = box.fetch([uid])
    assert fetched.ref.uidvalidity == new and fetched.raw == mail(1)


# --------------------------------------------------------------------------- SentMailbox


def test_append_and_find_message_id(box: Mailbox) -> None:
    raw = mail(7)
    box.append("Sent", raw)
    assert box.find_message_id("Sent", "<m7@qq.example>")
    assert box.find_message_id("Sent", "m7@qq.example")  # brackets are optional
    assert not box.find_message_id("Sent", "<m8@qq.example>")
    (copy,) = box.fetch(box.uids())
    assert copy.raw == raw and "\\Seen" in copy.flags


def test_append_to_a_missing_folder_fails_until_it_is_created(box: Mailbox) -> None:
    with pytest.raises(MailboxProtocolError):
        box.append("Archive", mail(1))
    box.ensure_folder("Archive")
    box.ensure_folder("Archive")  # twice is fine
    box.append("Archive", mail(1))
    assert box.find_message_id("Archive", "<m1@qq.example>")


# --------------------------------------------------------------------------- the fake's extras


def test_memory_sessions_share_the_mailbox_not_the_selection() -> None:
    server = MemoryMailbox(NAME)
    server.deliver(mail(1))
    with server.connection() as one, server.connection() as two:
        one.select("INBOX")
        with pytest.raises(MailboxProtocolError, match="no folder selected"):
            list(two.fetch([1]))
        two.select("Processed")
        one.mark_processed([1], "Processed")
        assert two.uids() == [1] and one.uids() == []


def test_memory_mailbox_fails_on_cue_once() -> None:
    box = MemoryMailbox(NAME)
    uid = box.deliver(mail(1))
    box.fail_next("mark_processed", MailboxUnavailable("mailbox submissions: connection lost"))
    box.select("INBOX")
    with pytest.raises(MailboxUnavailable):
        box.mark_processed([uid], "Processed")
    assert box.uids() == [uid]
    assert box.mark_processed([uid], "Processed") == "move"
    assert [name for name, _ in box.calls] == [
        "select", "mark_processed", "uids", "mark_processed",
    ]  # fmt: skip


def test_memory_mailbox_without_move_copies_and_expunges() -> None:
    box = MemoryMailbox(NAME, capabilities={"IMAP4REV1", "UIDPLUS"})
    uid = box.deliver(mail(1))
    box.select("INBOX")
    assert box.mark_processed([uid], "Processed") == "copy"
    assert box.messages("INBOX") == {} and list(box.messages("Processed").values()) == [mail(1)]
    plain = MemoryMailbox(NAME, capabilities={"IMAP4REV1"})
    uid = plain.deliver(mail(1))
    plain.select("INBOX")
    assert plain.mark_processed([uid], "Processed") == "flag"
    assert PROCESSED_KEYWORD in plain.flags("INBOX", uid)


def test_memory_idle_wakes_on_new_mail_and_fails_when_down() -> None:
    box = MemoryMailbox(NAME)
    listener = box.connection()
    listener.select("INBOX")
    assert not listener.idle_wait(0)  # nothing new: returns at the timeout
    box.deliver(mail(2), "Processed")
    assert not listener.idle_wait(0)  # IDLE reports the selected folder only
    box.deliver(mail(1))
    assert listener.idle_wait(60)  # already arrived: returns at once
    box.down = True
    with pytest.raises(MailboxUnavailable):
        listener.idle_wait(60)
