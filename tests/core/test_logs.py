"""Log lines: masks take the secret and leave the words around it; JSON lines carry fields;
no Python reprs."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from intake.core import logs

# (what a library or we wrote, what the journal must show)
MASKING = [
    ("login failed for tougao2 at imap.qq.com", "login failed for tougao2 at imap.qq.com"),
    ("mailbox m: login failed *** tougao2", "mailbox m: login failed *** tougao2"),
    ('DLEP3 LOGIN tougao "pa ss" ok', "DLEP3 LOGIN tougao *** ok"),
    ("LOGIN alice hunter2 done", "LOGIN alice *** done"),
    ("password=abc def", "password=*** def"),
    ("smtp_password='x y' z", "smtp_password=*** z"),
    ("token: abc123 then", "token: *** then"),
    ("secret: give only one of secret, secret_env", "secret: give only one of secret, secret_env"),
    ("password: expected a string", "password: expected a string"),
    ("password_file: cannot read /x", "password_file: cannot read /x"),
    ("postgresql://intake:hunter22@db/intake", "postgresql://intake:***@db/intake"),
    ("AUTH PLAIN AHRvdWdhbwBodW50ZXIy ok", "AUTH PLAIN *** ok"),
    ("SMTP AUTH LOGIN failed", "SMTP AUTH LOGIN failed"),
    ("AUTHENTICATE XOAUTH2 dXNlcj1hQGIBYXV0aD1CZWFyZXIgeHl6AQE=", "AUTHENTICATE XOAUTH2 ***"),
    ("Authorization: Bearer eyJ0eXAiOiJKV1Qi.x.y end", "Authorization: Bearer *** end"),
    ("auth=Bearer at-3kd93kdk3kd03 x", "auth=Bearer *** x"),
    ('{"access_token": "at-12", "expires_in": 9}', '{"access_token": "***", "expires_in": 9}'),
    ('{"refresh_token":"rt-9"}', '{"refresh_token":"***"}'),
    ("client_secret=s3 and more", "client_secret=*** and more"),
    ("the code 4F2A1C is for the admin", "the code 4F2A1C is for the admin"),
    ("bearer of bad news", "bearer of bad news"),
    ("我的密码 tougao-secret-1 不对", "我的密码 *** 不对"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "shown"), MASKING)
def test_masks_take_only_the_secret(line: str, shown: str) -> None:
    assert logs.Redactor(["tougao-secret-1"])(line) == shown


# (message, fields it must carry)
SHAPES = [
    (
        "message 42 submissions/INBOX/1795767139/17: submission (submission) from a@qq.com",
        {"message_pk": 42, "mailbox": "submissions", "uid": 17, "event": "message_recorded"},
    ),
    (
        "quarantined 投稿/INBOX/5/9: parse error",
        {"mailbox": "投稿", "uid": 9, "event": "quarantined"},
    ),
    ("queued ack to a@qq.com as outbox #7", {"outbox_id": 7, "event": "reply_queued"}),
    ("outbox #7: ack sent to a@qq.com", {"outbox_id": 7, "event": "reply_sent"}),
    ("outbox #8: SMTP down; trying again in 60 s", {"outbox_id": 8, "event": "reply_retry"}),
    ("outbox #9: ack to a@qq.com failed: 550", {"outbox_id": 9, "event": "reply_failed"}),
    ("submission 12: no automatic reply: list mail", {"submission_id": 12, "event": "submission"}),
    ("mailbox submissions: IDLE reconnected", {"mailbox": "submissions"}),
    ("mailbox a folder INBOX: UIDVALIDITY changed", {"mailbox": "a"}),
    ("intake service started", {}),
]


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    buffer = io.StringIO()
    logs.configure("json", stream=buffer)
    yield buffer
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize(("message", "fields"), SHAPES)
def test_json_lines_carry_the_fields(
    stream: io.StringIO, message: str, fields: dict[str, object]
) -> None:
    logging.getLogger("intake.test").info("%s", message)
    entry = json.loads(stream.getvalue())
    assert {k: entry[k] for k in logs.FIELDS if k in entry} == fields
    assert entry["msg"] == message and list(entry)[:2] == ["ts", "level"]


def test_bound_and_explicit_fields(stream: io.StringIO) -> None:
    log = logging.getLogger("intake.test")
    with logs.bind(mailbox="投稿"):
        log.warning("poll failed", extra=logs.fields(event="poll_failed", uid=None))
    log.info("outside")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["mailbox"], first["event"]) == ("投稿", "poll_failed") and "uid" not in first
    assert "mailbox" not in second


def test_bytes_arguments_are_text_not_reprs(stream: io.StringIO) -> None:
    logging.getLogger("intake.test").warning(
        "server said %s and %s", b"[AUTHENTICATIONFAILED] bad", "请使用授权码登录".encode("gbk")
    )
    entry = json.loads(stream.getvalue())
    assert entry["msg"] == "server said [AUTHENTICATIONFAILED] bad and 请使用授权码登录"
