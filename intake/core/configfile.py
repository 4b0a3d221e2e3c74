"""Reading intake.toml into :class:`~intake.core.config.Settings`: the file found, each
table filled from its provider's row (:mod:`intake.core.providers`), every value checked against
its type, and the settings checked as a whole.

Every problem is reported as a :class:`~intake.core.errors.ConfigError` whose message starts
with the dotted key at fault (``mailboxes[0].port: expected an integer``). A few environment
variables override the file (``INTAKE_CONFIG``, ``INTAKE_DATABASE_URL``).
"""

from __future__ import annotations

import grp
import os
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, fields
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from intake.core.config import Credentials, DeskConfig, Secret, Settings, sqlite_path
from intake.core.credentials import check_login
from intake.core.errors import ConfigError
from intake.core.providers import PROVIDERS, provider

CONFIG_ENV = "INTAKE_CONFIG"
DEFAULT_CONFIG_PATHS = (Path("/etc/intake/intake.toml"),)


def load(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    defaults: Sequence[Path] = DEFAULT_CONFIG_PATHS,
) -> Settings:
    """Read settings from ``path`` (else ``$INTAKE_CONFIG``, else the first of ``defaults``
    that exists: /etc/intake/intake.toml)."""
    env = os.environ if env is None else env
    chosen: Path | None
    if path is not None:
        chosen = Path(path)
    elif env.get(CONFIG_ENV):
        chosen = Path(env[CONFIG_ENV])
    else:
        chosen = _first_present(defaults)
        if chosen is None:
            looked = ", ".join(str(p) for p in defaults) or "nowhere"
            raise ConfigError(
                f"config: no configuration file ({looked} does not exist): "
                f"pass --config PATH or set {CONFIG_ENV}"
            )
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config: {chosen}: no such file") from None
    except PermissionError:
        raise ConfigError(f"config: {chosen}: permission denied{_group_hint(chosen)}") from None
    except OSError as exc:
        raise ConfigError(f"config: {chosen}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config: {chosen}: cannot read: not UTF-8 ({exc.reason})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {chosen}: invalid TOML: {exc}") from None
    return from_mapping(data, env=env, base_dir=chosen.parent)


def _first_present(paths: Sequence[Path]) -> Path | None:
    """The first of ``paths`` that exists, or that this user may not even look at: an editor
    outside the group cannot enter /etc/intake (0750), and reading it then says so."""
    for path in paths:
        try:
            if path.exists():
                return path
        except OSError:
            return path
    return None


def _group_hint(path: Path) -> str:
    """Who may read ``path``: the group of the file, else of the nearest folder we can see."""
    for candidate in (path, *path.parents):
        try:
            gid = candidate.stat().st_gid
        except OSError:
            continue
        try:
            name = grp.getgrgid(gid).gr_name
        except KeyError:
            return ""
        if gid == 0:
            return ""
        return (
            f" (staff read it as members of group {name}: usermod -aG {name} USER, "
            "which takes effect at that user's next login)"
        )
    return ""


