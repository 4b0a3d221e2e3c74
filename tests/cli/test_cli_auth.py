"""`intake auth login`: the device-code flow and the browser flow against the local OAuth2
provider, ending in a refresh token file and a working XOAUTH2 login to Dovecot."""

from __future__ import annotations

import os
import re
import threading
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from intake.adapters import oauth
from intake.cli import cli
from intake.core import configfile
from tests.oauthserver import OAuthProvider
from tests.servers import Dovecot


def write_config(tmp_path: Path, dovecot: Dovecot, user: str, provider: OAuthProvider) -> Path:
    path = tmp_path / "intake.toml"
    path.write_text(
        f"""
[database]
url = "sqlite:///{tmp_path}/intake.db"
[storage]
path = "{tmp_path}/store"
[[mailboxes]]
name = "submissions"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "{user}"
auth = "oauth2"
oauth_client_id = "intake-test"
oauth_token_url = "{provider.token_url}"
oauth_device_url = "{provider.url}/devicecode"
oauth_authorize_url = "{provider.url}/authorize"
oauth_scope = "mail offline_access"
oauth_refresh_token_file = "{tmp_path}/oauth/submissions.token"
""",
        encoding="utf-8",
    )
    return path


def test_device_login_stores_the_refresh_token_and_signs_in(
    tmp_path: Path, dovecot: Dovecot, oauth_provider: OAuthProvider
) -> None:
    user, _password = dovecot.add_user("device")
    path = write_config(tmp_path, dovecot, user, oauth_provider)
    result: list[object] = []

    def run() -> None:
        result.append(CliRunner().invoke(cli, ["--config", str(path), "auth", "login",
                                               "submissions"]))  # fmt: skip

    thread = threading.Thread(target=run)
    thread.start()
    # The admin reads the code off the terminal and types it in at the provider.
    deadline = time.monotonic() + 10
    while not oauth_provider.pending_user_codes() and time.monotonic() < deadline:
        time.sleep(0.01)
    (code,) = oauth_provider.pending_user_codes()
    oauth_provider.approve(code, user)
    thread.join(20)
    (done,) = result
    output = done.output  # type: ignore[attr-defined]
    assert done.exit_code == 0, output  # type: ignore[attr-defined]
    assert f"enter the code {code}" in output and f"{oauth_provider.url}/device" in output
    token_file = tmp_path / "oauth" / "submissions.token"
    assert f"saved the refresh token of {user} to {token_file} (mode 0600)" in output
    assert f"imap submissions: ok (signed in as {user} with OAuth2)" in output
    assert os.stat(token_file).st_mode & 0o777 == 0o600
    assert token_file.read_text().strip() in oauth_provider.valid_refresh_tokens(user)
    assert token_file.read_text().strip() not in output


def test_browser_login_with_pkce_and_a_loopback_redirect(
    tmp_path: Path, dovecot: Dovecot, oauth_provider: OAuthProvider
) -> None:
    user, _password = dovecot.add_user("browser")
    settings = configfile.load(write_config(tmp_path, dovecot, user, oauth_provider), env={})
    box = settings.mailboxes[0]
    said: list[str] = []

    def announce(text: str) -> None:
        said.append(text)
        url = re.search(r"(http://\S+/authorize\?\S+)", text)
        assert url is not None
        # The admin's browser: signs in, is sent back to 127.0.0.1 with the code.
        threading.Thread(target=lambda: urllib.request.urlopen(url.group(1)).read()).start()

    grant = oauth.browser_login(box, announce=announce, timeout=20)
    assert grant.refresh_token in oauth_provider.valid_refresh_tokens(user)
    form = oauth_provider.forms[-1]
    assert form["grant_type"] == "authorization_code" and len(form["code_verifier"]) >= 43
    assert "code_challenge_method=S256" in said[0] and "login_hint=" in said[0]


def test_auth_login_refuses_a_password_mailbox(tmp_path: Path, dovecot: Dovecot) -> None:
    path = tmp_path / "intake.toml"
    path.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path}/i.db"\n[storage]\npath = "{tmp_path}/s"\n'
        f'[[mailboxes]]\nname = "m"\nhost = "h"\nusername = "u"\npassword = "p"\n'
    )
    done = CliRunner().invoke(cli, ["--config", str(path), "auth", "login", "m"])
    assert done.exit_code == 1
    assert 'mailbox m logs in with a password (set auth = "oauth2")' in done.output
