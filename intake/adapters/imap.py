"""IMAP adapter: log in (password or OAuth2), identify, fetch new mail by UID, move or flag
processed mail, find and fill the Sent folder, IDLE.

The only importer of imapclient. Only commands the server advertises in CAPABILITY are sent
beyond IMAP4rev1's own (QQ Mail drops the connection on others): ID, IDLE, MOVE, UID EXPUNGE
(UIDPLUS), XLIST and the SASL mechanisms each wait for their capability, with a fallback
(no ID, polling, COPY + \\Deleted + EXPUNGE, plain LIST and known names). Folder names travel
in modified UTF-7 (imapclient encodes and decodes them), so 已处理投稿 works both ways.

Library and socket errors are translated into
:class:`~intake.core.errors.MailboxUnavailable` (cannot connect, log in or select: retry later),
:class:`~intake.core.errors.MailboxLoginRefused` (the credentials were refused: the account's
logins back off together, see :mod:`intake.adapters.logins`) and
:class:`~intake.core.errors.MailboxProtocolError` (the server said no to a command).
"""

from __future__ import annotations

import imaplib
import logging
import ssl
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from intake import __version__
from intake.adapters.logins import Login, Logins, server_words
from intake.adapters.network import socket_trouble, tls_trouble
from intake.adapters.oauth import TokenSource, oauthbearer, xoauth2
from intake.core.config import AUTO_FOLDER, MailboxConfig
from intake.core.errors import (
    LoginRefused,
    MailboxProtocolError,
    MailboxUnavailable,
    OAuthError,
)
from intake.core.mail import FolderInfo, MessageRef, MessageSize, RawMail
from intake.core.ports import MailSource, SentMailbox
from intake.core.providers import COMMON_SENT_NAMES, provider

log = logging.getLogger(__name__)

#: Keyword set on processed mail when there is no processed folder to move it to.
PROCESSED_KEYWORD = "$IntakeProcessed"
#: What intake tells a server in IMAP ID (RFC 2971); NetEase refuses SELECT without it.
CLIENT_NAME = "intake"

T = TypeVar("T")


