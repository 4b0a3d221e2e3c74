"""An IMAP mailbox in memory: the fake :class:`~intake.core.ports.MailSource` and
:class:`~intake.core.ports.SentMailbox` beside :class:`intake.adapters.imap.ImapMailbox`, with
folders, UIDVALIDITY, UIDs that only grow, MOVE, APPEND and IDLE, failing on cue."""

from __future__ import annotations

import itertools
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Self

from intake.core.clock import utcnow
from intake.core.errors import (
    MailboxProtocolError,
    MailboxUnavailable,
)
from intake.core.mail import FolderInfo, MessageRef, MessageSize, RawMail
from intake.core.ports import Clock, MailSource, SentMailbox

#: Keyword set on processed mail when the server can neither MOVE nor UID EXPUNGE (as IMAP's).
PROCESSED_KEYWORD = "$IntakeProcessed"
#: What a default MemoryMailbox advertises, like the Dovecot the tests run.
CAPABILITIES = frozenset({"IMAP4REV1", "IDLE", "MOVE", "UIDPLUS", "SPECIAL-USE"})
_HEADER_END = re.compile(rb"\r?\n\r?\n")


# =========================================================================== mailbox


@dataclass
class _Stored:
    raw: bytes
    flags: set[str]
    internaldate: datetime


@dataclass
class _Folder:
    uidvalidity: int
    uidnext: int = 1
    messages: dict[int, _Stored] = field(default_factory=dict)
    changes: int = 0  # arrivals and removals, which IDLE in this folder reports


