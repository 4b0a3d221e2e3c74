"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1 that records the exact bytes of each
message and fails on cue (4xx/5xx replies, a dropped connection, down and up again)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

HOST = "127.0.0.1"
DATA_SIZE_LIMIT = 64 * 1024 * 1024
Security = Literal["none", "starttls", "tls"]
Stage = Literal["RCPT", "DATA"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for localhost and 127.0.0.1, its own CA."""

    cert_file: Path
    key_file: Path

    @property
    def ca_file(self) -> str:
        return str(self.cert_file)


def make_certificate(directory: Path, name: str = "server") -> Certificate:
    """Write ``name.crt`` and ``name.key`` into ``directory`` with the openssl CLI."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-keyout", str(key), "-out", str(cert),
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return Certificate(cert, key)


@dataclass(frozen=True)
class Received:
    """One accepted message: the envelope and the exact bytes after DATA."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    connection: int  # messages sent over one connection share this number
    login: str = ""  # the user the session authenticated as, "" without AUTH


@dataclass
class _Failure:
    stage: Stage
    reply: str | None  # None: drop the connection instead of answering
    times: int


class Hold:
    """A DATA command the server keeps waiting: ``arrived`` is set once the message is in the
    server's hands, and the server answers only after :meth:`release`."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def wait_released(self) -> None:
        self._released.wait()


class _Protocol(SMTP):
    """aiosmtpd's SMTP, numbering its connection and registering itself while it is open."""

    def __init__(self, handler: Any, *, owner: SmtpServer, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.owner = owner
        self.connection_number = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.transport is None:  # not the second call that STARTTLS makes
            self.connection_number = self.owner._next_connection()
            self.owner._live.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.owner._live.discard(self)
        super().connection_lost(error)


class _Controller(Controller):
    def __init__(self, owner: SmtpServer, handler: _Handler, **kwargs: Any) -> None:
        self._owner = owner
        super().__init__(handler, **kwargs)

    def factory(self) -> SMTP:
        return _Protocol(self.handler, owner=self._owner, **self.SMTP_kwargs)


def _abort(transport: asyncio.BaseTransport | None) -> None:
    if isinstance(transport, asyncio.Transport):
        transport.abort()


def _login(session: Session) -> str:
    data = session.auth_data
    if session.authenticated and isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return ""


class _Handler:
    def __init__(self, owner: SmtpServer) -> None:
        self._owner = owner

    async def handle_RCPT(
        self,
        server: _Protocol,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self._owner._take("RCPT")
        if failure is not None and failure.reply is not None:
            return failure.reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: _Protocol, session: Session, envelope: Envelope) -> str:
        hold = self._owner._take_hold()
        if hold is not None:
            hold.arrived.set()
            # Waited for off the event loop, so other connections (and stop()) still work.
            await asyncio.get_running_loop().run_in_executor(None, hold.wait_released)
        failure = self._owner._take("DATA")
        if failure is not None and failure.reply is None:
            # abort(), not close(): close() would still flush a reply written after it. Losing
            # the connection cancels this handler's task, so the sleep never finishes.
            _abort(server.transport)
            await asyncio.sleep(5)
        if failure is not None and failure.reply is not None:
            return failure.reply
        self._owner._record(
            Received(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content or b"",
                connection=server.connection_number,
                login=_login(session),
            )
        )
        return "250 OK"


class _OAuthHandler(_Handler):
    """Also AUTH XOAUTH2 and OAUTHBEARER, with tokens checked by the server's ``oauth``."""

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        return await self._bearer(server, args)

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:  # noqa: N802
        return await self._bearer(server, args)

    async def _bearer(self, server: SMTP, args: list[str]) -> AuthResult:
        self._owner._auth_tried()
        if len(args) > 1:
            blob = base64.b64decode(args[1])
        else:
            answer = await server.challenge_auth("")
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)
            blob = answer
        fields = dict(
            part.split("=", 1)
            for part in blob.decode("utf-8", "replace").split("\x01")
            if "=" in part
        )
        user = fields.get("user", "")
        if not user and blob.startswith(b"n,a="):  # OAUTHBEARER's GS2 header names the user
            user = blob[4:].split(b",", 1)[0].decode()
        token = fields.get("auth", "").removeprefix("Bearer ")
        owner = self._owner
        assert owner.oauth is not None
        if user and owner.oauth(token) == user:
            owner._mechanisms.append(args[0])
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        # The mechanisms' failure dance: an error as a challenge, an empty line, then 535.
        error = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
        await server.challenge_auth(error)
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """An aiosmtpd server on 127.0.0.1 in a thread; ``with SmtpServer() as server:``.

    ``security`` is "none", "starttls" or "tls" (implicit TLS) and needs a ``certificate`` for
    the latter two; ``users`` (name -> password) turns on AUTH PLAIN/LOGIN.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        security: Security = "none",
        certificate: Certificate | None = None,
        users: Mapping[str, str] | None = None,
        oauth: Callable[[str], str | None] | None = None,
        exclude: tuple[str, ...] = (),
        smtputf8: bool = False,
    ) -> None:
        if security != "none" and certificate is None:
            raise ValueError(f"security={security!r} needs a certificate")
        self.host = HOST
        self.port = port or free_port()
        self.security = security
        self.certificate = certificate
        self.users = dict(users or {})
        #: token -> the user it belongs to (None when invalid): turns on XOAUTH2/OAUTHBEARER.
        self.oauth = oauth
        self.auth_attempts = 0  # every AUTH the server answered, good or bad
        self.exclude = exclude  # AUTH mechanisms not to offer ("XOAUTH2", "LOGIN", ...)
        self.smtputf8 = smtputf8  # offer SMTPUTF8 (mail to and from non-ASCII local parts)
        self._mechanisms: list[str] = []
        self._lock = threading.Condition()
        self._messages: list[Received] = []
        self._failures: list[_Failure] = []
        self._holds: list[Hold] = []
        self._counter = itertools.count(1)
        self._live: set[_Protocol] = set()  # touched only on the server's event loop
        self._controller: _Controller | None = None

    # -- lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    @property
    def ca_file(self) -> str:
        """The CA file a client needs to verify this server ("" without TLS)."""
        return self.certificate.ca_file if self.certificate else ""

    def start(self) -> None:
        """Listen on ``self.port`` (the same port after a :meth:`stop`)."""
        if self._controller is not None:
            return
        # Chosen so aiosmtpd warns about nothing (filterwarnings=error): SMTP options are passed
        # as keywords, not the deprecated server_kwargs; AUTH uses an authenticator, not the
        # deprecated auth_callback; auth_required stays off, since with TLS not required it
        # warns (tests check Received.login instead).
        kwargs: dict[str, Any] = {
            "hostname": self.host,
            "port": self.port,
            "server_hostname": "localhost",
            "data_size_limit": DATA_SIZE_LIMIT,
            "enable_SMTPUTF8": self.smtputf8,
        }
        if self.security != "none":
            assert self.certificate is not None
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate.cert_file, self.certificate.key_file)
            kwargs["tls_context" if self.security == "starttls" else "ssl_context"] = context
        if self.users or self.oauth:
            kwargs["authenticator"] = self._authenticate
            # aiosmtpd only counts STARTTLS as encryption, so under implicit TLS it would refuse
            # AUTH; over STARTTLS we keep the requirement, which proves the client upgrades first.
            kwargs["auth_require_tls"] = self.security == "starttls"
        # A Controller's event loop is closed when it stops, so each start needs a new one.
        if self.exclude:
            kwargs["auth_exclude_mechanism"] = list(self.exclude)
        handler = _OAuthHandler(self) if self.oauth else _Handler(self)
        controller = _Controller(self, handler, **kwargs)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close every open connection and stop listening (SMTP down)."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        # Stopping the loop while connections are open would leave their transports to the
        # garbage collector, which warns "unclosed transport" (an error under
        # filterwarnings=error); abort them on the loop and let connection_lost run first.
        asyncio.run_coroutine_threadsafe(self._abort_connections(), controller.loop).result(5)
        controller.stop()

    async def _abort_connections(self) -> None:
        for protocol in list(self._live):
            _abort(protocol.transport)
        deadline = time.monotonic() + 2.0
        while self._live and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        await asyncio.sleep(0)  # let the cancelled handler tasks finish

    # -- failure injection

    def fail_next(self, reply: str, times: int = 1, stage: Stage = "DATA") -> None:
        """Answer the next ``times`` RCPT or DATA commands with ``reply`` ("451 4.3.0 later")."""
        with self._lock:
            self._failures.append(_Failure(stage, reply, times))

    def drop_next(self, times: int = 1) -> None:
        """Drop the connection instead of answering the next ``times`` DATA commands."""
        with self._lock:
            self._failures.append(_Failure("DATA", None, times))

    def hold_next_data(self) -> Hold:
        """Keep the next DATA waiting until the test releases it (a server slow to answer)."""
        hold = Hold()
        with self._lock:
            self._holds.append(hold)
        return hold

    def _take_hold(self) -> Hold | None:
        with self._lock:
            return self._holds.pop(0) if self._holds else None

    def _take(self, stage: Stage) -> _Failure | None:
        with self._lock:
            for failure in self._failures:
                if failure.stage == stage:
                    failure.times -= 1
                    if failure.times <= 0:
                        self._failures.remove(failure)
                    return failure
        return None

    # -- what arrived

    @property
    def messages(self) -> list[Received]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 60.0) -> list[Received]:
        """Wait until ``count`` messages have arrived and return them all (the timeout is a
        safety net against hanging: intake sends synchronously, so they are usually there)."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} messages after {timeout}s")
            return list(self._messages)

    def _record(self, message: Received) -> None:
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()

    def _next_connection(self) -> int:
        with self._lock:
            return next(self._counter)

    @property
    def mechanisms(self) -> list[str]:
        """The OAuth mechanisms of the logins that worked, in order."""
        with self._lock:
            return list(self._mechanisms)

    def _auth_tried(self) -> None:
        with self._lock:
            self.auth_attempts += 1

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self._auth_tried()
        ok = isinstance(auth_data, LoginPassword) and self.users.get(
            auth_data.login.decode("utf-8", "replace")
        ) == auth_data.password.decode("utf-8", "replace")
        # handled=False: aiosmtpd then answers 535 itself (handled=True means we already did).
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A fresh plain SMTP server without AUTH on a free port."""
    with SmtpServer() as server:
        yield server