class ImapMailbox(MailSource, SentMailbox):
    """One logged-in connection to one configured mailbox: the mail source ingest reads and the
    Sent folder the outbox files copies in.

    Use as a context manager: connects, logs in and identifies itself on enter, logs out on
    exit. ``password`` is the password or authorization code; with ``auth = "oauth2"`` the
    ``tokens`` give access tokens instead. ``logins`` (shared by every connection of the
    process) keeps a refused account from logging in again before its back-off is over.
    """

    def __init__(
        self,
        config: MailboxConfig,
        password: str = "",
        *,
        tokens: TokenSource | None = None,
        logins: Logins | None = None,
    ) -> None:
        self.config = config
        self._login = Login.of(config, password, tokens, logins)
        self._client: IMAPClient | None = None
        self._folder: FolderInfo | None = None
        self._idling = False
        self._sent: str | None = None
        self.identified = False  # whether ID was sent on this connection

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
        self._login.before()
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
            self._authenticate(client)
        except Exception as exc:
            if client is not None:
                _shutdown(client)
            if isinstance(exc, LoginRefused | MailboxUnavailable):
                raise
            raise self._connect_error(exc) from None
        self._client = client
        self._login.succeeded()
        self._identify()

    def _connect_error(self, exc: Exception) -> MailboxUnavailable:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        if isinstance(exc, ssl.SSLError):
            trouble = tls_trouble(exc, tls_port=993)
            return MailboxUnavailable(f"mailbox {cfg.name}: TLS failed with {where}: {trouble}")
        if isinstance(exc, OSError):
            trouble = socket_trouble(exc)
            return MailboxUnavailable(f"mailbox {cfg.name}: cannot connect to {where}: {trouble}")
        if isinstance(exc, IMAPClientError | imaplib.IMAP4.error):
            return MailboxUnavailable(
                f"mailbox {cfg.name}: cannot connect to {where}: {_describe(exc)}"
            )
        raise exc

    def _authenticate(self, client: IMAPClient) -> None:
        cfg = self.config
        caps = _caps(client)
        tokens = self._login.tokens
        if tokens is None:
            if "LOGINDISABLED" in caps:
                raise MailboxUnavailable(
                    f"mailbox {cfg.name}: {cfg.host} refuses LOGIN on this connection "
                    '(LOGINDISABLED): set security = "tls" or "starttls"'
                )
            try:
                client.login(cfg.username, self._login.password)
            except LoginError as exc:
                raise self._refused(server_words(exc)) from None
            return
        mechanism = next((m for m in ("XOAUTH2", "OAUTHBEARER") if f"AUTH={m}" in caps), None)
        if mechanism is None:
            raise MailboxUnavailable(
                f"mailbox {cfg.name}: {cfg.host} offers neither AUTH=XOAUTH2 nor "
                'AUTH=OAUTHBEARER: use auth = "password"'
            )
        # A refused token is refreshed once and tried again: it may have been revoked early.
        for attempt in (1, 2):
            try:
                token = tokens.token()
            except OAuthError as exc:
                if exc.refused:
                    raise self._refused(str(exc)) from None
                raise MailboxUnavailable(f"mailbox {cfg.name}: {exc}") from None
            message = (
                xoauth2(cfg.username, token)
                if mechanism == "XOAUTH2"
                else oauthbearer(cfg.username, token, cfg.host, cfg.port)
            )
            try:
                client._command_and_check("authenticate", mechanism, lambda _c, sasl=message: sasl)
                return
            except (IMAPClientError, imaplib.IMAP4.error) as exc:
                if isinstance(exc, imaplib.IMAP4.abort):
                    raise
                tokens.invalidate()
                if attempt == 2:
                    raise self._refused(server_words(exc)) from None

    def _refused(self, words: str) -> LoginRefused:
        refused = self._login.refused(self.config.host, words)
        refused.args = (f"mailbox {self.config.name}: {refused}",)
        return refused

    def _identify(self) -> None:
        """Send ID (RFC 2971) when the server offers it: NetEase refuses SELECT otherwise."""
        if not self.config.imap_id or not self.has("ID"):
            return
        fields = {
            "name": CLIENT_NAME,
            "version": __version__,
            "vendor": CLIENT_NAME,
            "support-url": f"mailto:{self.config.username}"
            if "@" in self.config.username
            else "https://www.rfc-editor.org/rfc/rfc2971",
        }
        try:
            self._call(lambda c: c.id_(fields))
            self.identified = True
        except MailboxProtocolError as exc:
            # A server that lists ID but rejects ours still serves mail; say so once.
            log.info("mailbox %s: the server refused our IMAP ID: %s", self.config.name, exc)

    def close(self) -> None:
        client, self._client = self._client, None
        self._folder = None
        self._sent = None
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
        return self._call(_caps)

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
        self.select(self.real_folder(folder))
        found = self._call(lambda c: c.search(["HEADER", "Message-ID", message_id]))
        return bool(found)

    # ------------------------------------------------------------------ folders

    def real_folder(self, folder: str) -> str:
        """``folder`` itself, or for ``"auto"`` the Sent folder this server has."""
        return self.sent_folder() if folder == AUTO_FOLDER else folder

    def sent_folder(self) -> str:
        """The folder marked \\Sent (LIST, else XLIST when offered), else one with a known
        name, else the provider's usual name (created when first used)."""
        if self._sent is not None:
            return self._sent
        listing = self._call(lambda c: c.list_folders())
        found = _flagged(listing, b"\\Sent")
        if found is None and {"SPECIAL-USE", "LIST-EXTENDED"} <= self.capabilities():
            # RFC 6154: a server need only show the attributes when asked for them.
            found = _flagged(self._call(_list_special_use), b"\\Sent")
        if found is None and self.has("XLIST"):
            found = _flagged(self._call(lambda c: c.xlist_folders()), b"\\Sent")
        if found is None:
            names = {str(name) for _flags, _delim, name in listing}
            known = (*provider(self.config.provider).sent_names, *COMMON_SENT_NAMES)
            found = next((n for n in known if n in names), None)
        if found is None:
            found = provider(self.config.provider).sent_names[0]
            log.info("mailbox %s: no Sent folder on the server; using %s", self.config.name, found)
        self._sent = found
        return found

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` if the server does not have it."""
        self.create_missing(folder)

    def create_missing(self, folder: str) -> bool:
        """Create ``folder`` if the server does not have it; True when it was created."""
        folder = self.real_folder(folder)
        if not folder or self._call(lambda c: c.folder_exists(folder)):
            return False
        self._call(lambda c: c.create_folder(folder))
        log.info(
            "mailbox %s: created folder %s", self.config.name, folder,
            extra={"event": "folder_created", "mailbox": self.config.name},
        )  # fmt: skip
        return True

    # ------------------------------------------------------------------ writing

    def mark_processed(self, uids: Sequence[int], dest: str) -> str:
        """Move ``uids`` out of the selected folder; returns how (move, copy, flag).

        MOVE when offered; else COPY, \\Deleted and UID EXPUNGE (UIDPLUS) or EXPUNGE; a
        missing destination is created and the move tried again (QQ and NetEase answer a
        plain NO, not always [TRYCREATE]).
        """
        if not uids:
            return "none"
        if not dest:
            self._call(lambda c: c.add_flags(list(uids), [PROCESSED_KEYWORD], silent=True))
            return "flag"
        try:
            return self._move(uids, dest)
        except MailboxProtocolError:
            if not self.create_missing(dest):
                raise
        return self._move(uids, dest)

    def _move(self, uids: Sequence[int], dest: str) -> str:
        caps = self.capabilities()
        if "MOVE" in caps:
            self._call(lambda c: c.move(list(uids), dest))
            return "move"
        self._call(lambda c: c.copy(list(uids), dest))
        self._call(lambda c: c.add_flags(list(uids), [b"\\Deleted"], silent=True))
        if "UIDPLUS" in caps:
            self._call(lambda c: c.uid_expunge(list(uids)))
        else:
            # Without UIDPLUS only a plain EXPUNGE is left: it also removes what someone
            # else marked \\Deleted in this folder, which is what \\Deleted asks for.
            self._call(lambda c: c.expunge())
        return "copy"

    def append(self, folder: str, raw: bytes, flags: Sequence[str] = ("\\Seen",)) -> None:
        folder = self.real_folder(folder)
        self._call(lambda c: c.append(folder, raw, flags=list(flags)))

    # ------------------------------------------------------------------ IDLE

    def idle_wait(self, timeout: float) -> bool:
        """Wait in IDLE up to ``timeout`` seconds; True when the server reported a change."""
        if not self.has("IDLE"):
            raise MailboxProtocolError(f"mailbox {self.config.name}: the server has no IDLE")
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


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What ``intake check`` found on one mailbox."""

    folder: FolderInfo
    processed_created: bool
    sent_folder: str
    identified: bool
    capabilities: frozenset[str]


def check(box: ImapMailbox) -> CheckReport:
    """Select the folder, create the processed folder if missing, find the Sent folder."""
    cfg = box.config
    info = box.select(cfg.folder)
    created = box.create_missing(cfg.processed_folder) if cfg.processed_folder else False
    sent = box.sent_folder() if cfg.sent_folder == AUTO_FOLDER else cfg.sent_folder
    return CheckReport(info, created, sent, box.identified, box.capabilities())


def _fetch(client: IMAPClient, *, uids: list[int], items: list[str]) -> dict[int, Any]:
    result: dict[int, Any] = client.fetch(uids, items)
    return result


def _list_special_use(client: IMAPClient) -> list[tuple[Any, Any, Any]]:
    """``LIST "" "*" RETURN (SPECIAL-USE)``, which imapclient has no call for."""
    typ, data = client._imap._simple_command("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
    client._checkok("list", typ, data)
    typ, data = client._imap._untagged_response(typ, data, "LIST")
    result: list[tuple[Any, Any, Any]] = client._proc_folder_list(data)
    return result


def _caps(client: IMAPClient) -> frozenset[str]:
    return frozenset(_text(c).upper() for c in client.capabilities())


def _flagged(listing: Sequence[tuple[Any, Any, Any]], flag: bytes) -> str | None:
    for flags, _delim, name in listing:
        if any(bytes(f).lower() == flag.lower() for f in flags if isinstance(f, bytes)):
            return str(name)
    return None


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
    text = server_words(exc.args[0]) if exc.args else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
