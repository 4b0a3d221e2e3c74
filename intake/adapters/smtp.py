"""Send prepared mail over SMTP, one connection per batch; the only importer of smtplib.

Failures become :class:`~intake.core.errors.TemporaryDeliveryError` or
:class:`~intake.core.errors.PermanentDeliveryError`, with the server's code in ``.code``:

* anything that goes wrong before our envelope starts (connect, greeting, EHLO, STARTTLS,
  certificate verification, AUTH) is *temporary*, whatever its code. These are server or
  configuration problems: nothing about the message caused them, so failing the message forever
  would be wrong, while retrying with backoff lets a fixed configuration or a recovered server
  deliver it. The outbox's ``max_attempts`` bounds the retries; ``intake check`` names the cause.
* MAIL FROM, RCPT TO and DATA answers: 4xx temporary, 5xx permanent, except 530 ("authentication
  required", again configuration) which is temporary.
* timeouts, refused or dropped connections and other socket errors are temporary.
* a 5xx answer to AUTH is :class:`~intake.core.errors.SmtpLoginRefused` (a temporary error too):
  the credentials are wrong, and every login of the account waits (:mod:`intake.adapters.logins`).

AUTH is PLAIN or LOGIN with a password (QQ's and NetEase's authorization code), or XOAUTH2 /
OAUTHBEARER with an OAuth2 access token, whichever the server offers: one mechanism, once.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from intake.adapters.logins import Login, Logins, server_words
from intake.adapters.network import tls_trouble
from intake.adapters.oauth import TokenSource, oauthbearer, xoauth2
from intake.core.config import SmtpConfig
from intake.core.errors import (
    DeliveryError,
    OAuthError,
    PermanentDeliveryError,
    SmtpLoginRefused,
    TemporaryDeliveryError,
)
from intake.core.ports import Transport

log = logging.getLogger(__name__)

# Before MAIL FROM every failure is about the server or our settings, never about one message.
_SESSION_STAGES = frozenset({"connect", "EHLO", "STARTTLS", "AUTH"})
_AUTH_REQUIRED = 530


class SmtpSender(Transport):
    """Delivers a batch of messages over one SMTP connection; use it as a context manager.

    Entering connects (and raises a temporary error when the server cannot be used). When a
    failure leaves the connection unusable the next :meth:`send` reconnects once; if that fails
    too, the rest of the batch fails at once instead of waiting out a timeout per message.
    """

    def __init__(
        self,
        config: SmtpConfig,
        password: str = "",
        *,
        local_hostname: str | None = None,
        tokens: TokenSource | None = None,
        logins: Logins | None = None,
    ) -> None:
        self._config = config
        self._login = Login.of(config, password, tokens, logins)
        self._local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        self._broken: TemporaryDeliveryError | None = None

    def __enter__(self) -> Self:
        self._broken = None
        self._conn = _open(self._config, self._login, self._local_hostname)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Say QUIT if the connection still works, and close it."""
        conn, self._conn = self._conn, None
        if conn is not None:
            _quit(conn)

    @property
    def extensions(self) -> frozenset[str]:
        """The EHLO keywords of the open session, lower case (empty when none is open)."""
        conn = self._conn
        return frozenset(conn.esmtp_features) if conn is not None else frozenset()

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        """Send ``raw`` exactly as given to ``rcpt_to`` with envelope sender ``mail_from``.

        An address with a non-ASCII local part goes with SMTPUTF8 (RFC 6531) when the server
        offers it; when it does not, that is a permanent error: nothing else can carry it.
        """
        if not rcpt_to:
            raise PermanentDeliveryError("SMTP: no recipients")
        for addr in (mail_from, *rcpt_to):
            if any(c in addr for c in "\r\n<>") or any(ord(c) < 32 for c in addr):
                # smtplib would write a broken command.
                raise PermanentDeliveryError(f"SMTP: cannot use envelope address {addr!r}")
        conn = self._connection()
        options: list[str] = []
        needs = [addr for addr in (mail_from, *rcpt_to) if not addr.isascii()]
        if needs:
            if not conn.has_extn("smtputf8"):
                raise PermanentDeliveryError(
                    f"SMTP at {self._where()}: the server does not offer SMTPUTF8, "
                    f"which mail to or from {needs[0]} needs"
                )
            # smtplib then sends the commands as UTF-8; the header is UTF-8 too (RFC 6532).
            options = ["SMTPUTF8", *(["BODY=8BITMIME"] if conn.has_extn("8bitmime") else [])]
        try:
            refused = conn.sendmail(mail_from, list(rcpt_to), raw, mail_options=options)
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException) as exc:
            if conn.sock is None:
                # smtplib closed the socket itself after a 421 ("closing connection").
                self._conn = None
            if isinstance(exc, smtplib.SMTPRecipientsRefused):
                raise self._refused(exc.recipients, accepted=0) from exc
            stage = "MAIL FROM" if isinstance(exc, smtplib.SMTPSenderRefused) else "DATA"
            raise _translate(exc, stage, self._where()) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # A dropped connection or a timeout leaves the session in an unknown state.
            self._discard()
            raise _translate(exc, "send", self._where()) from exc
        if refused:
            # Some recipients took the message: it is permanent, since a retry would send it
            # to them twice. intake sends each reply to one recipient, so this stays theoretical.
            raise self._refused(refused, accepted=len(rcpt_to) - len(refused))

    def _connection(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        if self._broken is not None:
            raise TemporaryDeliveryError(
                f"{self._broken} (earlier in this batch)", code=self._broken.code
            )
        log.info("SMTP: reconnecting to %s", self._where())
        try:
            self._conn = _open(self._config, self._login, self._local_hostname)
        except TemporaryDeliveryError as exc:
            self._broken = exc
            raise
        return self._conn

    def _discard(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _where(self) -> str:
        return f"{self._config.host}:{self._config.port}"

    def _refused(self, recipients: dict[str, tuple[int, bytes]], *, accepted: int) -> DeliveryError:
        items = sorted(recipients.items())
        details = "; ".join(f"{addr}: {code} {_text(msg)}" for addr, (code, msg) in items)
        also = f" (accepted for {accepted} other recipients)" if accepted else ""
        message = f"SMTP RCPT TO at {self._where()} refused: {details}{also}"
        temporary = [code for _, (code, _msg) in items if 400 <= code < 500]
        if temporary and not accepted:
            return TemporaryDeliveryError(message, code=temporary[0])
        return PermanentDeliveryError(message, code=items[0][1][0])


def check_login(
    config: SmtpConfig,
    password: str = "",
    *,
    local_hostname: str | None = None,
    tokens: TokenSource | None = None,
    logins: Logins | None = None,
) -> None:
    """Connect, negotiate TLS and log in as ``intake check`` does; raise a DeliveryError if not."""
    _quit(_open(config, Login.of(config, password, tokens, logins), local_hostname))


def _open(config: SmtpConfig, login: Login, local_hostname: str | None) -> smtplib.SMTP:
    where = f"{config.host}:{config.port}"
    stage = "connect"
    if config.username:
        login.before()
    try:
        context = None
        if config.security != "none":
            # Certificates and host names are verified; ca_file adds a private CA.
            context = ssl.create_default_context(cafile=config.ca_file or None)
        conn: smtplib.SMTP
        if config.security == "tls":
            conn = smtplib.SMTP_SSL(
                config.host,
                config.port,
                local_hostname=local_hostname,
                timeout=config.timeout,
                context=context,
            )
        else:
            conn = smtplib.SMTP(
                config.host, config.port, local_hostname=local_hostname, timeout=config.timeout
            )
        try:
            stage = "EHLO"
            conn.ehlo_or_helo_if_needed()
            if config.security == "starttls":
                stage = "STARTTLS"
                conn.starttls(context=context)
                stage = "EHLO"
                conn.ehlo()
            if config.username:
                stage = "AUTH"
                _authenticate(conn, config, login, where)
        except BaseException:
            conn.close()
            raise
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise _translate(exc, stage, where) from exc
    return conn


def _authenticate(conn: smtplib.SMTP, config: SmtpConfig, login: Login, where: str) -> None:
    # One attempt with one mechanism: smtplib's login() would try every mechanism in turn,
    # and several failed logins per connection get accounts locked at QQ Mail or 163.
    offered = conn.esmtp_features.get("auth", "").upper().split()
    tls_hint = (
        ""
        if offered
        else " (is TLS required first? see smtp.security; for a server that takes mail without"
        ' a login, set smtp.username = "")'
    )
    if login.tokens is None:
        if not (config.username.isascii() and login.password.isascii()):
            # smtplib encodes AUTH PLAIN/LOGIN as ASCII and would fail obscurely.
            raise TemporaryDeliveryError(
                f"SMTP AUTH at {where}: smtp.username and the password must be ASCII"
            )
        mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
        if mechanism is None:
            raise TemporaryDeliveryError(
                f"SMTP AUTH at {where}: the server offers no AUTH PLAIN or LOGIN{tls_hint}"
            )
        conn.user, conn.password = config.username, login.password
        authobject = conn.auth_plain if mechanism == "PLAIN" else conn.auth_login
        try:
            conn.auth(mechanism, authobject)
        except smtplib.SMTPAuthenticationError as exc:
            raise _refused(exc, config, login, where) from None
        login.succeeded()
        return
    sasl = next((m for m in ("XOAUTH2", "OAUTHBEARER") if m in offered), None)
    if sasl is None:
        raise TemporaryDeliveryError(
            f"SMTP AUTH at {where}: the server offers neither XOAUTH2 nor OAUTHBEARER{tls_hint}"
        )
    for attempt in (1, 2):
        try:
            token = login.tokens.token()
        except OAuthError as exc:
            if exc.refused:
                raise _refusal(config, login, str(exc)) from None
            raise TemporaryDeliveryError(f"SMTP AUTH at {where}: {exc}") from None
        message = (
            xoauth2(config.username, token)
            if sasl == "XOAUTH2"
            else oauthbearer(config.username, token, config.host, config.port)
        )

        def answer(challenge: bytes | None = None, message: str = message) -> str:
            # After a failure the server sends its error as a challenge; an empty line ends it.
            return message if challenge is None else ""

        try:
            conn.auth(sasl, answer, initial_response_ok=True)
        except smtplib.SMTPAuthenticationError as exc:
            login.tokens.invalidate()
            if attempt == 2 or not 500 <= exc.smtp_code < 600:
                raise _refused(exc, config, login, where) from None
            continue
        login.succeeded()
        return


def _refused(
    exc: smtplib.SMTPAuthenticationError, config: SmtpConfig, login: Login, where: str
) -> DeliveryError:
    words = f"{exc.smtp_code} {server_words(exc.smtp_error)}"
    if not 500 <= exc.smtp_code < 600:  # 454: the server could not check just now
        return TemporaryDeliveryError(f"SMTP AUTH at {where}: {words}", code=exc.smtp_code)
    error = _refusal(config, login, words)
    error.code = exc.smtp_code
    return error


def _refusal(config: SmtpConfig, login: Login, words: str) -> SmtpLoginRefused:
    refused = login.refused(config.host, words)
    assert isinstance(refused, SmtpLoginRefused)
    return refused


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        # The connection is going away either way; a failed goodbye loses nothing.
        pass
    finally:
        conn.close()


def _text(value: bytes | str) -> str:
    return server_words(value)


def _translate(exc: BaseException, stage: str, where: str) -> DeliveryError:
    """One library or socket error as our temporary or permanent delivery error."""
    prefix = f"SMTP {stage} at {where}"
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        message = f"{prefix}: {code} {_text(exc.smtp_error)}"
        permanent = 500 <= code < 600 and code != _AUTH_REQUIRED
        if permanent and stage not in _SESSION_STAGES:
            return PermanentDeliveryError(message, code=code)
        return TemporaryDeliveryError(message, code=code)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryDeliveryError(f"{prefix}: connection closed by the server ({exc})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TemporaryDeliveryError(
            f"{prefix}: TLS certificate verification failed: {exc.verify_message}"
            " (check smtp.host and smtp.ca_file)"
        )
    if isinstance(exc, ssl.SSLError):
        return TemporaryDeliveryError(f"{prefix}: {tls_trouble(exc, tls_port=465)}")
    if isinstance(exc, TimeoutError):
        return TemporaryDeliveryError(f"{prefix}: timed out")
    if isinstance(exc, ConnectionRefusedError):
        return TemporaryDeliveryError(f"{prefix}: connection refused")
    if isinstance(exc, socket.gaierror):
        return TemporaryDeliveryError(f"{prefix}: cannot resolve host: {exc.strerror}")
    if isinstance(exc, OSError) and exc.strerror:
        return TemporaryDeliveryError(f"{prefix}: {exc.strerror}")
    return TemporaryDeliveryError(f"{prefix}: {exc}")
