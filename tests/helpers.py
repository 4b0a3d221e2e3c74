"""Shared test helpers: settings and an App wired to the real test servers, and small
message builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any

from intake import store
from intake.app import App
from intake.core import config, configfile
from tests.servers import Dovecot


def settings_for(
    tmp_path: Path,
    db_url: str,
    dovecot: Dovecot | None = None,
    account: tuple[str, str] | None = None,
    smtp: Any | None = None,
    mailbox: dict[str, Any] | None = None,
    **sections: dict[str, Any],
) -> config.Settings:
    """Settings pointing at a fresh store, the given database and the test servers."""
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "storage": {"path": str(tmp_path / "store")},
    }
    if dovecot is not None and account is not None:
        data["mailboxes"] = [
            {
                "name": "submissions",
                "host": dovecot.host,
                "port": dovecot.tls_port,
                "security": "tls",
                "ca_file": str(dovecot.ca_file),
                "username": account[0],
                "password": account[1],
                "timeout": 10.0,
                **(mailbox or {}),
            }
        ]
    if smtp is not None:
        data["smtp"] = {
            "host": smtp.host,
            "port": smtp.port,
            "security": "none",
            "from_address": "投稿 <tougao@news.example>",
            "timeout": 10.0,
            "backoff_base_seconds": 0.0,
        }
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return configfile.from_mapping(data, env={})


AppFactory = Callable[..., App]


def make_app(settings: config.Settings, **kwargs: Any) -> App:
    app = App(settings, **kwargs)
    store.upgrade(app.engine)
    return app


def write_config(path: Path, settings_data: str) -> Path:
    path.write_text(settings_data, encoding="utf-8")
    return path


def submission(
    *,
    sender: str = "张三 <zhangsan@qq.example>",
    subject: str = "投稿：《春天的故事》",
    body: str = "编辑老师您好：\n\n这是我的稿件正文。春天来了，万物复苏。\n\n张三",
    charset: str = "utf-8",
    attachments: list[tuple[str, str, bytes]] | None = None,
    headers: dict[str, str] | None = None,
    message_id: str | None = None,
    utf8: bool = False,
) -> bytes:
    """A contributor's message as a mail client would send it (``utf8``: with UTF-8 headers,
    as a client sends over SMTPUTF8 from a non-ASCII address)."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "tougao@news.example"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = message_id or make_msgid(domain="qq.example")
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body, charset=charset)
    for filename, ctype, payload in attachments or []:
        maintype, subtype = ctype.split("/", 1)
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    # CRLF, as on the wire and as IMAP servers return it
    return msg.as_bytes(policy=SMTPUTF8 if utf8 else SMTP)


def nested(depth: int) -> bytes:
    """A message whose MIME parts nest deeper than the parser accepts (it raises ParseError)."""
    head = b"From: deep@example.com\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
    body = b""
    for level in range(depth):
        body += b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (level, level)
    body += b"Content-Type: text/plain\r\n\r\nbottom\r\n"
    for level in reversed(range(depth)):
        body += b"--b%d--\r\n" % level
    return head + body
