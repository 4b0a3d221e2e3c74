"""The real-server fixtures work: Dovecot over plain, STARTTLS and IMAPS, PostgreSQL via
SQLAlchemy, and CPython's email test data."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
import sqlalchemy as sa
from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from tests.servers import Dovecot, Postgres

# CRLF line ends, 8-bit GBK text and trailing spaces: anything a server might "fix" on the way.
RAW = (
    b"From: =?gb2312?B?1cXI/Q==?= <zhangsan@qq.com>\r\n"
    b"To: tougao@example.com\r\n"
    b"Subject: test \r\n"
    b"Content-Type: text/plain; charset=gb2312\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n" + "投稿：春天的故事 \r\n".encode("gbk") + b"-- \r\n"
)


def test_login_over_plain_starttls_and_imaps_verifies_the_ca(
    dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    for security in ("none", "starttls", "tls"):
        with dovecot.client(*imap_account, security=security) as imap:
            assert imap.select_folder("INBOX")[b"EXISTS"] == 0

    # The certificate is really checked: a context that does not trust it refuses the server.
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, port=dovecot.tls_port, ssl=True, timeout=10)


def test_a_wrong_password_does_not_slow_later_logins(
    dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    user, _ = imap_account
    with pytest.raises(LoginError):
        dovecot.client(user, "wrong")
    # anvil keeps no penalty against 127.0.0.1, which would delay each later login by 2-15 s.
    assert dovecot.penalties() == []
    dovecot.client(*imap_account).logout()


def test_append_returns_the_uid_and_body_peek_returns_exact_bytes(
    dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    first = dovecot.append(*imap_account, "INBOX", RAW)
    second = dovecot.append(*imap_account, "INBOX", RAW + b"\r\n", flags=[r"\Flagged"])
    assert second > first
    assert dovecot.uids(*imap_account, "INBOX") == [first, second]
    with dovecot.client(*imap_account) as imap:
        imap.select_folder("INBOX", readonly=True)
        fetched = imap.fetch([first, second], ["BODY.PEEK[]", "FLAGS"])
    assert fetched[first][b"BODY[]"] == RAW
    assert rb"\Flagged" in fetched[second][b"FLAGS"]
    assert rb"\Seen" not in fetched[first][b"FLAGS"]


def test_accounts_are_isolated_and_folders_auto_created(dovecot: Dovecot) -> None:
    alice, bob = dovecot.add_user("alice"), dovecot.add_user("bob")
    assert alice[0] != bob[0]
    dovecot.append(*alice, "Processed", RAW)
    assert dovecot.uids(*bob, "Processed") == []
    with dovecot.client(*bob) as imap:
        names = {name for _, _, name in imap.list_folders()}
    assert {"INBOX", "Processed", "Sent", "Failed"} <= names


def test_restart_keeps_ports_and_mail(dovecot: Dovecot, imap_account: tuple[str, str]) -> None:
    uid = dovecot.append(*imap_account, "INBOX", RAW)
    ports = dovecot.port, dovecot.tls_port
    before = dovecot.uidvalidity(imap_account[0], "INBOX")
    dovecot.restart()
    assert (dovecot.port, dovecot.tls_port) == ports
    assert dovecot.uids(*imap_account, "INBOX") == [uid]
    assert dovecot.uidvalidity(imap_account[0], "INBOX") == before


def test_change_uidvalidity_keeps_the_messages(
    dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    user, _ = imap_account
    uid = dovecot.append(*imap_account, "INBOX", RAW)
    before = dovecot.uidvalidity(user, "INBOX")
    after = dovecot.change_uidvalidity(user, "INBOX")
    assert after > before
    with dovecot.client(*imap_account) as imap:
        assert imap.select_folder("INBOX", readonly=True)[b"UIDVALIDITY"] == after
        assert imap.fetch([uid], ["BODY.PEEK[]"])[uid][b"BODY[]"] == RAW


@pytest.mark.postgres
def test_postgres_databases_are_separate(postgres: Postgres) -> None:
    first, second = postgres.new_database(), postgres.new_database()
    assert first != second
    assert first.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/")
    engine = sa.create_engine(first)
    other = sa.create_engine(second)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x text)"))
        with other.connect() as conn:
            assert conn.execute(sa.text("SELECT to_regclass('t')")).scalar() is None
    finally:
        engine.dispose()
        other.dispose()


def test_db_url_round_trips_chinese_text(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE t (x varchar(20))"))
            conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": "春天的故事"})
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT x FROM t")).scalar() == "春天的故事"
    finally:
        engine.dispose()


def test_cpython_email_data_is_found(cpython_email_data: Path) -> None:
    assert (cpython_email_data / "msg_01.txt").is_file()
    assert len(list(cpython_email_data.glob("msg_*.txt"))) >= 40
