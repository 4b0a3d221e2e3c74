"""IMAP adapter: fetch new mail by UID, move or flag processed mail, append, IDLE.

The only importer of imapclient. Library and socket errors are translated into
:class:`~intake.core.errors.MailboxUnavailable` (cannot connect, log in or select: retry later) and
:class:`~intake.core.errors.MailboxProtocolError` (the server said no to a command).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from intake.core.config import MailboxConfig
from intake.core.errors import MailboxProtocolError, MailboxUnavailable
from intake.core.mail import FolderInfo, MessageRef, MessageSize, RawMail
from intake.core.ports import MailSource, SentMailbox

log = logging.getLogger(__name__)

#: Keyword set on processed mail when the server can neither MOVE nor UID EXPUNGE.
PROCESSED_KEYWORD = "$IntakeProcessed"

T = TypeVar("T")


class ImapMailbox(MailSource, SentMailbox):
    """One logged-in connection to one configured mailbox: the mail source ingest reads and the
    Sent folder the outbox files copies in.

    Use as a context manager: connects and logs in on enter, logs out on exit.
    """

    def __init__(self, config: MailboxConfig, password: str) -> None:
        self.config = config
        self._password = password
        self._client: IMAPClient | None = None
        self._folder: FolderInfo | None = None
        self._idling = False

    # ------------------------------------------------------------------ connection

    def __enter__(self) -> ImapMailbox:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            context = ssl.create_default_context(cafile=cfg.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            # The file was there when the configuration was checked; it may be gone now.
            raise MailboxUnavailable(
                f"mailbox {cfg.name}: cannot use ca_file {cfg.ca_file}: {exc}"
            ) from None
        client: IMAPClient | None = None
        try:
            client = IMAPClient(
                cfg.host,
                port=cfg.port,
                ssl=cfg.security == "tls",
                ssl_context=context if cfg.security == "tls" else None,
                timeout=cfg.timeout,
            )
            # imapclient turns imaplib's debug level up, which makes imaplib format every
            # response (message bodies included) even with logging off: 5-6x slower FETCH.
            client._imap.debug = 0
            if cfg.security == "starttls":
                client.starttls(context)
            client.login(cfg.username, self._password)
        except Exception as exc:
            if client is not None:
                _shutdown(client)
            if isinstance(exc, LoginError):
                raise MailboxUnavailable(
                    f"mailbox {cfg.name}: login failed for {cfg.username} at {where}: {_text(exc)}"
                ) from None
            if isinstance(exc, ssl.SSLError):
                raise MailboxUnavailable(
                    f"mailbox {cfg.name}: TLS failed with {where}: {exc}"
                ) from None
            if isinstance(exc, OSError | IMAPClientError | imaplib.IMAP4.error):
                raise MailboxUnavailable(
                    f"mailbox {cfg.name}: cannot connect to {where}: {_describe(exc)}"
                ) from None
            raise
        self._client = client

    def close(self) -> None:
        client, self._client = self._client, None
        self._folder = None
        if client is None:
            return
        try:
            if self._idling:
                self._idling = False
                client.idle_done()
            client.logout()
        except Exception:  # noqa: BLE001 - logging out of a broken connection may fail any way
            _shutdown(client)

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise MailboxUnavailable(f"mailbox {self.config.name}: not connected")
        return self._client

    def capabilities(self) -> frozenset[str]:
        caps = self._call(lambda c: c.capabilities())
        return frozenset(_text(c).upper() for c in caps)

    def has(self, capability: str) -> bool:
        return capability.upper() in self.capabilities()

    # ------------------------------------------------------------------ reading

    def select(self, folder: str) -> FolderInfo:
        def do(c: IMAPClient) -> dict[bytes, Any]:
            result: dict[bytes, Any] = c.select_folder(folder)
            return result

        info = self._call(do, unavailable=True)
        self._folder = FolderInfo(
            name=folder, uidvalidity=int(info[b"UIDVALIDITY"]), exists=int(info[b"EXISTS"])
        )
        return self._folder

    def uids(self, criteria: Sequence[str] = ("ALL",)) -> list[int]:
        """All UIDs in the selected folder. Never relies on \\Seen."""
        return sorted(int(u) for u in self._call(lambda c: c.search(list(criteria))))

    def sizes(self, uids: Sequence[int]) -> list[MessageSize]:
        result: list[MessageSize] = []
        for chunk in _chunks(uids, 500):
            data = self._call(partial(_fetch, uids=chunk, items=["RFC822.SIZE", "INTERNALDATE"]))
            for uid, item in data.items():
                result.append(
                    MessageSize(
                        int(uid), int(item[b"RFC822.SIZE"]), _aware(item.get(b"INTERNALDATE"))
                    )
                )
        return sorted(result, key=lambda s: s.uid)

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMail]:
        """The exact bytes of each message (BODY.PEEK[] leaves \\Seen alone), in UID order."""
        folder = self._selected()
        data = self._call(lambda c: c.fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE", "FLAGS"]))
        for uid in sorted(data):
            item = data.pop(uid)
            raw = item.get(b"BODY[]")
            if raw is None:  # the message was expunged by someone else meanwhile
                continue
            yield RawMail(
                ref=MessageRef(self.config.name, folder.name, folder.uidvalidity, int(uid)),
                raw=bytes(raw),
                internaldate=_aware(item.get(b"INTERNALDATE")),
                flags=tuple(_text(f) for f in item.get(b"FLAGS", ())),
            )

    def fetch_header(self, uid: int) -> bytes:
        data = self._call(lambda c: c.fetch([uid], ["BODY.PEEK[HEADER]"]))
        item = data.get(uid, {})
        return bytes(item.get(b"BODY[HEADER]", b""))

    def find_message_id(self, folder: str, message_id: str) -> bool:
        """Whether ``folder`` holds a message with this Message-ID (used before a resend)."""
        self.select(folder)
        found = self._call(lambda c: c.search(["HEADER", "Message-ID", message_id]))
        return bool(found)

    # ------------------------------------------------------------------ writing

    def mark_processed(self, uids: Sequence[int], dest: str) -> str:
        """Move ``uids`` out of the selected folder; returns how (move, copy, flag)."""
        if not uids:
            return "none"
        caps = self.capabilities()
        if dest and "MOVE" in caps:
            self._call(lambda c: c.move(list(uids), dest))
            return "move"
        if dest and "UIDPLUS" in caps:
            self._call(lambda c: c.copy(list(uids), dest))
            self._call(lambda c: c.add_flags(list(uids), [b"\\Deleted"], silent=True))
            self._call(lambda c: c.uid_expunge(list(uids)))
            return "copy"
        self._call(lambda c: c.add_flags(list(uids), [PROCESSED_KEYWORD], silent=True))
        return "flag"

    def ensure_folder(self, folder: str) -> None:
        if folder and not self._call(lambda c: c.folder_exists(folder)):
            self._call(lambda c: c.create_folder(folder))

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ("\\Seen",)) -> None:
        self._call(lambda c: c.append(folder, raw, flags=list(flags)))

    # ------------------------------------------------------------------ IDLE

    def idle_wait(self, timeout: float) -> bool:
        """Wait in IDLE up to ``timeout`` seconds; True when the server reported a change."""
        client = self.client
        try:
            client.idle()
            self._idling = True
            responses = list(client.idle_check(timeout=timeout))
            self._idling = False
            # A change the server reports while we end IDLE comes back with DONE's answer.
            _text_part, done_responses = client.idle_done()
            responses.extend(done_responses)
        except (OSError, IMAPClientError, imaplib.IMAP4.error) as exc:
            self._idling = False
            raise MailboxUnavailable(
                f"mailbox {self.config.name}: IDLE failed: {_describe(exc)}"
            ) from None
        return any(_is_change(r) for r in responses)

    def noop(self) -> None:
        self._call(lambda c: c.noop(), unavailable=True)

    # ------------------------------------------------------------------ helpers

    def _selected(self) -> FolderInfo:
        if self._folder is None:
            raise MailboxProtocolError(f"mailbox {self.config.name}: no folder selected")
        return self._folder

    def _call(self, fn: Callable[[IMAPClient], T], unavailable: bool = False) -> T:
        client = self.client
        try:
            return fn(client)
        except (TimeoutError, OSError, imaplib.IMAP4.abort) as exc:
            raise MailboxUnavailable(
                f"mailbox {self.config.name}: connection lost: {_describe(exc)}"
            ) from None
        except (IMAPClientError, imaplib.IMAP4.error) as exc:
            cls = MailboxUnavailable if unavailable else MailboxProtocolError
            raise cls(f"mailbox {self.config.name}: {_describe(exc)}") from None


def check_login(config: MailboxConfig, password: str) -> FolderInfo:
    """Log in and select the configured folder (for ``intake check``)."""
    with ImapMailbox(config, password) as box:
        return box.select(config.folder)


def _fetch(client: IMAPClient, *, uids: list[int], items: list[str]) -> dict[int, Any]:
    result: dict[int, Any] = client.fetch(uids, items)
    return result


def _shutdown(client: IMAPClient) -> None:
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001 - the socket may already be gone
        log.debug("IMAP shutdown failed", exc_info=True)


def _chunks(items: Sequence[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def _is_change(response: object) -> bool:
    if isinstance(response, tuple) and len(response) >= 2:
        return _text(response[1]).upper() in ("EXISTS", "RECENT", "EXPUNGE", "FETCH")
    return False


def _aware(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        # imapclient normalises INTERNALDATE to naive local time.
        return value.astimezone(UTC)
    return value.astimezone(UTC)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _describe(exc: BaseException) -> str:
    text = _text(exc.args[0]) if exc.args else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
