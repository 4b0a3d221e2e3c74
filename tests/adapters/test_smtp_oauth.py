"""SMTP with OAuth2 (XOAUTH2, OAUTHBEARER) against aiosmtpd with a bearer-token AUTH handler,
and the token source against the local token endpoint."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.adapters.logins import Logins
from intake.adapters.oauth import TokenSource
from intake.adapters.smtp import SmtpSender
from intake.core.config import SmtpConfig
from intake.core.errors import OAuthError, SmtpLoginRefused
from tests.oauthserver import OAuthProvider
from tests.smtpserver import HOST, SmtpServer

USER = "tougao@outlook.example"
RAW = b"From: tougao@outlook.example\r\nTo: a@qq.com\r\nSubject: t\r\n\r\nbody\r\n"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def config(server: SmtpServer, provider: OAuthProvider, token_file: Path) -> SmtpConfig:
    return SmtpConfig(
        host=HOST,
        port=server.port,
        security="none",
        from_address=USER,
        username=USER,
        auth="oauth2",
        oauth_token_url=provider.token_url,
        oauth_client_id="intake-test",
        oauth_refresh_token_file=str(token_file),
        timeout=5.0,
    )


@pytest.fixture
def token_file(tmp_path: Path, oauth_provider: OAuthProvider) -> Path:
    path = tmp_path / "smtp.token"
    path.write_text(oauth_provider.grant(USER) + "\n")
    return path


@pytest.fixture
def oauth_smtp(oauth_provider: OAuthProvider) -> Iterator[SmtpServer]:
    with SmtpServer(oauth=oauth_provider.access.get) as server:
        yield server


def test_xoauth2_sends_and_refreshes_after_a_refusal(
    oauth_smtp: SmtpServer,
    oauth_provider: OAuthProvider,
    token_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    cfg = config(oauth_smtp, oauth_provider, token_file)
    tokens = TokenSource(cfg)
    # The provider lives for the whole session and other tests log in as USER too: count
    # this test's refreshes only, whatever ran before it.
    before = oauth_provider.refreshes.count(USER)
    with caplog.at_level(logging.DEBUG):
        with SmtpSender(cfg, tokens=tokens) as smtp:
            smtp.send(RAW, USER, ["a@qq.com"])
        oauth_provider.revoke_access()  # the server now refuses the cached token
        with SmtpSender(cfg, tokens=tokens) as smtp:
            smtp.send(RAW, USER, ["a@qq.com"])
    received = oauth_smtp.wait_for(2)
    assert [m.login for m in received] == [USER, USER]
    assert oauth_smtp.mechanisms == ["XOAUTH2", "XOAUTH2"]
    assert oauth_smtp.auth_attempts == 3  # the refused token, then the refreshed one
    assert oauth_provider.refreshes.count(USER) - before == 2
    for token in oauth_provider.access:
        assert token not in caplog.text


def test_oauthbearer_where_xoauth2_is_not_offered(
    oauth_provider: OAuthProvider, token_file: Path
) -> None:
    with SmtpServer(oauth=oauth_provider.access.get, exclude=("XOAUTH2",)) as server:
        cfg = config(server, oauth_provider, token_file)
        with SmtpSender(cfg, tokens=TokenSource(cfg)) as smtp:
            smtp.send(RAW, USER, ["a@qq.com"])
        assert [m.login for m in server.wait_for(1)] == [USER]
        assert server.mechanisms == ["OAUTHBEARER"]


def test_a_revoked_grant_is_a_refused_login_that_waits(
    oauth_smtp: SmtpServer, oauth_provider: OAuthProvider, token_file: Path
) -> None:
    cfg = config(oauth_smtp, oauth_provider, token_file)
    oauth_provider.revoke(token_file.read_text().strip())
    clock = Clock()
    logins = Logins(300.0, monotonic=clock)
    tokens = TokenSource(cfg)
    with pytest.raises(SmtpLoginRefused) as first:
        SmtpSender(cfg, tokens=tokens, logins=logins).__enter__()
    assert first.value.fresh and "invalid_grant" in str(first.value)
    assert oauth_smtp.auth_attempts == 0  # no token, so nothing was tried at the server
    clock.now = 29.0
    with pytest.raises(SmtpLoginRefused) as waiting:
        SmtpSender(cfg, tokens=tokens, logins=logins).__enter__()
    assert not waiting.value.fresh and waiting.value.retry_in == pytest.approx(1.0)
    # The admin signs in again: a new refresh token opens the gate at once.
    token_file.write_text(oauth_provider.grant(USER) + "\n")
    with SmtpSender(cfg, tokens=tokens, logins=logins) as smtp:
        smtp.send(RAW, USER, ["a@qq.com"])
    assert logins.refusal(USER) is None


def test_token_source_keeps_a_rotated_token_it_cannot_save(
    oauth_provider: OAuthProvider, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    readonly = tmp_path / "ro"
    readonly.mkdir()
    path = readonly / "t"
    path.write_text(oauth_provider.grant(USER))
    readonly.chmod(0o500)
    try:
        cfg = SmtpConfig(
            host=HOST, from_address=USER, username=USER, auth="oauth2",
            oauth_token_url=oauth_provider.token_url, oauth_client_id="intake-test",
            oauth_refresh_token_file=str(path),
        )  # fmt: skip
        now = Clock()
        tokens = TokenSource(cfg, monotonic=now)
        with caplog.at_level(logging.WARNING):
            first = tokens.token()
            now.now = 3600.0  # expired: refreshed with the rotated token kept in memory
            second = tokens.token()
    finally:
        readonly.chmod(0o700)
    assert first != second
    if __import__("os").geteuid() != 0:  # root writes through 0500 anyway
        assert "cannot save the rotated refresh token" in caplog.text


def test_the_token_endpoint_must_be_https(tmp_path: Path) -> None:
    from intake.adapters.oauth import post_form
    from intake.core.errors import ConfigError

    with pytest.raises(ConfigError, match="must be an https:// address"):
        post_form("http://login.example.com/token", {})
    with pytest.raises(OAuthError, match="token endpoint 127.0.0.1:1"):
        post_form("http://127.0.0.1:1/token", {})
