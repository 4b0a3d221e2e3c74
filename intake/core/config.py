"""Typed settings loaded from a TOML file plus a few environment overrides.

Every problem is reported as a :class:`~intake.core.errors.ConfigError` whose message starts
with the dotted key at fault (``mailboxes[0].port: expected an integer``). Secrets are held in
:class:`Secret`, whose ``repr``/``str`` never show the value.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tomllib
import types
import typing
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, dataclass, field, fields
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from intake.core.errors import ConfigError
from intake.core.providers import PROVIDERS, ProviderName, provider

CONFIG_ENV = "INTAKE_CONFIG"
DEFAULT_CONFIG_PATHS = (Path("/etc/intake/intake.toml"),)


class Secret:
    """A password or key: compare and use with :meth:`reveal`, never printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


Security = Literal["tls", "starttls", "none"]
AuthMethod = Literal["password", "oauth2"]
#: ``sent_folder`` value: find the Sent folder by its special use (RFC 6154, XLIST) or name.
AUTO_FOLDER = "auto"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:////var/lib/intake/intake.db"
    echo: bool = False


@dataclass(frozen=True)
class StorageConfig:
    path: str = "/var/lib/intake/store"


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """How one account logs in: a password (or authorization code), or OAuth2 tokens.

    Shared by ``[[mailboxes]]`` and ``[smtp]``. Nothing here is read from the environment or
    a file while loading: only the commands that talk to the mail servers do that
    (:func:`check_credentials`), so staff commands never need the secrets.
    """

    username: str = ""
    auth: AuthMethod = "password"
    password: Secret | None = None
    password_env: str = ""
    password_file: str = ""
    oauth_token_url: str = ""
    oauth_device_url: str = ""
    oauth_authorize_url: str = ""
    oauth_client_id: str = ""
    oauth_client_secret: Secret | None = None
    oauth_client_secret_env: str = ""
    oauth_client_secret_file: str = ""
    oauth_refresh_token: Secret | None = None
    oauth_refresh_token_env: str = ""
    oauth_refresh_token_file: str = ""
    oauth_scope: str = ""

    @property
    def account(self) -> str:
        """The login, lower-cased: logins of one account back off together."""
        return self.username.strip().lower()


@dataclass(frozen=True, kw_only=True)
class MailboxConfig(Credentials):
    name: str
    username: str
    provider: ProviderName = "custom"
    host: str = ""
    port: int = 993
    security: Security = "tls"
    imap_id: bool = True  # send IMAP ID (RFC 2971) after login when the server offers it
    folder: str = "INBOX"
    processed_folder: str = "Processed"
    sent_folder: str = AUTO_FOLDER  # "" turns off the copy of sent replies
    ca_file: str = ""
    timeout: float = 60.0
    batch_size: int = 250
    idle: bool = True


@dataclass(frozen=True, kw_only=True)
class SmtpConfig(Credentials):
    from_address: str
    provider: ProviderName = "custom"
    host: str = ""
    port: int = 465
    security: Security = "tls"
    ca_file: str = ""
    timeout: float = 60.0
    batch_size: int = 50
    max_attempts: int = 8
    backoff_base_seconds: float = 60.0
    backoff_max_seconds: float = 6 * 3600.0

    @property
    def from_addr(self) -> str:
        return parseaddr(self.from_address)[1]


@dataclass(frozen=True)
class IngestConfig:
    max_message_bytes: int = 50 * 1024 * 1024
    #: Seconds one message's parsing and classification may take in the parse worker; a
    #: message that runs out of time (or kills the worker) twice is quarantined.
    parse_timeout_seconds: float = 30.0


