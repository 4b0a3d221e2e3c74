"""SmtpSender against a real aiosmtpd server: exact bytes, one connection per batch, and how
each kind of failure is classified."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.adapters.smtp import SmtpSender, check_login
from intake.core.config import Secret, SmtpConfig
from intake.core.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from tests.smtpserver import HOST, Certificate, SmtpServer, make_certificate

FROM = "tougao@example.com"
TO = "zhangsan@qq.com"
# A line starting with a dot (dot-stuffed on the wire) and UTF-8 text: both must come through
# byte for byte.
RAW = (
    "From: tougao@example.com\r\nTo: zhangsan@qq.com\r\nSubject: test\r\n"
    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    ".leading dot\r\n..two dots\r\n收稿回执\r\n"
).encode()
PASSWORD = "s3cret-never-shown"


def config(server: SmtpServer, **overrides: object) -> SmtpConfig:
    values: dict[str, object] = {
        "host": HOST,
        "port": server.port,
        "from_address": FROM,
        "security": server.security,
        "ca_file": server.ca_file,
        "timeout": 5.0,
    }
    values.update(overrides)
    return SmtpConfig(**values)  # type: ignore[arg-type]


def sender(server: SmtpServer, password: str = "", **overrides: object) -> SmtpSender:
    return SmtpSender(config(server, **overrides), password, local_hostname="intake.test")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def stranger(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A certificate from some other CA than the server's."""
    return make_certificate(tmp_path_factory.mktemp("other"), "other")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never says a word."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_sends_the_exact_bytes(smtp_server: SmtpServer) -> None:
    with sender(smtp_server) as smtp:
        smtp.send(RAW, FROM, [TO])
    (got,) = smtp_server.wait_for(1)
    assert got.data == RAW
    assert got.mail_from == FROM
    assert got.rcpt_tos == (TO,)
    assert got.login == ""


def test_a_batch_uses_one_connection(smtp_server: SmtpServer) -> None:
    with sender(smtp_server) as smtp:
        for i in range(3):
            smtp.send(RAW, FROM, [f"author{i}@163.com"])
    got = smtp_server.wait_for(3)
    assert len({m.connection for m in got}) == 1
    assert [m.rcpt_tos for m in got] == [(f"author{i}@163.com",) for i in range(3)]


