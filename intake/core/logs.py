"""Log set-up for the service: text or JSON lines on stderr, with secrets redacted.

JSON lines (python-json-logger) carry the fields a log shipper filters on: ``mailbox``,
``uid``, ``submission_id``, ``outbox_id``, ``message_pk`` (intake's message number),
``account`` and ``event``. A
caller passes them with ``extra=logs.fields(...)``, a job binds them for everything it logs
(:func:`bind`), and lines of the use cases that name them in their text (``outbox #7: ...``)
get them from :data:`SHAPES`, a table of those lines.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import unquote, urlsplit

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

from intake.core.config import Credentials, Settings
from intake.core.credentials import resolve_secret
from intake.core.errors import ConfigError

LogFormat = Literal["text", "json"]
MASK = "***"
#: Shorter configured values are not masked: "ab" would blank out half of every line.
MIN_SECRET_LENGTH = 4
#: The structured fields of a log line, besides ts, level, logger, msg and thread.
FIELDS = ("event", "mailbox", "uid", "submission_id", "outbox_id", "message_pk", "account")
_INT_FIELDS = frozenset({"uid", "submission_id", "outbox_id", "message_pk"})

# The shapes a secret takes in library and protocol messages, each matched narrowly so the
# words around it stay: key=value (not "password: expected a string"), a JSON member, the
# password in scheme://user:pass@host, a tagged IMAP LOGIN's third argument (not "login failed
# for tougao2"), SASL blobs after AUTH/AUTHENTICATE and bearer tokens.
_KEY = r"(?:[\w-]*_)?(?:password|passwd|pwd|secret|token|api[_-]?key|credentials?)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # key=value: whatever follows the "=".
    (re.compile(rf"(?i)\b({_KEY}=)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}}]+)"), r"\1" + MASK),
    # key: value, only when the value looks like a secret (quoted, or a word with a digit):
    # "token: abc123" is masked, "secret: give only one of" is prose.
    (
        re.compile(rf"(?i)\b({_KEY}:\s*)(\"[^\"]*\"|'[^']*'|(?=[^\s,;&]*\d)[^\s,;&\"'}}]{{4,}})"),
        r"\1" + MASK,
    ),
    (
        re.compile(
            r"(?i)(\"(?:[\w-]*_)?(?:password|passwd|secret|token|api[_-]?key|code)\"\s*:\s*\")"
            r"(?:[^\"\\]|\\.)*\""
        ),
        r"\1" + MASK + '"',
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    # IMAP's LOGIN command (upper case, as sent): its second argument. "login failed for
    # tougao2" is not a command.
    (
        re.compile(r"\b(LOGIN (?:\"(?:[^\"\\]|\\.)*\"|\S+) )(\"(?:[^\"\\]|\\.)*\"|\S+)"),
        r"\1" + MASK,
    ),
    (
        re.compile(
            r"\b(AUTH(?:ENTICATE)? (?:PLAIN|LOGIN|XOAUTH2|OAUTHBEARER|CRAM-MD5) )"
            r"[A-Za-z0-9+/]{8,}={0,2}"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + MASK),
)


class Redactor:
    """Masks known secret values and password-like patterns in a string."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted(
            {s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True
        )

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (and traceback) with secrets masked.

    Attached to the handler, so it sees records of every logger, ours and the libraries'.
    Bytes arguments are decoded first, so no line shows a Python ``b'...'`` repr.
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, bytes) for a in record.args):
            record.args = tuple(_plain(a) for a in record.args)
        record.msg = self.redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _plain(value: object) -> object:
    if not isinstance(value, bytes):
        return value
    for charset in ("utf-8", "gb18030"):
        try:
            return value.decode(charset)
        except UnicodeDecodeError:
            continue
    return value.decode("latin-1")


# --------------------------------------------------------------------------- fields

_bound: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "intake_log_fields", default=None
)


def fields(**values: object) -> dict[str, object]:
    """``extra=`` for a log call: the structured fields that are set."""
    return {k: v for k, v in values.items() if v is not None and v != ""}


@contextlib.contextmanager
def bind(**values: object) -> Iterator[None]:
    """Add these fields to every line logged in this thread (or task) meanwhile."""
    token = _bound.set({**(_bound.get() or {}), **fields(**values)})
    try:
        yield
    finally:
        _bound.reset(token)


