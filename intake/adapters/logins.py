"""One back-off per account after a mail server refused its credentials.

QQ Mail and NetEase lock an account that keeps logging in with a wrong password or a revoked
authorization code. So a refusal is treated as a configuration problem: the account's every
login (poll, IDLE, the Sent folder, SMTP) waits together, doubling from ``AUTH_BACKOFF_BASE``
up to ``daemon.reconnect_max_seconds``, and the refusal is logged once, not once per attempt.
A login whose secret has changed since the refusal (the admin fixed the password file, a new
OAuth token) is let through at once. Time comes from an injected monotonic clock.
"""

from __future__ import annotations

import ast
import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from intake.core.config import MailboxConfig, SmtpConfig
from intake.core.errors import LoginRefused, MailboxLoginRefused, SmtpLoginRefused
from intake.core.providers import provider

if TYPE_CHECKING:
    from intake.adapters.oauth import TokenSource

log = logging.getLogger(__name__)

#: The first wait after a refusal, in seconds; it doubles with each refusal after that.
AUTH_BACKOFF_BASE = 30.0


@dataclass(frozen=True, slots=True)
class Refusal:
    """What the server said when it refused an account's login (handed to the listener)."""

    account: str
    service: str  # "imap" or "smtp"
    host: str
    server_text: str
    failures: int
    retry_in: float
    hint: str = ""


RefusalListener = Callable[[Refusal | None, str, str], None]  # (refusal or None, account, service)


_BYTES_REPR = re.compile(r"""\bb('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")


def server_words(value: object) -> str:
    """A server's answer as readable text: bytes decoded (UTF-8, else GB18030 as QQ and NetEase
    answer in), Python's ``b'...'`` reprs that libraries put in their messages unwrapped,
    whitespace folded to single spaces."""
    if isinstance(value, bytes | bytearray):
        text = _decode(bytes(value))
    else:
        text = _BYTES_REPR.sub(_unwrap, str(value))
    return " ".join(text.split())


def _unwrap(match: re.Match[str]) -> str:
    try:
        raw = ast.literal_eval("b" + match.group(1))
    except (ValueError, SyntaxError):
        return match.group(0)
    return _decode(raw) if isinstance(raw, bytes) else match.group(0)


def _decode(raw: bytes) -> str:
    for charset in ("utf-8", "gb18030"):
        try:
            return raw.decode(charset)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def digest(secret: str) -> str:
    """A fingerprint of a secret, so a changed one is recognised without keeping it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class _Gate:
    def __init__(self) -> None:
        self.failures = 0
        self.until = 0.0
        self.secret = ""  # digest of the secret that was refused
        self.last: Refusal | None = None


class Logins:
    """The login gates of one process, one per account; safe from any thread."""

    def __init__(
        self,
        maximum: float,
        *,
        base: float = AUTH_BACKOFF_BASE,
        monotonic: Callable[[], float] = time.monotonic,
        listener: RefusalListener | None = None,
    ) -> None:
        self.base = base
        self.maximum = max(maximum, base)
        self._monotonic = monotonic
        self._listeners: list[RefusalListener] = [listener] if listener else []
        #: Log each refusal (the daemon's journal); a CLI command prints its error instead.
        self.log_refusals = True
        self._gates: dict[str, _Gate] = {}
        self._lock = threading.Lock()

    def listen(self, listener: RefusalListener) -> None:
        """Call ``listener(refusal, account, service)`` on each refusal (None: works again)."""
        self._listeners.append(listener)

    def wait(self, account: str) -> float:
        """Seconds until ``account`` may log in again (0 when it may now)."""
        with self._lock:
            gate = self._gates.get(account)
            return max(0.0, gate.until - self._monotonic()) if gate else 0.0

    def refusal(self, account: str) -> Refusal | None:
        """The last refusal of ``account`` while it is still unresolved."""
        with self._lock:
            gate = self._gates.get(account)
            return gate.last if gate and gate.failures else None

    def before_login(self, account: str, service: str, secret: str) -> None:
        """Raise the service's LoginRefused (not fresh) while the account must wait.

        A secret that differs from the refused one goes through: someone fixed it.
        """
        with self._lock:
            gate = self._gates.get(account)
            if gate is None or not gate.failures:
                return
            remaining = gate.until - self._monotonic()
            if remaining <= 0 or digest(secret) != gate.secret:
                return
            last = gate.last
        words = last.server_text if last else ""
        raise _error(
            service,
            f"{service.upper()} login of {account} not tried: the server refused its "
            f"credentials ({words}); next try in {remaining:.0f} s",
            account=account,
            server_text=words,
            retry_in=remaining,
            fresh=False,
        )

    def refused(
        self, account: str, service: str, host: str, server_text: str, secret: str, hint: str = ""
    ) -> LoginRefused:
        """Record a refusal, log it once, and return the error to raise."""
        with self._lock:
            gate = self._gates.setdefault(account, _Gate())
            remaining = gate.until - self._monotonic()
            if gate.failures and remaining > 0 and gate.secret == digest(secret):
                # The gate closed on this very secret while this login was on its way (the
                # poll and IDLE log in together at start-up): the same refusal seen twice.
                # Counting it would double the first wait and log the refusal twice.
                return _refusal(service, account, host, server_text, hint, retry_in=remaining)
            gate.failures += 1
            delay = min(self.maximum, self.base * 2.0 ** min(gate.failures - 1, 30))
            gate.until = self._monotonic() + delay
            gate.secret = digest(secret)
            refusal = Refusal(account, service, host, server_text, gate.failures, delay, hint)
            gate.last = refusal
        advice = f" ({hint})" if hint else ""
        if self.log_refusals:
            log.warning(
                "%s login refused for %s at %s: %s%s; every login of this account waits %.0f s",
                service.upper(), account, host, server_text, advice, delay,
                extra={"event": "login_refused", "account": account},
            )  # fmt: skip
        self._notify(refusal, account, service)
        return _refusal(service, account, host, server_text, hint, retry_in=delay)

    def succeeded(self, account: str, service: str) -> None:
        """A login worked: the account's gate opens (logged when it had been closed)."""
        with self._lock:
            gate = self._gates.pop(account, None)
        if gate is not None and gate.failures:
            log.info(
                "%s login of %s works again after %d refusal(s)",
                service.upper(), account, gate.failures,
                extra={"event": "login_ok", "account": account},
            )  # fmt: skip
            self._notify(None, account, service)

    def _notify(self, refusal: Refusal | None, account: str, service: str) -> None:
        for listener in self._listeners:
            try:
                listener(refusal, account, service)
            except Exception as exc:  # noqa: BLE001 - bookkeeping must not hide the refusal
                log.warning("could not record the login state of %s: %s", account, exc)