def from_mapping(
    data: Mapping[str, Any], env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> Settings:
    """Build and validate settings from already-parsed TOML data.

    Secrets are not read here (see :func:`intake.core.credentials.check_credentials`): a staff
    command that never talks to a mail server works without them.
    """
    env = os.environ if env is None else env
    data = dict(data)
    url_key = "database.url"
    if env.get("INTAKE_DATABASE_URL"):
        data["database"] = {**data.get("database", {}), "url": env["INTAKE_DATABASE_URL"]}
        url_key = "INTAKE_DATABASE_URL"
    data = _with_providers(data)
    settings: Settings = _build(Settings, data, "")
    _check(settings, env)
    _check_paths(settings, url_key)
    return settings


#: The keys that say how an account logs in; [smtp] takes them from its mailbox when it
#: sets none of them.
CREDENTIAL_KEYS = tuple(f.name for f in fields(Credentials))


def _with_providers(data: dict[str, Any]) -> dict[str, Any]:
    """Fill each table's missing keys from its provider's row; keys the file sets win."""
    boxes = data.get("mailboxes")
    if isinstance(boxes, list):
        boxes = [_preset_mailbox(box, i) for i, box in enumerate(boxes)]
        data["mailboxes"] = boxes
    smtp = data.get("smtp")
    if isinstance(smtp, Mapping) and isinstance(boxes, list):
        data["smtp"] = _preset_smtp(dict(smtp), [b for b in boxes if isinstance(b, Mapping)])
    return data


def _provider_of(table: Mapping[str, Any], where: str) -> str:
    name = table.get("provider", "custom")
    if name not in PROVIDERS:
        choices = " | ".join(PROVIDERS)
        raise ConfigError(f"{where}.provider: expected one of {choices}, got {name!r}")
    return str(name)


def _preset_mailbox(box: Any, index: int) -> Any:
    if not isinstance(box, Mapping) or "provider" not in box:
        return box
    row = provider(_provider_of(box, f"mailboxes[{index}]"))
    filled: dict[str, Any] = {
        "host": row.imap_host,
        "port": row.imap_port,
        "security": row.imap_security,
        "auth": row.auth,
    }
    if row.oauth is not None:
        filled.update(_oauth_defaults(row.oauth))
    return {**{k: v for k, v in filled.items() if v}, **box}


def _oauth_defaults(preset: Any) -> dict[str, Any]:
    return {
        "oauth_token_url": preset.token_url,
        "oauth_device_url": preset.device_url,
        "oauth_authorize_url": preset.authorize_url,
        "oauth_scope": preset.scope,
    }


def _preset_smtp(smtp: dict[str, Any], boxes: list[Mapping[str, Any]]) -> dict[str, Any]:
    """[smtp] of a provider: its server, and the login of the mailbox that sends."""
    wanted = str(smtp.get("username", "")).strip().lower()
    source = next(
        (b for b in boxes if str(b.get("username", "")).strip().lower() == wanted and wanted),
        boxes[0] if boxes and not wanted else None,
    )
    # The server comes from the sending mailbox's provider (the first mailbox, whose Sent
    # folder gets the copies, unless smtp.username names another).
    server = source if source is not None else (boxes[0] if boxes else None)
    name = smtp.get("provider") or (server.get("provider") if server is not None else None)
    if not name:
        return smtp  # a custom SMTP server: nothing is assumed
    row = provider(_provider_of({"provider": name}, "smtp"))
    filled: dict[str, Any] = {
        "provider": name,
        "host": row.smtp_host,
        "port": row.smtp_port,
        "security": row.smtp_security,
    }
    if source is not None and not any(k in smtp for k in CREDENTIAL_KEYS if k != "username"):
        # The same account logs in to both sides (QQ's authorization code, one OAuth grant).
        filled.update({k: source[k] for k in CREDENTIAL_KEYS if k in source})
    elif row.oauth is not None:
        filled["auth"] = row.auth
        filled.update(_oauth_defaults(row.oauth))
    return {**{k: v for k, v in filled.items() if v != ""}, **smtp}


def _build(cls: type[Any], table: Any, where: str) -> Any:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a table")
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{_join(where, key)}: unknown key")
    values: dict[str, Any] = {}
    for name, fld in known.items():
        key_path = _join(where, name)
        if name in table:
            values[name] = _convert(hints[name], table[name], key_path)
        elif fld.default is MISSING and fld.default_factory is MISSING:
            raise ConfigError(f"{key_path}: missing required key")
    return cls(**values)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = [a for a in get_args(hint) if a is not type(None)]
        return _convert(options[0], value, where)
    if origin is Literal:
        allowed = get_args(hint)
        if value not in allowed:
            choices = " | ".join(str(a) for a in allowed)
            raise ConfigError(f"{where}: expected one of {choices}, got {value!r}")
        return value
    if origin is list:
        (item,) = get_args(hint)
        if not isinstance(value, list):
            raise ConfigError(f"{where}: expected a list")
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hint is Secret:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string")
        return Secret(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {_show(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {_show(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{where}: expected a number, got {_show(value)}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {_show(value)}")
        return value
    if isinstance(hint, type) and hasattr(hint, "__dataclass_fields__"):
        return _build(hint, value, where)
    raise ConfigError(f"{where}: unsupported setting type")  # pragma: no cover


def _show(value: Any) -> str:
    return type(value).__name__ if isinstance(value, dict | list) else repr(value)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _check(settings: Settings, env: Mapping[str, str]) -> None:
    names: set[str] = set()
    for i, box in enumerate(settings.mailboxes):
        where = f"mailboxes[{i}]"
        if not box.name:
            raise ConfigError(f"{where}.name: must not be empty")
        if box.name in names:
            raise ConfigError(f"{where}.name: duplicate mailbox name {box.name!r}")
        names.add(box.name)
        if not box.host:
            raise ConfigError(f"{where}.host: missing required key (or set provider)")
        if not 0 < box.port < 65536:
            raise ConfigError(f"{where}.port: must be between 1 and 65535")
        if box.batch_size < 1:
            raise ConfigError(f"{where}.batch_size: must be at least 1")
        if not box.username:
            raise ConfigError(f"{where}.username: must not be empty")
        check_login(box, where, required=True)
    if settings.smtp is not None:
        smtp = settings.smtp
        if not smtp.host:
            raise ConfigError("smtp.host: missing required key (or set provider)")
        if not 0 < smtp.port < 65536:
            raise ConfigError("smtp.port: must be between 1 and 65535")
        if "@" not in smtp.from_addr:
            raise ConfigError(f"smtp.from_address: not an email address: {smtp.from_address!r}")
        check_login(smtp, "smtp", required=bool(smtp.username))
        row = provider(smtp.provider)
        if row.from_must_be_login and smtp.username and "@" in smtp.username:
            if smtp.from_addr.lower() != smtp.account:
                raise ConfigError(
                    f"smtp.from_address: {row.label} refuses to send From {smtp.from_addr} "
                    f"when logged in as {smtp.username}; use that address"
                )
    if settings.ingest.max_message_bytes < 1024:
        raise ConfigError("ingest.max_message_bytes: must be at least 1024")
    if settings.ingest.max_decoded_bytes < 0:
        raise ConfigError("ingest.max_decoded_bytes: must be 0 (three times the message) or more")
    if settings.extract.message_timeout_seconds <= 0:
        raise ConfigError("extract.message_timeout_seconds: must be more than 0")
    if settings.extract.max_attachments_read < 0:
        raise ConfigError("extract.max_attachments_read: must be 0 or more")
    if settings.extract.worker_memory_bytes < 256 * 1024 * 1024:
        # Python and the document libraries take about 50 MiB before reading anything.
        raise ConfigError("extract.worker_memory_bytes: must be at least 268435456 (256 MiB)")
    if settings.fees.rate_per_thousand_chars < 0 or settings.fees.minimum < 0:
        raise ConfigError("fees: rate_per_thousand_chars and minimum must not be negative")
    if not 0.0 < settings.dedupe.near_threshold <= 1.0:
        raise ConfigError("dedupe.near_threshold: must be in (0, 1]")
    for key in ("decision_days", "max_auto_replies_per_day"):
        if getattr(settings.replies, key) < 0:
            raise ConfigError(f"replies.{key}: must not be negative")
    if settings.replies.max_auto_replies_per_hour < 1:
        # 0 would keep every automatic reply waiting for ever: copyright_request = "manual"
        # and max_auto_replies_per_day = 0 are the ways to send none.
        raise ConfigError("replies.max_auto_replies_per_hour: must be at least 1")
    _check_desk(settings.desk)
    if settings.daemon.poll_interval <= 0:
        raise ConfigError("daemon.poll_interval: must be positive")
    if settings.daemon.metrics_address:
        parse_address(settings.daemon.metrics_address, "daemon.metrics_address")
    try:
        zoneinfo.ZoneInfo(settings.replies.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"replies.timezone: unknown time zone {settings.replies.timezone!r}"
        ) from None
    if settings.replies.templates and not Path(settings.replies.templates).is_dir():
        raise ConfigError(f"replies.templates: not a directory: {settings.replies.templates}")
    sources = [
        settings.replies.secret is not None,
        bool(settings.replies.secret_env),
        bool(settings.replies.secret_file),
    ]
    if sum(sources) > 1:
        raise ConfigError("replies.secret: give only one of secret, secret_env, secret_file")
    if settings.replies.secret_env and not env.get(settings.replies.secret_env):
        raise ConfigError(
            f"replies.secret_env: environment variable {settings.replies.secret_env} is not set"
        )


def _check_desk(desk: DeskConfig) -> None:
    for i, name in enumerate(desk.staff):
        if not name.strip() or name != name.strip() or name == "-":
            raise ConfigError(f"desk.staff[{i}]: not a usable name: {name!r}")
    if len(set(desk.staff)) != len(desk.staff):
        raise ConfigError("desk.staff: a name is listed twice")
    for i, addr in enumerate(desk.notify):
        if "@" not in parseaddr(addr)[1]:
            raise ConfigError(f"desk.notify[{i}]: not an email address: {addr!r}")
    hour, _, minute = desk.digest_time.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
        raise ConfigError(f"desk.digest_time: expected HH:MM, got {desk.digest_time!r}")


def _check_paths(settings: Settings, url_key: str) -> None:
    """Paths must not depend on the directory a command happens to start in."""
    path = sqlite_path(settings.database.url)
    if path is not None and path not in ("", ":memory:") and not Path(path).is_absolute():
        raise ConfigError(
            f"{url_key}: the SQLite path {path!r} is relative, so each command would open a "
            f"different file depending on where it starts; write sqlite:////{path.lstrip('/')} "
            "(four slashes) for an absolute path"
        )
    if not Path(settings.storage.path).is_absolute():
        raise ConfigError(
            f"storage.path: {settings.storage.path!r} is relative; give an absolute path"
        )


def parse_address(value: str, where: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a (host, port) pair."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: expected HOST:PORT (e.g. 127.0.0.1:9464), got {value!r}")
    return host, int(port)