#: Lines the use cases log, and the fields their text carries: (pattern, event). A named group
#: becomes the field of that name; ``event`` is set unless the caller gave one.
SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^message (?P<message_pk>\d+) (?P<mailbox>[^/\s]+)/.+/\d+/(?P<uid>\d+): "),
        "message_recorded",
    ),
    (re.compile(r"^message (?P<message_pk>\d+) reprocessed: "), "message_recorded"),
    (re.compile(r"^quarantined (?P<mailbox>[^/\s]+)/.+/\d+/(?P<uid>\d+): "), "quarantined"),
    (re.compile(r"^queued \S+ to .* as outbox #(?P<outbox_id>\d+)$"), "reply_queued"),
    (re.compile(r"^outbox #(?P<outbox_id>\d+): .* sent to "), "reply_sent"),
    (re.compile(r"^outbox #(?P<outbox_id>\d+): .*; trying again in "), "reply_retry"),
    (re.compile(r"^outbox #(?P<outbox_id>\d+): .* failed: "), "reply_failed"),
    (re.compile(r"^outbox #(?P<outbox_id>\d+): "), "outbox"),
    (re.compile(r"^submission (?P<submission_id>\d+): "), "submission"),
    (re.compile(r"^oversize message (?P<message_pk>\d+): "), "oversize"),
    (re.compile(r"^mailbox (?P<mailbox>[^\s:]+)(?: folder \S+)?: "), ""),
)


class FieldsFilter(logging.Filter):
    """Gives each record its structured fields: explicit ones, bound ones, then its shape's."""

    def filter(self, record: logging.LogRecord) -> bool:
        found: dict[str, object] = {}
        message = record.getMessage()
        for pattern, event in SHAPES:
            match = pattern.match(message)
            if match is None:
                continue
            found = {k: v for k, v in match.groupdict().items() if v is not None}
            if event:
                found["event"] = event
            break
        for source in (found, _bound.get() or {}):
            for key, value in source.items():
                if getattr(record, key, None) in (None, ""):
                    setattr(record, key, _typed(key, value))
        return True


def _typed(key: str, value: object) -> object:
    if key in _INT_FIELDS and isinstance(value, str) and value.isdigit():
        return int(value)
    return value


class JsonFormatter(_LibraryJsonFormatter):
    """One JSON object per line: ts, level, logger, msg, thread, the fields that are set, and
    exc with the traceback."""

    def __init__(self) -> None:
        super().__init__(
            ["levelname", "name", "message", "threadName"],
            rename_fields={
                "levelname": "level",
                "name": "logger",
                "message": "msg",
                "threadName": "thread",
                "exc_info": "exc",
                "stack_info": "stack",
            },
            timestamp="ts",
            json_ensure_ascii=False,
        )

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        ordered: dict[str, Any] = {"ts": ts}
        # Only intake's fields: a library's extra attributes are not part of the format.
        for key in ("level", "logger", "msg", "thread", *FIELDS, "exc", "stack"):
            if log_data.get(key) not in (None, ""):
                ordered[key] = log_data[key]
        log_data.clear()
        log_data.update(ordered)


def text_formatter(stream: TextIO) -> logging.Formatter:
    # journald stamps every line itself; elsewhere a timestamp is needed.
    if _under_journald(stream):
        return logging.Formatter("%(levelname)s %(name)s: %(message)s")
    return logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


def configure(
    log_format: LogFormat,
    *,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Replace the root logger's handlers with one redacting handler on ``stream``."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if log_format == "json" else text_formatter(stream))
    handler.addFilter(RedactingFilter(Redactor(secrets)))
    handler.addFilter(FieldsFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The scheduler announces every job run, Alembic every plugin and imapclient every closed
    # connection at INFO: only their warnings are news (a refused login is one line, ours).
    for noisy in ("apscheduler", "alembic", "imapclient"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings lead to: passwords, OAuth client secrets and refresh
    tokens, the reply key, the database password."""
    found: list[str] = []
    sources: list[Credentials] = [*settings.mailboxes]
    if settings.smtp is not None:
        sources.append(settings.smtp)
    for source in sources:
        for key in ("password", "oauth_client_secret", "oauth_refresh_token"):
            try:
                found.append(resolve_secret(source, key))
            except ConfigError:
                pass
    replies = settings.replies
    if replies.secret is not None:
        found.append(replies.secret.reveal())
    if replies.secret_env:
        found.append(os.environ.get(replies.secret_env, ""))
    try:
        password = urlsplit(settings.database.url).password
    except ValueError:
        password = None
    if password:
        found.append(unquote(password))
    return [s for s in found if s]


def _under_journald(stream: TextIO) -> bool:
    # systemd sets JOURNAL_STREAM=device:inode of the stream it connected to the journal.
    expected = os.environ.get("JOURNAL_STREAM", "")
    if not expected:
        return False
    try:
        st = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):
        return False
    return expected == f"{st.st_dev}:{st.st_ino}"
