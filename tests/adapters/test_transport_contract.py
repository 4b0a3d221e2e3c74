"""The SMTP transport port, one suite run against the in-memory transport and SmtpSender on a real
aiosmtpd server: exact bytes, connections, and how each failure is classified."""

from __future__ import annotations

import contextlib
from typing import Protocol

import pytest

from intake.adapters.memory.transport import MemoryTransport
from intake.adapters.smtp import SmtpSender
from intake.core.config import SmtpConfig
from intake.core.errors import PermanentDeliveryError, TemporaryDeliveryError
from intake.core.ports import Transport
from tests.smtpserver import HOST, SmtpServer, Stage

FROM = "tougao@news.example"
TO = "zhangsan@qq.com"
RAW = (
    "From: tougao@news.example\r\nTo: zhangsan@qq.com\r\nSubject: =?utf-8?b?5pS256i/?=\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ".leading dot\r\n..two dots\r\n收稿回执\r\n"
).encode()


class Backend(Protocol):
    """An SMTP server as the suite drives it."""

    def session(self) -> contextlib.AbstractContextManager[Transport]: ...
    def received(self) -> list[tuple[str, tuple[str, ...], bytes, int]]: ...
    def fail_next(self, reply: str, times: int = 1, stage: Stage = "DATA") -> None: ...
    def drop_next(self, times: int = 1) -> None: ...
    def go_down(self) -> None: ...


class MemoryBackend:
    def __init__(self) -> None:
        self.transport = MemoryTransport()

    def session(self) -> contextlib.AbstractContextManager[Transport]:
        return self.transport

    def received(self) -> list[tuple[str, tuple[str, ...], bytes, int]]:
        return [(m.mail_from, m.rcpt_tos, m.data, m.connection) for m in self.transport.messages]

    def fail_next(self, reply: str, times: int = 1, stage: Stage = "DATA") -> None:
        self.transport.fail_next(reply, times, stage)

    def drop_next(self, times: int = 1) -> None:
        self.transport.drop_next(times)

    def go_down(self) -> None:
        self.transport.down = True


class AiosmtpdBackend:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server
        self.config = SmtpConfig(
            host=HOST, port=server.port, from_address=FROM, security="none", timeout=30.0
        )

    def session(self) -> contextlib.AbstractContextManager[Transport]:
        return SmtpSender(self.config, "", local_hostname="intake.test")

    def received(self) -> list[tuple[str, tuple[str, ...], bytes, int]]:
        return [(m.mail_from, m.rcpt_tos, m.data, m.connection) for m in self.server.messages]

    def fail_next(self, reply: str, times: int = 1, stage: Stage = "DATA") -> None:
        self.server.fail_next(reply, times, stage)

    def drop_next(self, times: int = 1) -> None:
        self.server.drop_next(times)

    def go_down(self) -> None:
        self.server.stop()


@pytest.fixture(params=["memory", "aiosmtpd"])
def backend(request: pytest.FixtureRequest) -> Backend:
    if request.param == "memory":
        return MemoryBackend()
    return AiosmtpdBackend(request.getfixturevalue("smtp_server"))


def test_sends_the_exact_bytes_with_the_envelope(backend: Backend) -> None:
    with backend.session() as transport:
        transport.send(RAW, FROM, [TO])
    ((mail_from, rcpt_tos, data, _),) = backend.received()
    assert (mail_from, rcpt_tos, data) == (FROM, (TO,), RAW)


def test_one_session_is_one_connection(backend: Backend) -> None:
    with backend.session() as transport:
        for n in range(3):
            transport.send(RAW + b"%d\r\n" % n, FROM, [TO])
    with backend.session() as transport:
        transport.send(RAW, FROM, [TO])
    connections = [c for *_, c in backend.received()]
    assert connections[0] == connections[1] == connections[2] != connections[3]


@pytest.mark.parametrize(
    ("reply", "stage", "error"),
    [
        ("451 4.3.0 try again later", "DATA", TemporaryDeliveryError),
        ("452 4.3.1 insufficient storage", "DATA", TemporaryDeliveryError),
        ("550 5.7.1 content rejected", "DATA", PermanentDeliveryError),
        ("554 5.7.0 spam", "DATA", PermanentDeliveryError),
        ("530 5.7.0 authentication required", "DATA", TemporaryDeliveryError),
        ("450 4.2.0 mailbox busy", "RCPT", TemporaryDeliveryError),
        ("550 5.1.1 no such user", "RCPT", PermanentDeliveryError),
    ],
)
def test_answers_are_temporary_or_permanent_with_their_code(
    backend: Backend, reply: str, stage: Stage, error: type[Exception]
) -> None:
    backend.fail_next(reply, stage=stage)
    with backend.session() as transport:
        with pytest.raises(error) as raised:
            transport.send(RAW, FROM, [TO])
        assert raised.value.code == int(reply[:3])  # type: ignore[attr-defined]
        assert reply[:3] in str(raised.value)
        transport.send(RAW, FROM, [TO])  # the session goes on
    assert len(backend.received()) == 1


def test_a_dropped_connection_is_temporary_and_the_next_send_reconnects(
    backend: Backend,
) -> None:
    backend.drop_next()
    with backend.session() as transport:
        with pytest.raises(TemporaryDeliveryError):
            transport.send(RAW, FROM, [TO])
        transport.send(RAW, FROM, [TO])
    assert len(backend.received()) == 1


def test_a_server_that_is_down_fails_the_session_temporarily(backend: Backend) -> None:
    backend.go_down()
    with pytest.raises(TemporaryDeliveryError), backend.session():
        pass


@pytest.mark.parametrize(
    ("mail_from", "rcpt_to"),
    [
        (FROM, []),
        (FROM, ["张三@qq.com"]),
        (FROM, ["a@b.example>\r\nRCPT TO:<c@d"]),
        ("我@x.cn", [TO]),
    ],
)
def test_unusable_envelopes_are_permanent_and_send_nothing(
    backend: Backend, mail_from: str, rcpt_to: list[str]
) -> None:
    with backend.session() as transport, pytest.raises(PermanentDeliveryError):
        transport.send(RAW, mail_from, rcpt_to)
    assert backend.received() == []
