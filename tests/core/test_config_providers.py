"""Providers, logins and paths in the configuration: presets that explicit keys override,
secrets read only by the commands that talk to mail servers, absolute paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from intake.core import config, configfile, credentials
from intake.core.errors import ConfigError
from intake.core.providers import PROVIDERS


def box(**values: Any) -> dict[str, Any]:
    """A [[mailboxes]] table; a key given as None is left out."""
    table = {"name": "submissions", "username": "tougao@qq.com", "password": "code", **values}
    return {k: v for k, v in table.items() if v is not None}


def load(*boxes: dict[str, Any], **sections: Any) -> config.Settings:
    return configfile.from_mapping({"mailboxes": list(boxes), **sections}, env={})


# (provider, IMAP host, port, security, SMTP host, SMTP port, SMTP security, auth)
PRESETS = [
    ("qq", "imap.qq.com", 993, "tls", "smtp.qq.com", 465, "tls", "password"),
    ("exmail", "imap.exmail.qq.com", 993, "tls", "smtp.exmail.qq.com", 465, "tls", "password"),
    ("163", "imap.163.com", 993, "tls", "smtp.163.com", 465, "tls", "password"),
    ("126", "imap.126.com", 993, "tls", "smtp.126.com", 465, "tls", "password"),
    ("yeah", "imap.yeah.net", 993, "tls", "smtp.yeah.net", 465, "tls", "password"),
    ("aliyun", "imap.aliyun.com", 993, "tls", "smtp.aliyun.com", 465, "tls", "password"),
    ("sina", "imap.sina.com", 993, "tls", "smtp.sina.com", 465, "tls", "password"),
    (
        "outlook", "outlook.office365.com", 993, "tls", "smtp.office365.com", 587, "starttls",
        "oauth2",
    ),
    ("gmail", "imap.gmail.com", 993, "tls", "smtp.gmail.com", 465, "tls", "oauth2"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "host", "port", "security", "smtp_host", "smtp_port", "smtp_security", "auth"),
    PRESETS,
)
def test_provider_fills_both_sides(
    name: str,
    host: str,
    port: int,
    security: str,
    smtp_host: str,
    smtp_port: int,
    smtp_security: str,
    auth: str,
) -> None:
    user = f"tougao@{name}.example"
    login: dict[str, Any] = {"password": "code"}
    if auth == "oauth2":
        login = {"oauth_client_id": "cid", "oauth_refresh_token_file": "/var/lib/intake/t"}
    settings = load(
        {"name": "s", "provider": name, "username": user, **login},
        smtp={"from_address": f"投稿 <{user}>"},
    )
    mb = settings.mailboxes[0]
    assert (mb.host, mb.port, mb.security, mb.auth) == (host, port, security, auth)
    assert mb.sent_folder == "auto" and mb.imap_id
    smtp = settings.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.security) == (smtp_host, smtp_port, smtp_security)
    assert (smtp.username, smtp.auth, smtp.provider) == (user, auth, name)
    if auth == "oauth2":
        assert smtp.oauth_client_id == "cid" and smtp.oauth_token_url.startswith("https://")
        assert mb.oauth_scope == PROVIDERS[name].oauth.scope  # type: ignore[union-attr]
    else:
        assert smtp.password is not None and smtp.password.reveal() == "code"


def test_every_provider_has_a_row_in_the_table_above() -> None:
    assert {row[0] for row in PRESETS} | {"custom"} == set(PROVIDERS)


def test_explicit_keys_win_over_the_preset() -> None:
    settings = load(
        box(provider="exmail", host="imap.exmail.example", port=143, security="starttls",
            sent_folder="已发送", imap_id=False),
        smtp={"from_address": "tougao@qq.com", "port": 587, "security": "starttls"},
    )  # fmt: skip
    mb = settings.mailboxes[0]
    assert (mb.host, mb.port, mb.security, mb.sent_folder, mb.imap_id) == (
        "imap.exmail.example", 143, "starttls", "已发送", False,
    )  # fmt: skip
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port) == ("smtp.exmail.qq.com", 587)


def test_smtp_keeps_its_own_login_when_it_gives_one() -> None:
    settings = load(
        box(provider="163", username="tougao@163.com"),
        smtp={"from_address": "fagao@163.com", "username": "fagao@163.com",
              "password_env": "OTHER"},
    )  # fmt: skip
    assert settings.smtp is not None
    assert settings.smtp.username == "fagao@163.com"
    assert settings.smtp.password is None and settings.smtp.password_env == "OTHER"


def test_an_empty_smtp_username_sends_through_a_relay_without_a_login() -> None:
    settings = load(
        box(provider="qq"),
        smtp={"host": "127.0.0.1", "port": 25, "security": "none", "username": "",
              "from_address": "tougao@qq.com"},
    )  # fmt: skip
    assert settings.smtp is not None
    assert (settings.smtp.host, settings.smtp.port, settings.smtp.username) == ("127.0.0.1", 25, "")


def test_custom_smtp_assumes_nothing() -> None:
    settings = load(box(host="imap.example"), smtp={"host": "relay", "from_address": "a@b.c"})
    assert settings.smtp is not None
    assert settings.smtp.username == "" and settings.smtp.password is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mailboxes": [box()]}, "mailboxes[0].host: missing required key (or set provider)"),
        (
            {"mailboxes": [box(provider="hotmail")]},
            "mailboxes[0].provider: expected one of custom | qq",
        ),
        (
            {"mailboxes": [box(provider="qq")], "smtp": {"from_address": "boss@qq.com"}},
            "smtp.from_address: QQ Mail refuses to send From boss@qq.com",
        ),
        (
            {
                "mailboxes": [box(provider="126", username="a@126.com")],
                "smtp": {"from_address": "Desk <desk@news.example>"},
            },
            "smtp.from_address: NetEase 126 Mail refuses",
        ),
        (
            {"mailboxes": [box(provider="outlook", username="a@outlook.com", password=None)]},
            'mailboxes[0].oauth_client_id: auth = "oauth2" needs the client id',
        ),
        (
            {"mailboxes": [box(provider="gmail", username="a@gmail.com", oauth_client_id="x")]},
            'mailboxes[0].password: not used with auth = "oauth2"',
        ),
        (
            {
                "mailboxes": [
                    box(
                        host="h",
                        auth="oauth2",
                        oauth_client_id="x",
                        password=None,
                        oauth_refresh_token="r",
                        oauth_refresh_token_env="R",
                    )
                ]
            },
            "mailboxes[0].oauth_refresh_token: give only one of",
        ),  # fmt: skip
        (
            {"mailboxes": [box(host="h", auth="oauth2", oauth_client_id="x", password=None)]},
            "mailboxes[0].oauth_token_url: missing (or set provider)",
        ),
        (
            {"mailboxes": [box(host="h", auth="kerberos")]},
            "mailboxes[0].auth: expected one of password | oauth2",
        ),
        (
            {"mailboxes": [box(host="h")], "database": {"url": "sqlite:///var/lib/intake/i.db"}},
            "database.url: the SQLite path 'var/lib/intake/i.db' is relative",
        ),
        (
            {"mailboxes": [box(host="h")], "database": {"url": "sqlite+pysqlite:///i.db?x=1"}},
            "database.url: the SQLite path 'i.db' is relative",
        ),
        (
            {"mailboxes": [box(host="h")], "storage": {"path": "var/lib/intake/store"}},
            "storage.path: 'var/lib/intake/store' is relative",
        ),
        (
            {"mailboxes": [box(host="h")], "daemon": {"metrics_address": "9464"}},
            "daemon.metrics_address: expected HOST:PORT",
        ),
    ],
)
def test_bad_logins_and_paths_name_the_key(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        configfile.from_mapping(data, env={})
    assert str(info.value).startswith(message), str(info.value)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////var/lib/intake/intake.db", "/var/lib/intake/intake.db"),
        ("sqlite:///var/lib/intake/intake.db", "var/lib/intake/intake.db"),
        ("sqlite:///intake.db?timeout=5", "intake.db"),
        ("sqlite+pysqlite:////srv/i.db", "/srv/i.db"),
        ("sqlite://", ""),
        ("sqlite:///:memory:", ":memory:"),
        ("postgresql+psycopg://intake@db/intake", None),
        ("not a url", None),
    ],
)
def test_sqlite_path(url: str, path: str | None) -> None:
    assert config.sqlite_path(url) == path


def test_loading_reads_no_secret(tmp_path: Path) -> None:
    # An editor cannot read the service's credentials; `intake list` must load all the same.
    locked = tmp_path / "locked"
    settings = load(
        box(host="h", password=None, password_file=str(locked / "imap-password")),
        smtp={"host": "s", "from_address": "a@b.c", "username": "u", "password_env": "UNSET"},
        replies={"secret_file": str(tmp_path / "reply-secret")},
    )
    with pytest.raises(ConfigError, match=r"^mailboxes\[0\]\.password_file: cannot read"):
        credentials.check_credentials(settings, env={})
    locked.mkdir()
    (locked / "imap-password").write_text("code\n")
    with pytest.raises(ConfigError, match="smtp.password_env: environment variable UNSET"):
        credentials.check_credentials(settings, env={})
    credentials.check_credentials(settings, env={"UNSET": "x"})


def test_oauth_needs_a_refresh_token_before_serving(tmp_path: Path) -> None:
    settings = load(
        box(provider="outlook", username="a@outlook.com", password=None, oauth_client_id="cid",
            oauth_refresh_token_file=str(tmp_path / "missing.token")),
    )  # fmt: skip
    with pytest.raises(ConfigError, match="oauth_refresh_token_file: cannot read"):
        credentials.check_credentials(settings, env={})
    (tmp_path / "missing.token").write_text("")
    with pytest.raises(ConfigError, match="intake auth login submissions"):
        credentials.check_credentials(settings, env={})
    (tmp_path / "missing.token").write_text("rt-1\n")
    credentials.check_credentials(settings, env={})
    assert credentials.resolve_secret(settings.mailboxes[0], "oauth_refresh_token") == "rt-1"
