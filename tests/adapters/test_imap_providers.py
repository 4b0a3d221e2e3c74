"""The IMAP adapter against Dovecot playing the providers: IMAP ID, capability-restricted
servers (seen through a logging proxy), Chinese folder names, OAuth2 and refused logins."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from imapclient import imap_utf7

from intake.adapters import imap
from intake.app import App
from intake.core.errors import MailboxLoginRefused, MailboxProtocolError, MailboxUnavailable
from intake.service import health
from tests.conftest import RESTRICTED_CAPABILITY
from tests.helpers import AppFactory, settings_for, submission
from tests.imapproxy import LoggingProxy
from tests.oauthserver import OAuthProvider
from tests.servers import Dovecot, free_port
from tests.smtpserver import SmtpServer

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def plain(dovecot: Dovecot, port: int | None = None, **values: Any) -> dict[str, Any]:
    """Mailbox keys for a plain-text session to ``port`` (a proxy) or the server itself."""
    return {"host": dovecot.host, "port": port or dovecot.port, "security": "none", **values}


def make(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    account: tuple[str, str],
    smtp: SmtpServer | None = None,
    **mailbox: Any,
) -> App:
    settings = settings_for(
        tmp_path, f"sqlite:///{tmp_path}/intake.db", dovecot, account, smtp=smtp, mailbox=mailbox
    )
    return app_factory(settings, clock=lambda: NOW)


def listing(dovecot: Dovecot, account: tuple[str, str]) -> list[str]:
    with dovecot.client(*account) as client:
        return sorted(str(name) for _flags, _delim, name in client.list_folders())


# --------------------------------------------------------------------------- ID


def test_id_is_sent_after_login_when_offered(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    app = make(tmp_path, app_factory, dovecot, imap_account)
    box = app.settings.mailboxes[0]
    with app.mailbox(box) as conn:
        assert conn.identified
        conn.select("INBOX")  # NetEase would answer "Unsafe Login" here without the ID
    user = imap_account[0]
    lines = [line for line in dovecot.log_text().splitlines() if f"imap({user})" in line]
    sent = [line.split("ID sent: ", 1)[1] for line in lines if "ID sent: " in line]
    assert sent == [
        "name=intake, version=0.1.0, vendor=intake, "
        "support-url=https://www.rfc-editor.org/rfc/rfc2971"
    ]


def test_no_id_when_turned_off(tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot) -> None:
    account = dovecot.add_user("noid")
    app = make(tmp_path, app_factory, dovecot, account, imap_id=False)
    with app.mailbox(app.settings.mailboxes[0]) as conn:
        conn.select("INBOX")
        assert not conn.identified
    assert f"imap({account[0]})" not in "".join(
        line for line in dovecot.log_text().splitlines() if "ID sent" in line
    )


# --------------------------------------------------------------------------- capabilities


def test_a_full_server_gets_id_and_move(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    dovecot.append(*imap_account, "INBOX", submission())
    with LoggingProxy(dovecot.port) as proxy:
        app = make(tmp_path, app_factory, dovecot, imap_account, **plain(dovecot, proxy.port))
        result = app.poll_mailbox(app.settings.mailboxes[0])
        with app.mailbox(app.settings.mailboxes[0]) as conn:
            caps = set(conn.capabilities())
        sent = [name for session in proxy.commands() for name in session]
    assert result.new == 1
    assert "ID" in sent and "UID MOVE" in sent and "EXPUNGE" not in sent
    assert proxy.unadvertised(caps | {"STARTTLS"}) == []
    assert dovecot.uids(*imap_account, "INBOX") == []
    assert len(dovecot.uids(*imap_account, "Processed")) == 1


def test_a_restricted_server_gets_only_what_it_advertises(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot_restricted: Dovecot,
    smtp_server: SmtpServer,
) -> None:
    server = dovecot_restricted
    account = server.add_user("bare")
    for n in range(3):
        message = submission(
            sender=f"作者{n} <author{n}@qq.example>",
            subject=f"投稿 {n}",
            body=f"第{n}篇稿件。" * 20,
        )
        server.append(*account, "INBOX", message)
    with LoggingProxy(server.port) as proxy:
        app = make(tmp_path, app_factory, server, account, smtp_server, **plain(server, proxy.port))
        box = app.settings.mailboxes[0]
        result = app.poll_mailbox(box)
        delivery = app.deliver_outbox()  # acknowledgments: SMTP, then a copy in Sent
        with app.mailbox(box) as conn:
            caps = set(conn.capabilities())
            assert not conn.has("IDLE")
            with pytest.raises(MailboxProtocolError, match="has no IDLE"):
                conn.idle_wait(1.0)
            assert conn.sent_folder() == "Sent"  # the \Sent attribute of a plain LIST
        sent = [name for session in proxy.commands() for name in session]
    assert caps == {RESTRICTED_CAPABILITY.upper()}
    assert result.new == 3 and delivery.sent >= 3  # acknowledgments, copyright requests
    # Nothing the server did not advertise: the pre-login list adds STARTTLS and AUTH=.
    assert proxy.unadvertised(caps | {"STARTTLS"}) == []
    for extension in ("ID", "IDLE", "UID MOVE", "MOVE", "UID EXPUNGE", "NAMESPACE", "XLIST"):
        assert extension not in sent
    assert "UID COPY" in sent and "EXPUNGE" in sent  # the fallback for MOVE
    assert server.uids(*account, "INBOX") == []
    assert len(server.uids(*account, "Processed")) == 3
    assert len(server.uids(*account, "Sent")) == delivery.sent


# --------------------------------------------------------------------------- folders


def test_a_chinese_processed_folder_is_created_and_used(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot
) -> None:
    account = dovecot.add_user("zh")
    dovecot.append(*account, "INBOX", submission())
    app = make(tmp_path, app_factory, dovecot, account, processed_folder="已处理投稿")
    assert "已处理投稿" not in listing(dovecot, account)
    result = app.poll_mailbox(app.settings.mailboxes[0])
    assert result.new == 1
    assert "已处理投稿" in listing(dovecot, account)  # decoded from modified UTF-7
    assert "&XfJZBHQGYpV6Pw-" in dovecot.folders(account[0])  # as it crossed the wire
    assert imap_utf7.encode("已处理投稿") == b"&XfJZBHQGYpV6Pw-"
    assert len(dovecot.uids(*account, "已处理投稿")) == 1
    # A second message goes straight there: the folder is found, not created again.
    dovecot.append(*account, "INBOX", submission(subject="第二篇"))
    assert app.poll_mailbox(app.settings.mailboxes[0]).new == 1
    assert len(dovecot.uids(*account, "已处理投稿")) == 2


@pytest.mark.parametrize(
    ("which", "words"),
    [
        (
            "plain",  # security = "tls" to the plain port: the TLS hello gets a plain answer
            "TLS failed with 127.0.0.1:{port}: the server did not answer in TLS "
            '(WRONG_VERSION_NUMBER): security = "tls" needs the server\'s TLS port (usually '
            '993); on this port try security = "starttls"',
        ),
        (
            "closed",
            "cannot connect to 127.0.0.1:{port}: connection refused (is the port right, and "
            "the server up?)",
        ),
    ],
)
def test_a_wrong_port_or_security_is_said_in_words(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    imap_account: tuple[str, str],
    which: str,
    words: str,
) -> None:
    port = {"plain": dovecot.port, "closed": free_port()}[which]
    app = make(tmp_path, app_factory, dovecot, imap_account, port=port)
    box = app.settings.mailboxes[0]
    with pytest.raises(MailboxUnavailable) as caught:
        with app.mailbox(box) as conn:
            conn.select("INBOX")
    assert str(caught.value) == f"mailbox {box.name}: " + words.format(port=box.port)


def test_check_creates_the_processed_folder_and_finds_sent(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot
) -> None:
    account = dovecot.add_user("chk")
    app = make(tmp_path, app_factory, dovecot, account, processed_folder="投稿/已录用")
    box = app.settings.mailboxes[0]
    with app.mailbox(box) as conn:
        first = imap.check(conn)
    with app.mailbox(box) as conn:
        second = imap.check(conn)
    assert (first.processed_created, second.processed_created) == (True, False)
    assert first.sent_folder == "Sent" and first.identified
    assert "投稿/已录用" in listing(dovecot, account)


def test_the_sent_folder_by_its_special_use(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, imap_account: tuple[str, str]
) -> None:
    with LoggingProxy(dovecot.port) as proxy:
        app = make(tmp_path, app_factory, dovecot, imap_account, **plain(dovecot, proxy.port))
        with app.mailbox(app.settings.mailboxes[0]) as conn:
            asked = imap._list_special_use(conn.client)  # RFC 6154's way of asking
            assert conn.sent_folder() == "Sent" == imap._flagged(asked, b"\\Sent")
        sent = proxy.sent()
    assert b'LIST "" "*" RETURN (SPECIAL-USE)' in sent


def test_status_is_not_healthy_while_every_move_fails(
    tmp_path: Path, app_factory: AppFactory, dovecot: Dovecot, caplog: pytest.LogCaptureFixture
) -> None:
    account = dovecot.add_user("nomove")
    dovecot.append(*account, "INBOX", submission())
    # A name the server refuses to create ("Mailbox name too long"): every move fails.
    app = make(tmp_path, app_factory, dovecot, account, processed_folder="稿" * 200)
    with caplog.at_level(logging.WARNING):
        assert app.poll_mailbox(app.settings.mailboxes[0]).new == 1
    assert "could not move 1 messages" in caplog.text
    assert dovecot.uids(*account, "INBOX") != []  # still there: nothing lost
    now = NOW + timedelta(minutes=1)
    assert health.status(app.sessions, app.settings, now).healthy
    later = NOW + timedelta(minutes=10)
    report = health.status(app.sessions, app.settings, later)
    assert not report.healthy
    assert report.mailboxes[0].unmoved == 1
    assert "; 1 message(s) recorded but not moved to 稿稿" in report.problems[0]


# --------------------------------------------------------------------------- OAuth2


def oauth_keys(provider: OAuthProvider, token_file: Path) -> dict[str, Any]:
    return {
        "password": None,
        "auth": "oauth2",
        "oauth_token_url": provider.token_url,
        "oauth_client_id": "intake-test",
        "oauth_refresh_token_file": str(token_file),
    }


def oauth_app(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    user: str,
    provider: OAuthProvider,
    **mailbox: Any,
) -> App:
    token_file = tmp_path / "oauth" / "submissions.token"
    token_file.parent.mkdir(exist_ok=True)
    token_file.write_text(provider.grant(user) + "\n")
    data = {"name": "submissions", "username": user, "timeout": 10.0, **plain(dovecot)}
    data.update(oauth_keys(provider, token_file))
    data.update(mailbox)
    from intake.core import configfile

    settings = configfile.from_mapping(
        {
            "database": {"url": f"sqlite:///{tmp_path}/intake.db"},
            "storage": {"path": str(tmp_path / "store")},
            "mailboxes": [{k: v for k, v in data.items() if v is not None}],
        },
        env={},
    )
    return app_factory(settings, clock=lambda: NOW)


def test_xoauth2_login_refreshes_rotates_and_survives_a_revoked_token(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    oauth_provider: OAuthProvider,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user, _password = dovecot.add_user("oauth")
    with caplog.at_level(logging.DEBUG), LoggingProxy(dovecot.port) as proxy:
        app = oauth_app(
            tmp_path, app_factory, dovecot, user, oauth_provider, **plain(dovecot, proxy.port)
        )
        box = app.settings.mailboxes[0]
        token_file = Path(box.oauth_refresh_token_file)
        first = token_file.read_text().strip()
        with app.mailbox(box) as conn:
            conn.select("INBOX")
        rotated = token_file.read_text().strip()
        # The provider rotated the refresh token: saved, 0600, the old one dead.
        assert rotated != first and oauth_provider.valid_refresh_tokens(user) == [rotated]
        assert os.stat(token_file).st_mode & 0o777 == 0o600
        # A second connection reuses the cached access token: no refresh.
        with app.mailbox(box) as conn:
            conn.select("INBOX")
        assert oauth_provider.refreshes.count(user) == 1
        # The provider revokes it early: the login is refused, refreshed once, tried again.
        oauth_provider.revoke_access()
        with app.mailbox(box) as conn:
            conn.select("INBOX")
        assert oauth_provider.refreshes.count(user) == 2
        sent = proxy.sent()
    assert sent.count(b"AUTHENTICATE XOAUTH2") == 4 and b" LOGIN " not in sent
    for token in oauth_provider.access:  # access tokens are never logged
        assert token not in caplog.text
    assert rotated not in caplog.text


def test_oauthbearer_where_xoauth2_is_not_offered(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot_restricted: Dovecot,
    oauth_provider: OAuthProvider,
) -> None:
    user, _password = dovecot_restricted.add_user("bearer")
    with LoggingProxy(dovecot_restricted.port) as proxy:
        app = oauth_app(
            tmp_path, app_factory, dovecot_restricted, user, oauth_provider,
            **plain(dovecot_restricted, proxy.port),
        )  # fmt: skip
        with app.mailbox(app.settings.mailboxes[0]) as conn:
            assert conn.select("INBOX").exists == 0
        sent = proxy.sent()
    assert b"AUTHENTICATE OAUTHBEARER" in sent and b"XOAUTH2" not in sent


def test_a_revoked_refresh_token_is_a_refused_login(
    tmp_path: Path,
    app_factory: AppFactory,
    dovecot: Dovecot,
    oauth_provider: OAuthProvider,
) -> None:
    user, _password = dovecot.add_user("revoked")
    app = oauth_app(tmp_path, app_factory, dovecot, user, oauth_provider)
    box = app.settings.mailboxes[0]
    oauth_provider.revoke(Path(box.oauth_refresh_token_file).read_text().strip())
    with pytest.raises(MailboxLoginRefused) as refused:
        app.mailbox(box).connect()
    assert "invalid_grant" in str(refused.value) and refused.value.fresh
    report = health.status(app.sessions, app.settings, NOW)
    assert any(
        f"imap login {user} at {dovecot.host}: refused 1 time(s)" in p and "invalid_grant" in p
        for p in report.problems
    ), report.problems
