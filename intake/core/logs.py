"""Log set-up for the service: text or JSON lines on stderr, with secrets redacted."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal, TextIO
from urllib.parse import unquote, urlsplit

from intake.core.config import MailboxConfig, Settings, SmtpConfig, resolve_password
from intake.core.errors import ConfigError

LogFormat = Literal["text", "json"]
MASK = "***"
#: Shorter configured values are not masked: "ab" would blank out half of every line.
MIN_SECRET_LENGTH = 4

# key=value / key: value for secret-looking keys, the password in scheme://user:pass@host,
# IMAP LOGIN arguments and SMTP AUTH blobs: the shapes a secret takes in library messages.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?i)\b((?:[\w-]*_)?(?:password|passwd|pwd|secret|token|api[_-]?key|credentials?)"
            r"[\"']?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'}]+)"
        ),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s/]+@"), r"\1" + MASK + "@"),
    (re.compile(r"(?i)\b(LOGIN\s+\"?[^\s\"]+\"?\s+)(\"[^\"]*\"|\S+)"), r"\1" + MASK),
    (
        re.compile(r"(?i)\b(AUTH(?:ENTICATE)?\s+(?:PLAIN|LOGIN|XOAUTH2|CRAM-MD5)\s+)\S+"),
        r"\1" + MASK,
    ),
    (re.compile(r"(?i)\b(Authorization:\s*(?:Basic|Bearer)\s+)\S+"), r"\1" + MASK),
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
    """

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(record.getMessage())
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, and exc when there is a traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


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
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # The scheduler announces every job run, and Alembic every plugin, at INFO: only their
    # warnings are news.
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    return handler


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings lead to: passwords, the reply key, the database password."""
    found: list[str] = []
    sources: list[MailboxConfig | SmtpConfig] = [*settings.mailboxes]
    if settings.smtp is not None:
        sources.append(settings.smtp)
    for source in sources:
        try:
            found.append(resolve_password(source))
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