@dataclass(frozen=True, slots=True)
class Login:
    """How one connection logs in to one account, IMAP or SMTP alike: the password (or
    authorization code) or the OAuth2 tokens, and the process's :class:`Logins` gates (None:
    no back-off, as in ``intake check``). The adapters speak their protocol; this holds the
    rest of a login: the gate before it, the refusal after it, the gate opened on success."""

    account: str
    service: Literal["imap", "smtp"]
    password: str = ""
    tokens: TokenSource | None = None
    gates: Logins | None = None
    hint: str = ""  # what the provider says about its passwords, added to a refusal

    @classmethod
    def of(
        cls,
        config: MailboxConfig | SmtpConfig,
        password: str = "",
        tokens: TokenSource | None = None,
        gates: Logins | None = None,
    ) -> Login:
        service: Literal["imap", "smtp"] = "smtp" if isinstance(config, SmtpConfig) else "imap"
        hint = provider(config.provider).password_hint if config.auth == "password" else ""
        return cls(config.account, service, password, tokens, gates, hint)

    def secret(self) -> str:
        """What a refusal is remembered by: the password, or the OAuth refresh token."""
        if self.tokens is not None:
            try:
                return self.tokens.refresh_token()
            except Exception:  # noqa: BLE001 - unreadable now: the login says why
                return ""
        return self.password

    def before(self) -> None:
        """Raise the service's LoginRefused while the account waits after a refusal."""
        if self.gates is not None:
            self.gates.before_login(self.account, self.service, self.secret())

    def succeeded(self) -> None:
        if self.gates is not None:
            self.gates.succeeded(self.account, self.service)

    def refused(self, host: str, server_text: str) -> LoginRefused:
        """The error to raise for the server's refusal, recorded in the gates when there are."""
        if self.gates is None:
            return _refusal(self.service, self.account, host, server_text, self.hint)
        return self.gates.refused(
            self.account, self.service, host, server_text, self.secret(), hint=self.hint
        )


def _refusal(
    service: str, account: str, host: str, server_text: str, hint: str, *, retry_in: float = 0.0
) -> LoginRefused:
    if service == "smtp":
        message = f"SMTP AUTH at {host} refused the credentials of {account}: {server_text}"
    else:
        message = f"login failed for {account} at {host}: {server_text}"
    return _error(
        service,
        message + (f" ({hint})" if hint else ""),
        account=account,
        server_text=server_text,
        retry_in=retry_in,
        fresh=True,
    )


def _error(
    service: str, message: str, *, account: str, server_text: str, retry_in: float, fresh: bool
) -> LoginRefused:
    error: LoginRefused
    if service == "smtp":
        error = SmtpLoginRefused(message)
    else:
        error = MailboxLoginRefused(message)
    error.account = account
    error.service = service
    error.server_text = server_text
    error.retry_in = retry_in
    error.fresh = fresh
    return error