class _Server:
    """What every session of one MemoryMailbox shares: folders, cues, calls, a change signal."""

    def __init__(self, folders: Iterable[str], capabilities: Iterable[str], clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.Condition(threading.RLock())
        self.uidvalidities = itertools.count(1_000_001)
        self.folders: dict[str, _Folder] = {}
        self.capabilities = frozenset(c.upper() for c in capabilities)
        self.pending: dict[str, deque[Callable[[], None]]] = {}  # operation -> actions
        self.calls: list[tuple[str, tuple[object, ...]]] = []
        self.down = False
        for name in folders:
            self.create(name)

    def create(self, name: str) -> _Folder:
        with self.lock:
            folder = self.folders.get(name)
            if folder is None:
                folder = self.folders[name] = _Folder(next(self.uidvalidities))
            return folder

    def store(
        self, name: str, raw: bytes, flags: Iterable[str], internaldate: datetime | None
    ) -> int:
        with self.lock:
            folder = self.folders.get(name)
            if folder is None:
                raise MailboxProtocolError(f"[TRYCREATE] mailbox {name} does not exist")
            uid = folder.uidnext
            folder.uidnext += 1
            when = internaldate or self.clock().replace(microsecond=0)  # whole seconds, as IMAP
            folder.messages[uid] = _Stored(bytes(raw), set(flags), when)
            self.changed(folder)
            return uid

    def changed(self, folder: _Folder) -> None:
        folder.changes += 1
        self.lock.notify_all()


class MemoryMailbox(MailSource, SentMailbox):
    """An IMAP mailbox in memory, with the semantics intake relies on.

    Folders hold messages by UID under a UIDVALIDITY; UIDs only grow; ``fetch`` leaves
    ``\\Seen`` alone; MOVE gives each message a new UID in the destination; a folder that does
    not exist refuses APPEND and MOVE; INTERNALDATE is ``clock()`` at arrival unless given.
    :meth:`connection` opens a second session on the same
    mailbox (its own selected folder), as a daemon's IDLE listener and poller do.

    Test controls: :meth:`deliver` (mail arriving), :meth:`change_uidvalidity`,
    :meth:`expunge`, :meth:`fail_next` (the next call to an operation raises), ``down``
    (connecting fails), and ``calls``, the operations in the order they were made.
    """

    def __init__(
        self,
        name: str = "submissions",
        folders: Iterable[str] = ("INBOX", "Processed", "Sent"),
        *,
        capabilities: Iterable[str] = CAPABILITIES,
        clock: Clock = utcnow,
        _server: _Server | None = None,
    ) -> None:
        self.name = name
        self._server = _server or _Server(folders, capabilities, clock)
        self._selected: FolderInfo | None = None
        self._seen_changes = 0

    # ------------------------------------------------------------------ sessions

    def connection(self) -> MemoryMailbox:
        """Another session on the same mailbox (shares folders, cues and calls, not the
        selected folder)."""
        return MemoryMailbox(self.name, _server=self._server)

    def __enter__(self) -> Self:
        self._call("connect")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._selected = None

    @property
    def down(self) -> bool:
        """While True, connecting and every command fail as with a server that is gone."""
        return self._server.down

    @down.setter
    def down(self, value: bool) -> None:
        with self._server.lock:
            self._server.down = value
            self._server.lock.notify_all()

    def has(self, capability: str) -> bool:
        return capability.upper() in self._server.capabilities

    # ------------------------------------------------------------------ MailSource

    def select(self, folder: str) -> FolderInfo:
        self._call("select", folder)
        with self._server.lock:
            found = self._server.folders.get(folder)
            if found is None:
                raise MailboxUnavailable(f"mailbox {self.name}: folder {folder} does not exist")
            self._selected = FolderInfo(folder, found.uidvalidity, len(found.messages))
            self._seen_changes = found.changes
            return self._selected

    def uids(self, criteria: Sequence[str] = ("ALL",)) -> list[int]:
        """UIDs matching ``ALL`` or ``HEADER name text`` (the searches intake makes)."""
        self._call("uids", tuple(criteria))
        with self._server.lock:
            messages = self._folder().messages
            if list(criteria) == ["ALL"]:
                return sorted(messages)
            if len(criteria) == 3 and criteria[0].upper() == "HEADER":
                name, text = criteria[1], criteria[2]
                return sorted(
                    uid for uid, m in messages.items() if _header_contains(m.raw, name, text)
                )
        raise MailboxProtocolError(f"mailbox {self.name}: unsupported search {list(criteria)}")

    def sizes(self, uids: Sequence[int]) -> list[MessageSize]:
        self._call("sizes", tuple(uids))
        with self._server.lock:
            messages = self._folder().messages
            return [
                MessageSize(uid, len(messages[uid].raw), messages[uid].internaldate)
                for uid in sorted(set(uids))
                if uid in messages
            ]

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMail]:
        self._call("fetch", tuple(uids))
        with self._server.lock:
            selected = self._require_selected()
            messages = self._folder().messages
            found = [
                RawMail(
                    MessageRef(self.name, selected.name, selected.uidvalidity, uid),
                    messages[uid].raw,
                    messages[uid].internaldate,
                    tuple(sorted(messages[uid].flags)),
                )
                for uid in sorted(set(uids))
                if uid in messages
            ]
        return iter(found)

    def fetch_header(self, uid: int) -> bytes:
        self._call("fetch_header", uid)
        with self._server.lock:
            stored = self._folder().messages.get(uid)
        if stored is None:
            return b""
        end = _HEADER_END.search(stored.raw)
        return stored.raw if end is None else stored.raw[: end.end()]

    def mark_processed(self, uids: Sequence[int], dest: str) -> str:
        if not uids:
            return "none"
        self._call("mark_processed", tuple(uids), dest)
        caps = self._server.capabilities
        with self._server.lock:
            source = self._folder()
            if dest and ("MOVE" in caps or "UIDPLUS" in caps):
                # A server answers [TRYCREATE]; the IMAP adapter then creates the folder and
                # moves again (a missing processed folder must never strand the inbox).
                self._server.create(dest)
                for uid in sorted(set(uids)):
                    stored = source.messages.pop(uid, None)
                    if stored is not None:
                        self._server.store(dest, stored.raw, stored.flags, stored.internaldate)
                self._server.changed(source)
                return "move" if "MOVE" in caps else "copy"
            for uid in uids:
                if uid in source.messages:
                    source.messages[uid].flags.add(PROCESSED_KEYWORD)
            return "flag"

    # ------------------------------------------------------------------ SentMailbox

    def ensure_folder(self, folder: str) -> None:
        self._call("ensure_folder", folder)
        if folder:
            self._server.create(folder)

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ("\\Seen",)) -> None:
        self._call("append", folder)
        self._server.store(folder, raw, flags, None)

    def find_message_id(self, folder: str, message_id: str) -> bool:
        self.select(folder)
        return bool(self.uids(["HEADER", "Message-ID", message_id]))

    # ------------------------------------------------------------------ IDLE

    def idle_wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for mail arriving in or leaving the selected folder;
        True if some did."""
        self._call("idle_wait")
        server = self._server
        with server.lock:
            folder = self._folder()
            changed = server.lock.wait_for(
                lambda: folder.changes != self._seen_changes or server.down, timeout
            )
            self._seen_changes = folder.changes
            if server.down:
                raise MailboxUnavailable(f"mailbox {self.name}: IDLE failed: connection lost")
            return bool(changed)

    # ------------------------------------------------------------------ test controls

    def deliver(
        self,
        raw: bytes,
        folder: str = "INBOX",
        *,
        flags: Iterable[str] = (),
        internaldate: datetime | None = None,
    ) -> int:
        """Mail arriving in ``folder`` (as another client's APPEND); returns its UID."""
        return self._server.store(folder, raw, flags, internaldate)

    def messages(self, folder: str = "INBOX") -> dict[int, bytes]:
        """UID -> exact bytes of what ``folder`` holds now."""
        with self._server.lock:
            return {uid: m.raw for uid, m in self._server.folders[folder].messages.items()}

    def flags(self, folder: str, uid: int) -> frozenset[str]:
        with self._server.lock:
            return frozenset(self._server.folders[folder].messages[uid].flags)

    def change_uidvalidity(self, folder: str = "INBOX") -> int:
        """A new, larger UIDVALIDITY for ``folder``; its messages and UIDs stay (doveadm's
        ``mailbox update --uid-validity``)."""
        with self._server.lock:
            found = self._server.folders[folder]
            found.uidvalidity = next(self._server.uidvalidities)
            return found.uidvalidity

    def expunge(self, folder: str, uid: int) -> None:
        """Someone else deleted a message."""
        with self._server.lock:
            found = self._server.folders[folder]
            del found.messages[uid]
            self._server.changed(found)

    def fail_next(self, operation: str, error: BaseException, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` ("mark_processed", "fetch", "select",
        "connect", ...) on any session raise ``error`` instead of doing anything."""

        def fail() -> None:
            raise error

        self.on_next(operation, fail, times)

    def on_next(self, operation: str, action: Callable[[], None], times: int = 1) -> None:
        """Run ``action`` just before the next ``times`` calls of ``operation`` (another client
        expunging a message between SEARCH and FETCH, a test noting the moment)."""
        with self._server.lock:
            self._server.pending.setdefault(operation, deque()).extend([action] * times)

    @property
    def calls(self) -> list[tuple[str, tuple[object, ...]]]:
        """Every operation any session made, in order, with its arguments."""
        with self._server.lock:
            return list(self._server.calls)

    # ------------------------------------------------------------------ helpers

    def _call(self, operation: str, *args: object) -> None:
        with self._server.lock:
            self._server.calls.append((operation, args))
            if self._server.down:
                raise MailboxUnavailable(f"mailbox {self.name}: cannot connect: refused")
            pending = self._server.pending.get(operation)
            action = pending.popleft() if pending else None
        if action is not None:
            action()

    def _require_selected(self) -> FolderInfo:
        if self._selected is None:
            raise MailboxProtocolError(f"mailbox {self.name}: no folder selected")
        return self._selected

    def _folder(self) -> _Folder:
        selected = self._require_selected()
        folder = self._server.folders.get(selected.name)
        if folder is None or folder.uidvalidity != selected.uidvalidity:
            # Dovecot disconnects a session whose folder changed UIDVALIDITY under it.
            raise MailboxUnavailable(
                f"mailbox {self.name}: connection lost: IMAP session state is inconsistent"
            )
        return folder


def _header_contains(raw: bytes, name: str, text: str) -> bool:
    end = _HEADER_END.search(raw)
    head = (raw if end is None else raw[: end.start()]).decode("utf-8", "replace")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", head)
    prefix = name.lower() + ":"
    return any(
        line.lower().startswith(prefix) and text.lower() in line[len(prefix) :].lower()
        for line in unfolded.splitlines()
    )
