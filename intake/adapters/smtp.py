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
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from collections.abc import Sequence
from types import TracebackType
from typing import Self

from intake.core.config import SmtpConfig
from intake.core.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
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
        self, config: SmtpConfig, password: str, *, local_hostname: str | None = None
    ) -> None:
        self._config = config
        self._password = password
        self._local_hostname = local_hostname
        self._conn: smtplib.SMTP | None = None
        self._broken: TemporaryDeliveryError | None = None

    def __enter__(self) -> Self:
        self._broken = None
        self._conn = _open(self._config, self._password, self._local_hostname)
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

    def send(self, raw: bytes, mail_from: str, rcpt_to: Sequence[str]) -> None:
        """Send ``raw`` exactly as given to ``rcpt_to`` with envelope sender ``mail_from``."""
        if not rcpt_to:
            raise PermanentDeliveryError("SMTP: no recipients")
        for addr in (mail_from, *rcpt_to):
            if not addr.isascii() or any(c in addr for c in "\r\n<>"):
                # smtplib would raise UnicodeEncodeError or write a broken command.
                raise PermanentDeliveryError(f"SMTP: cannot use envelope address {addr!r}")
        conn = self._connection()
        try:
            refused = conn.sendmail(mail_from, list(rcpt_to), raw)
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
            self._conn = _open(self._config, self._password, self._local_hostname)
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


def check_login(config: SmtpConfig, password: str, *, local_hostname: str | None = None) -> None:
    """Connect, negotiate TLS and log in as ``intake check`` does; raise a DeliveryError if not."""
    _quit(_open(config, password, local_hostname))


def _open(config: SmtpConfig, password: str, local_hostname: str | None) -> smtplib.SMTP:
    where = f"{config.host}:{config.port}"
    stage = "connect"
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
                if not (config.username.isascii() and password.isascii()):
                    # smtplib encodes AUTH PLAIN/LOGIN as ASCII and would fail obscurely.
                    raise TemporaryDeliveryError(
                        f"SMTP AUTH at {where}: smtp.username and the password must be ASCII"
                    )
                _login(conn, config.username, password, where)
        except BaseException:
            conn.close()
            raise
    except DeliveryError:
        raise
    except (smtplib.SMTPException, OSError) as exc:
        raise _translate(exc, stage, where) from exc
    return conn


def _login(conn: smtplib.SMTP, username: str, password: str, where: str) -> None:
    # One attempt with one mechanism: smtplib's login() would try every mechanism in turn,
    # and several failed logins per connection get accounts locked at QQ Mail or 163.
    offered = conn.esmtp_features.get("auth", "").upper().split()
    mechanism = next((m for m in ("PLAIN", "LOGIN") if m in offered), None)
    if mechanism is None:
        raise TemporaryDeliveryError(
            f"SMTP AUTH at {where}: the server offers no AUTH PLAIN or LOGIN"
            + ("" if offered else " (is TLS required first? see smtp.security)")
        )
    conn.user, conn.password = username, password
    authobject = conn.auth_plain if mechanism == "PLAIN" else conn.auth_login
    conn.auth(mechanism, authobject)


def _quit(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        # The connection is going away either way; a failed goodbye loses nothing.
        pass
    finally:
        conn.close()


def _text(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())


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
        return TemporaryDeliveryError(f"{prefix}: TLS error: {exc.reason or exc}")
    if isinstance(exc, TimeoutError):
        return TemporaryDeliveryError(f"{prefix}: timed out")
    if isinstance(exc, ConnectionRefusedError):
        return TemporaryDeliveryError(f"{prefix}: connection refused")
    if isinstance(exc, socket.gaierror):
        return TemporaryDeliveryError(f"{prefix}: cannot resolve host: {exc.strerror}")
    if isinstance(exc, OSError) and exc.strerror:
        return TemporaryDeliveryError(f"{prefix}: {exc.strerror}")
    return TemporaryDeliveryError(f"{prefix}: {exc}")