@dataclass(frozen=True)
class RepliesConfig:
    templates: str = ""  # a directory whose files override the packaged templates
    language: Literal["zh", "en"] = "zh"
    timezone: str = "Asia/Shanghai"  # times in replies are shown in this zone
    copyright_request: Literal["auto", "on-accept", "manual"] = "auto"
    decision_days: int = 15
    max_auto_replies_per_day: int = 5  # per recipient (its rate_key), in any 24 hours
    max_auto_replies_per_hour: int = 200  # all recipients together; beyond it replies wait
    duplicate_grace_hours: int = 72
    bounce_suppression_days: int = 60
    contact: str = ""
    site_name: str = ""
    message_id_domain: str = ""  # default: the domain of smtp.from_address
    secret: Secret | None = None  # HMAC key for our Message-IDs
    secret_env: str = ""
    secret_file: str = ""  # default: <storage.path>/reply-secret, created on first use
    own_addresses: list[str] = field(default_factory=list)  # besides smtp.from_address


@dataclass(frozen=True)
class CopyrightConfig:
    terms: str = ""
    terms_version: str = ""  # default: a hash of the terms text
    platforms: list[str] = field(default_factory=list)
    exclusive: bool = False
    term: str = ""
    editing_allowed: bool = True
    fee_policy: str = ""
    grant_phrases: list[str] = field(
        default_factory=lambda: ["同意", "我同意", "同意授权", "I agree", "agreed", "agree"]
    )
    refuse_phrases: list[str] = field(
        default_factory=lambda: [
            "不同意",
            "不授权",
            "拒绝",
            "不愿意",
            "disagree",
            "do not agree",
            "don't agree",
            "not agree",
        ]
    )
    reminder_days: int = 5
    expiry_days: int = 14
    dkim_timeout: float = 3.0  # seconds for the DNS lookup behind a consent's DKIM check

    @property
    def version(self) -> str:
        """The terms version stored with every request and consent: the configured one, else a
        short hash of the terms text (so editing the terms changes it)."""
        if self.terms_version:
            return self.terms_version
        return hashlib.sha256(self.terms.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class ExtractConfig:
    max_attachment_bytes: int = 30 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_archive_members: int = 5000
    timeout_seconds: float = 30.0
    max_text_chars: int = 2_000_000
    # Address-space limit of the child process that reads one binary document or image.
    worker_memory_bytes: int = 1024**3


@dataclass(frozen=True)
class DedupeConfig:
    near_threshold: float = 0.8


@dataclass(frozen=True)
class SiteConfig:
    name: str = ""
    domains: list[str] = field(default_factory=list)
    claim_threshold: float = 3.0
    claim_response_days: int = 3


@dataclass(frozen=True)
class FeesConfig:
    """How the ledger's ``fee`` column is worked out: 字数 × rate / 1000, rounded as set."""

    rate_per_thousand_chars: float = 0.0  # yuan per 1,000 characters; 0: no fee column values
    count: Literal["exact", "thousands-up"] = "exact"  # thousands-up: 不足千字按千字计
    round_to: Literal["fen", "jiao", "yuan", "ten"] = "yuan"  # 0.01, 0.1, 1 or 10 yuan
    rounding: Literal["half-up", "up", "down"] = "half-up"  # 四舍五入, 进位, 舍去
    minimum: float = 0.0  # yuan: a piece is never paid less (保底稿费); 0: no minimum


@dataclass(frozen=True)
class DeskConfig:
    """The editors' desk: who may be assigned work, and who hears about new mail and how."""

    staff: list[str] = field(default_factory=list)  # assign refuses other names; [] allows any
    notify: list[str] = field(default_factory=list)  # addresses told of new submissions, claims
    notify_mode: Literal["each", "hourly", "daily"] = "each"
    digest_time: str = "08:00"  # when the daily digest goes out, in replies.timezone


@dataclass(frozen=True)
class DaemonConfig:
    poll_interval: float = 60.0
    outbox_interval: float = 30.0
    maintenance_interval: float = 3600.0
    lease_seconds: float = 90.0
    idle_timeout: float = 25 * 60.0  # re-issue IDLE before the 29-minute limit
    reconnect_max_seconds: float = 300.0
    log_format: Literal["text", "json"] = "text"
    metrics_address: str = ""  # HOST:PORT for Prometheus metrics ("" = off)
    retain_ignored_days: int = 0  # 0 keeps raw mail of ignored kinds forever


@dataclass(frozen=True)
class Settings:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    mailboxes: list[MailboxConfig] = field(default_factory=list)
    smtp: SmtpConfig | None = None
    ingest: IngestConfig = field(default_factory=IngestConfig)
    replies: RepliesConfig = field(default_factory=RepliesConfig)
    copyright: CopyrightConfig = field(default_factory=CopyrightConfig)
    extract: ExtractConfig = field(default_factory=ExtractConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    site: SiteConfig = field(default_factory=SiteConfig)
    fees: FeesConfig = field(default_factory=FeesConfig)
    desk: DeskConfig = field(default_factory=DeskConfig)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)

    def mailbox(self, name: str) -> MailboxConfig:
        for box in self.mailboxes:
            if box.name == name:
                return box
        raise ConfigError(f"mailboxes: no mailbox named {name!r}")


# --------------------------------------------------------------------------- loading


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
        chosen = next((p for p in defaults if p.exists()), None)
        if chosen is None:
            raise ConfigError(
                f"config: no configuration file: pass --config PATH or set {CONFIG_ENV}"
            )
    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config: {chosen}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config: {chosen}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {chosen}: invalid TOML: {exc}") from None
    return from_mapping(data, env=env, base_dir=chosen.parent)


def from_mapping(
    data: Mapping[str, Any], env: Mapping[str, str] | None = None, base_dir: Path | None = None
) -> Settings:
    """Build and validate settings from already-parsed TOML data.

    Secrets are not read here (see :func:`check_credentials`): a staff command that never
    talks to a mail server works without them.
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
        _check_login(box, where, required=True)
    if settings.smtp is not None:
        smtp = settings.smtp
        if not smtp.host:
            raise ConfigError("smtp.host: missing required key (or set provider)")
        if not 0 < smtp.port < 65536:
            raise ConfigError("smtp.port: must be between 1 and 65535")
        if "@" not in smtp.from_addr:
            raise ConfigError(f"smtp.from_address: not an email address: {smtp.from_address!r}")
        _check_login(smtp, "smtp", required=bool(smtp.username))
        row = provider(smtp.provider)
        if row.from_must_be_login and smtp.username and "@" in smtp.username:
            if smtp.from_addr.lower() != smtp.account:
                raise ConfigError(
                    f"smtp.from_address: {row.label} refuses to send From {smtp.from_addr} "
                    f"when logged in as {smtp.username}; use that address"
                )
    if settings.ingest.max_message_bytes < 1024:
        raise ConfigError("ingest.max_message_bytes: must be at least 1024")
    if settings.ingest.parse_timeout_seconds <= 0:
        raise ConfigError("ingest.parse_timeout_seconds: must be more than 0")
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


def sqlite_path(url: str) -> str | None:
    """The file path of an SQLite URL ("" or ":memory:" for memory), None for other databases."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    # sqlite:///relative.db and sqlite:////absolute.db: the third slash ends the empty host.
    return path[1:] if path.startswith("/") else path


def parse_address(value: str, where: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a (host, port) pair."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"{where}: expected HOST:PORT (e.g. 127.0.0.1:9464), got {value!r}")
    return host, int(port)


def _sources(obj: Credentials, key: str) -> list[str]:
    """Which of KEY, KEY_env, KEY_file the table sets."""
    given = []
    if getattr(obj, key) is not None:
        given.append(key)
    for suffix in ("_env", "_file"):
        if getattr(obj, key + suffix):
            given.append(key + suffix)
    return given


def _check_login(obj: Credentials, where: str, required: bool) -> None:
    """The shape of a login: sources that exclude each other, what OAuth2 needs."""
    for key in ("password", "oauth_client_secret", "oauth_refresh_token"):
        if len(_sources(obj, key)) > 1:
            raise ConfigError(f"{where}.{key}: give only one of {key}, {key}_env, {key}_file")
    if obj.auth == "password":
        if required and not _sources(obj, "password"):
            raise ConfigError(
                f"{where}.password: no password source: set password, password_env or password_file"
            )
        return
    if _sources(obj, "password"):
        raise ConfigError(f'{where}.password: not used with auth = "oauth2"; remove it')
    if not obj.username:
        raise ConfigError(f"{where}.username: OAuth2 needs the account's address")
    if not obj.oauth_client_id:
        raise ConfigError(
            f'{where}.oauth_client_id: auth = "oauth2" needs the client id of your app '
            "registration (Microsoft Entra or Google Cloud)"
        )
    if not obj.oauth_token_url:
        raise ConfigError(f"{where}.oauth_token_url: missing (or set provider)")


def check_credentials(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    """Make sure every secret and file the mail servers need can be read now.

    Called by the commands that log in to a mail server (``check``, ``poll``, ``send``,
    ``run``, ``auth``) before they start, so ``intake run`` stops at once with the key at
    fault; other commands never read these.
    """
    env = os.environ if env is None else env
    logins: list[tuple[str, Credentials, bool, str]] = [
        (f"mailboxes[{i}]", box, True, box.ca_file) for i, box in enumerate(settings.mailboxes)
    ]
    if settings.smtp is not None:
        smtp = settings.smtp
        logins.append(("smtp", smtp, bool(smtp.username), smtp.ca_file))
    for where, obj, required, ca_file in logins:
        if required:
            if obj.auth == "password":
                resolve_secret(obj, "password", env, where)
            else:
                resolve_secret(obj, "oauth_client_secret", env, where)
                if not resolve_secret(obj, "oauth_refresh_token", env, where):
                    name = getattr(obj, "name", "")
                    raise ConfigError(
                        f"{where}.oauth_refresh_token: no refresh token yet: run "
                        f"`intake auth login {name or 'MAILBOX'}` (it writes "
                        "oauth_refresh_token_file)"
                    )
        _check_file(ca_file, f"{where}.ca_file")


def _check_file(path: str, where: str) -> None:
    if not path:
        return
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {path}: {exc.strerror}") from None


def resolve_secret(
    obj: Credentials, key: str, env: Mapping[str, str] | None = None, where: str = ""
) -> str:
    """The value of secret ``key`` from KEY, KEY_env or KEY_file ("" when none is set)."""
    env = os.environ if env is None else env
    where = where or getattr(obj, "name", "") or "smtp"
    value: Secret | None = getattr(obj, key)
    if value is not None:
        return value.reveal()
    variable: str = getattr(obj, f"{key}_env")
    if variable:
        if variable not in env:
            raise ConfigError(f"{where}.{key}_env: environment variable {variable} is not set")
        return env[variable]
    path: str = getattr(obj, f"{key}_file")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{where}.{key}_file: cannot read {path}: {exc.strerror}") from None
    return ""


def resolve_password(obj: Credentials, env: Mapping[str, str] | None = None) -> str:
    """The password from whichever source is configured ("" when there is none)."""
    return resolve_secret(obj, "password", env)


def reply_secret(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key for our Message-IDs: configured, or a file in the store made on first use."""
    env = os.environ if env is None else env
    replies = settings.replies
    if replies.secret is not None:
        return replies.secret.reveal().encode("utf-8")
    if replies.secret_env:
        return env.get(replies.secret_env, "").encode("utf-8")
    path = Path(replies.secret_file or Path(settings.storage.path) / "reply-secret")
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"replies.secret_file: cannot read {path}: {exc.strerror}") from None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # 0640: staff in the service's group queue letters, which carry signed Message-IDs.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"replies.secret_file: cannot create {path}: {exc.strerror}") from None
    secret = secrets.token_hex(32).encode("ascii")
    with os.fdopen(fd, "wb") as fh:
        fh.write(secret)
        fh.flush()
        os.fsync(fh.fileno())
    return secret


def own_addresses(settings: Settings) -> frozenset[str]:
    """Every address intake sends from or receives at, lower-cased."""
    found = {a.lower() for a in settings.replies.own_addresses}
    if settings.smtp is not None:
        found.add(settings.smtp.from_addr.lower())
    for box in settings.mailboxes:
        if "@" in box.username:
            found.add(box.username.lower())
    return frozenset(found)


def message_id_domain(settings: Settings) -> str:
    if settings.replies.message_id_domain:
        return settings.replies.message_id_domain
    if settings.smtp is not None:
        return settings.smtp.from_addr.rpartition("@")[2] or "localhost"
    return "intake.invalid"
