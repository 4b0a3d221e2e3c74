"""Configuration: the example documents every key, and bad config names the key at fault."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from intake.core import config, configfile, credentials
from intake.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "intake.example.toml"
ENV = {"INTAKE_IMAP_PASSWORD": "imap-secret", "INTAKE_SMTP_PASSWORD": "smtp-secret"}


def minimal(**extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "mailboxes": [
            {"name": "submissions", "host": "imap.example.com", "username": "u", "password": "p"}
        ]
    }
    data.update(extra)
    return data


def test_example_config_loads() -> None:
    settings = configfile.load(EXAMPLE, env=ENV)
    assert settings.mailboxes[0].name == "submissions"
    assert settings.smtp is not None and settings.smtp.from_addr == "tougao@qq.com"
    assert settings.replies.decision_days == 15


def test_example_documents_every_key() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    missing = []
    for section in dataclasses.fields(config.Settings):
        hint = section.type if isinstance(section.type, str) else section.type.__name__
        cls_name = re.sub(r"list\[|\]| \| None", "", hint)
        cls = getattr(config, cls_name)
        for fld in dataclasses.fields(cls):
            if not re.search(rf"^\s*#?\s*{fld.name}\s*=", text, re.MULTILINE):
                missing.append(f"{section.name}.{fld.name}")
    assert missing == []


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (minimal(bogus=1), "bogus: unknown key"),
        (
            {
                "mailboxes": [
                    {"name": "a", "host": "h", "username": "u", "password": "p", "port": "993"}
                ]
            },
            "mailboxes[0].port: expected an integer",
        ),
        (
            {"mailboxes": [{"name": "a", "host": "h", "username": "u"}]},
            "mailboxes[0].password: no password source",
        ),
        (
            {
                "mailboxes": [
                    {"name": "a", "host": "h", "username": "u", "password": "p", "security": "ssl"}
                ]
            },
            "mailboxes[0].security: expected one of tls | starttls | none",
        ),
        (
            minimal(smtp={"host": "h", "from_address": "nobody"}),
            "smtp.from_address: not an email address",
        ),
        (minimal(replies={"language": "fr"}), "replies.language: expected one of zh | en"),
        (minimal(dedupe={"near_threshold": 2}), "dedupe.near_threshold"),
        ({"mailboxes": "x"}, "mailboxes: expected a list"),
        (minimal(desk={"staff": ["li", " wang"]}), "desk.staff[1]: not a usable name"),
        (minimal(desk={"staff": ["li", "li"]}), "desk.staff: a name is listed twice"),
        (minimal(desk={"notify": ["desk"]}), "desk.notify[0]: not an email address"),
        (minimal(desk={"notify_mode": "weekly"}), "desk.notify_mode: expected one of each"),
        (minimal(desk={"digest_time": "8am"}), "desk.digest_time: expected HH:MM"),
        (minimal(desk={"digest_time": "24:00"}), "desk.digest_time: expected HH:MM"),
    ],
)
def test_bad_config_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        configfile.from_mapping(data, env={})
    assert str(info.value).startswith(message)


def test_secrets_never_shown() -> None:
    settings = configfile.from_mapping(minimal(), env={})
    assert "'p'" not in repr(settings)
    assert "***" in repr(settings.mailboxes[0])
    assert credentials.resolve_password(settings.mailboxes[0]) == "p"


def test_password_sources(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    box = {"name": "a", "host": "h", "username": "u"}
    s1 = configfile.from_mapping({"mailboxes": [{**box, "password_file": str(pw)}]}, env={})
    assert credentials.resolve_password(s1.mailboxes[0]) == "from-file"
    s2 = configfile.from_mapping(
        {"mailboxes": [{**box, "password_env": "PW"}]}, env={"PW": "from-env"}
    )
    assert credentials.resolve_password(s2.mailboxes[0], env={"PW": "from-env"}) == "from-env"
    with pytest.raises(ConfigError, match="only one of"):
        configfile.from_mapping(
            {"mailboxes": [{**box, "password": "x", "password_env": "PW"}]}, env={"PW": "x"}
        )


def test_missing_and_invalid_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        configfile.load(tmp_path / "nope.toml", env={})
    bad = tmp_path / "bad.toml"
    bad.write_text("[database\nurl=1")
    with pytest.raises(ConfigError, match="invalid TOML"):
        configfile.load(bad, env={})
    default = tmp_path / "etc" / "intake.toml"
    with pytest.raises(ConfigError, match=f"no configuration file \\({default} does not exist\\)"):
        configfile.load(None, env={}, defaults=[default])


def test_a_default_path_that_cannot_be_looked_at_is_read_and_explained(tmp_path: Path) -> None:
    # An editor outside the group cannot even stat /etc/intake/intake.toml; as root the same
    # "cannot tell" comes from a name too long to look up. Either way: one line, no traceback.
    unseeable = tmp_path / ("x" * 300) / "intake.toml"
    with pytest.raises(ConfigError, match="cannot read: File name too long"):
        configfile.load(None, env={}, defaults=[unseeable, tmp_path / "later.toml"])


def test_env_override_of_database_url() -> None:
    settings = configfile.from_mapping(
        minimal(), env={"INTAKE_DATABASE_URL": "sqlite:////srv/x.db"}
    )
    assert settings.database.url == "sqlite:////srv/x.db"
    with pytest.raises(ConfigError, match=r"^INTAKE_DATABASE_URL: the SQLite path 'x.db'"):
        configfile.from_mapping(minimal(), env={"INTAKE_DATABASE_URL": "sqlite:///x.db"})


def test_reply_secret_is_created_once(tmp_path: Path) -> None:
    settings = configfile.from_mapping(minimal(storage={"path": str(tmp_path)}), env={})
    first = credentials.reply_secret(settings)
    assert len(first) == 64
    assert credentials.reply_secret(settings) == first
    assert (tmp_path / "reply-secret").stat().st_mode & 0o777 == 0o640


def test_the_terms_version_names_what_the_request_states() -> None:
    # Without a terms text the request states the platforms, exclusivity, term, editing and
    # fee policy: the recorded version must change with them, not be the hash of "".
    plain = config.CopyrightConfig()
    online = config.CopyrightConfig(platforms=["网站", "客户端"])
    exclusive = config.CopyrightConfig(platforms=["网站", "客户端"], exclusive=True)
    versions = {plain.version, online.version, exclusive.version}
    assert len(versions) == 3 and all(v.startswith("auto-") for v in versions)
    assert "e3b0c44298fc" not in {v.removeprefix("auto-") for v in versions}
    # A terms text is versioned by its own hash, as before; a configured version wins.
    assert (
        config.CopyrightConfig(terms="条款").version
        == config.CopyrightConfig(terms="条款", exclusive=True).version
    )
    assert config.CopyrightConfig(terms="条款", terms_version="2024-1").version == "2024-1"
