"""The settings: every table of intake.toml and its keys with their defaults, as frozen values.

Reading the file into these (provider presets, types, the checks that name the key at fault) is
:mod:`intake.core.configfile`; reading secrets when a command logs in is
:mod:`intake.core.credentials`. Secrets are held in :class:`Secret`, whose ``repr``/``str``
never show the value.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Literal

from intake.core.errors import ConfigError
from intake.core.providers import ProviderName


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
    # Where raw mail and attachments are kept: files under ``path`` or rows of the database
    # (docs/operations.md, "Choosing a store"). ``path`` also holds the default reply key.
    backend: Literal["filesystem", "database"] = "filesystem"
    path: str = "/var/lib/intake/store"


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """How one account logs in: a password (or authorization code), or OAuth2 tokens.

    Shared by ``[[mailboxes]]`` and ``[smtp]``. Nothing here is read from the environment or
    a file while loading: only the commands that talk to the mail servers do that
    (:func:`intake.core.credentials.check_credentials`), so staff commands never need the secrets.
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
    # Decoded attachment bytes stored per message; 0: three times the raw message's size.
    max_decoded_bytes: int = 0
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
        short hash of everything the request states as its terms (the terms text, platforms,
        exclusivity, term, editing and fee policy), so changing any of them changes it. Without
        a terms text the letter states only the others, and the version still names them."""
        if self.terms_version:
            return self.terms_version
        if not self.terms:
            stated = json.dumps(
                [self.platforms, self.exclusive, self.term, self.editing_allowed, self.fee_policy],
                ensure_ascii=False,
            )
            return "auto-" + hashlib.sha256(stated.encode("utf-8")).hexdigest()[:12]
        return hashlib.sha256(self.terms.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class ExtractConfig:
    max_attachment_bytes: int = 30 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_archive_members: int = 5000
    timeout_seconds: float = 30.0
    # One message's attachments together: read in this time and up to this count at most.
    message_timeout_seconds: float = 120.0
    max_attachments_read: int = 100
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


def sqlite_path(url: str) -> str | None:
    """The file path of an SQLite URL ("" or ":memory:" for memory), None for other databases."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.split("+", 1)[0] != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    # sqlite:///relative.db and sqlite:////absolute.db: the third slash ends the empty host.
    return path[1:] if path.startswith("/") else path


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