def test_4xx_after_data_is_temporary_and_the_connection_goes_on(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("451 4.3.0 try later")
    with sender(smtp_server) as smtp:
        with pytest.raises(TemporaryDeliveryError) as caught:
            smtp.send(RAW, FROM, [TO])
        smtp.send(RAW, FROM, [TO])
    assert caught.value.code == 451
    assert "451 4.3.0 try later" in str(caught.value)
    assert len(smtp_server.wait_for(1)) == 1


def test_5xx_after_data_is_permanent(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("554 5.7.1 message refused")
    with sender(smtp_server) as smtp, pytest.raises(PermanentDeliveryError) as caught:
        smtp.send(RAW, FROM, [TO])
    assert caught.value.code == 554
    assert "5.7.1 message refused" in str(caught.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("550 5.1.1 no such user", PermanentDeliveryError),
        ("452 4.2.2 mailbox full", TemporaryDeliveryError),
    ],
)
def test_refused_recipient(smtp_server: SmtpServer, reply: str, error: type[DeliveryError]) -> None:
    smtp_server.fail_next(reply, stage="RCPT")
    with sender(smtp_server) as smtp, pytest.raises(error) as caught:
        smtp.send(RAW, FROM, [TO])
    assert caught.value.code == int(reply[:3])
    assert TO in str(caught.value) and reply[4:] in str(caught.value)


def test_partly_refused_is_permanent_so_nobody_gets_it_twice(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next("450 4.2.1 busy", stage="RCPT")
    with sender(smtp_server) as smtp, pytest.raises(PermanentDeliveryError) as caught:
        smtp.send(RAW, FROM, ["first@126.com", "second@126.com"])
    assert "accepted for 1 other" in str(caught.value)
    assert smtp_server.wait_for(1)[0].rcpt_tos == ("second@126.com",)


def test_dropped_during_data_is_temporary_and_the_next_message_reconnects(
    smtp_server: SmtpServer,
) -> None:
    with sender(smtp_server) as smtp:
        smtp.send(RAW, FROM, [TO])
        smtp_server.drop_next()
        with pytest.raises(TemporaryDeliveryError) as caught:
            smtp.send(RAW, FROM, [TO])
        smtp.send(RAW, FROM, [TO])
    assert caught.value.code is None
    first, second = smtp_server.wait_for(2)
    assert first.connection != second.connection


def test_server_down_is_temporary_then_up_again(smtp_server: SmtpServer) -> None:
    smtp_server.stop()
    with pytest.raises(TemporaryDeliveryError, match="connection refused"):
        with sender(smtp_server):
            pass
    smtp_server.start()
    with sender(smtp_server) as smtp:
        smtp.send(RAW, FROM, [TO])
    assert smtp_server.wait_for(1)[0].data == RAW


def test_server_gone_mid_batch_fails_the_rest_at_once(smtp_server: SmtpServer) -> None:
    with sender(smtp_server) as smtp:
        smtp.send(RAW, FROM, [TO])
        smtp_server.stop()
        with pytest.raises(TemporaryDeliveryError, match="closed by the server"):
            smtp.send(RAW, FROM, [TO])
        with pytest.raises(TemporaryDeliveryError, match="connection refused"):
            smtp.send(RAW, FROM, [TO])  # one reconnect attempt
        with pytest.raises(TemporaryDeliveryError, match="earlier in this batch"):
            smtp.send(RAW, FROM, [TO])  # no further attempts in this batch


def test_timeout_is_temporary(silent_port: int) -> None:
    cfg = SmtpConfig(host=HOST, port=silent_port, from_address=FROM, security="none", timeout=0.2)
    with pytest.raises(TemporaryDeliveryError, match="timed out"):
        check_login(cfg, "")


def test_starttls_with_ca_verification(certificate: Certificate) -> None:
    with SmtpServer(security="starttls", certificate=certificate) as server:
        with sender(server, host="localhost") as smtp:
            smtp.send(RAW, FROM, [TO])
        assert server.wait_for(1)[0].data == RAW


def test_implicit_tls_with_ca_verification(certificate: Certificate) -> None:
    with SmtpServer(security="tls", certificate=certificate) as server:
        with sender(server) as smtp:
            smtp.send(RAW, FROM, [TO])
        assert server.wait_for(1)[0].data == RAW


@pytest.mark.parametrize("security", ["tls", "starttls"])
@pytest.mark.parametrize("trust", ["other CA", "system CAs"])
def test_an_unverifiable_certificate_is_a_temporary_configuration_error(
    certificate: Certificate, stranger: Certificate, security: str, trust: str
) -> None:
    ca_file = stranger.ca_file if trust == "other CA" else ""
    with SmtpServer(security=security, certificate=certificate) as server:  # type: ignore[arg-type]
        with pytest.raises(TemporaryDeliveryError) as caught:
            check_login(config(server, ca_file=ca_file), "")
    assert "certificate verification failed" in str(caught.value)
    assert "smtp.ca_file" in str(caught.value)


def test_tls_to_a_plain_port_names_the_fix(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporaryDeliveryError) as caught:
        check_login(config(smtp_server, security="tls"), "")
    assert "the server did not answer in TLS (WRONG_VERSION_NUMBER)" in str(caught.value)
    assert 'usually 465); on this port try security = "starttls"' in str(caught.value)


def test_a_login_to_a_server_without_auth_says_how_to_send_without_one(
    smtp_server: SmtpServer,
) -> None:
    # A provider's mailbox lends [smtp] its login; a local relay takes mail without one.
    with pytest.raises(TemporaryDeliveryError) as caught:
        check_login(config(smtp_server, username="tougao"), PASSWORD)
    assert "the server offers no AUTH PLAIN or LOGIN" in str(caught.value)
    assert 'set smtp.username = "")' in str(caught.value)
    check_login(config(smtp_server, username=""), "")


def test_starttls_not_offered_is_temporary(smtp_server: SmtpServer) -> None:
    with pytest.raises(TemporaryDeliveryError, match="STARTTLS"):
        check_login(config(smtp_server, security="starttls"), "")


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_auth(certificate: Certificate, security: str) -> None:
    users = {"tougao": PASSWORD}
    with SmtpServer(security=security, certificate=certificate, users=users) as server:  # type: ignore[arg-type]
        check_login(config(server, username="tougao"), PASSWORD)
        with sender(server, PASSWORD, username="tougao") as smtp:
            smtp.send(RAW, FROM, [TO])
        (got,) = server.wait_for(1)
    assert (got.data, got.login) == (RAW, "tougao")


def test_wrong_password_is_temporary_and_never_shown(certificate: Certificate) -> None:
    with SmtpServer(security="tls", certificate=certificate, users={"tougao": "right"}) as server:
        cfg = config(server, username="tougao", password=Secret(PASSWORD))
        with pytest.raises(TemporaryDeliveryError) as caught:
            check_login(cfg, PASSWORD)
        with pytest.raises(TemporaryDeliveryError):
            with SmtpSender(cfg, PASSWORD):
                pass
    assert caught.value.code == 535
    assert "AUTH" in str(caught.value)
    assert PASSWORD not in str(caught.value) and PASSWORD not in repr(caught.value.__cause__)


def test_a_non_ascii_password_is_a_configuration_error(smtp_server: SmtpServer) -> None:
    # smtplib encodes AUTH as ASCII; say so instead of failing with a UnicodeEncodeError.
    with pytest.raises(TemporaryDeliveryError, match="must be ASCII") as caught:
        check_login(config(smtp_server, username="tougao"), "密码")
    assert "密码" not in str(caught.value)


def test_addresses_smtp_cannot_carry_are_permanent(smtp_server: SmtpServer) -> None:
    with sender(smtp_server) as smtp:
        for rcpt in (["张三@例子.中国"], [], ["a@b.com\r\nRCPT TO:<x@y.com>"]):
            with pytest.raises(PermanentDeliveryError):
                smtp.send(RAW, FROM, rcpt)
        smtp.send(RAW, FROM, [TO])
    assert len(smtp_server.wait_for(1)) == 1


def test_a_large_message_arrives_intact(smtp_server: SmtpServer, tmp_path: Path) -> None:
    body = b"".join(b"%06d " % i + b"x" * 69 + b"\r\n" for i in range(40_000))  # about 3 MB
    raw = RAW + body
    with sender(smtp_server) as smtp:
        smtp.send(raw, FROM, [TO])
    assert smtp_server.wait_for(1)[0].data == raw
