"""Tests for intake.ingest.bounces against bounces written in real MTA formats."""

from __future__ import annotations

import email
from email.message import Message
from pathlib import Path

import pytest

from intake.ingest.bounces import detect

DATA = Path(__file__).parents[1] / "data" / "mail" / "bounces"


def load(name: str) -> Message:
    return email.message_from_bytes((DATA / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "recipient", "original", "diagnostic", "detector"),
    [
        (
            "postfix_dsn_failed.eml",
            "li.ming@163.example.com",
            "reply.20240305.7f3a9c@intake.news.example.cn",
            "550 5.1.1 User not found: li.ming@163.example.com",
            "dsn",
        ),
        (
            "office365_ndr.eml",
            "liu.yang@contoso.example.com",
            "reply.20240312.aa01ff@intake.news.example.cn",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "dsn",
        ),
        (
            "smtputf8_global_dsn.eml",
            "投稿人@例子.中国",
            "reply.20240316.77aa01@intake.news.example.cn",
            "550 5.1.1 mailbox unavailable",
            "dsn",
        ),
        (
            "exim_failed.eml",
            "zhao.lei@example.net",
            "reply.20240308.c41e07@intake.news.example.cn",
            "550 5.1.1 <zhao.lei@example.net>: Recipient address rejected: "
            "User unknown in virtual mailbox table",
            "flufl.bounce",
        ),
        (
            "qmail_failed.eml",
            "sun.li@example.org",
            "reply.20240309.5d0a11@intake.news.example.cn",
            "550 5.7.1 <sun.li@example.org>... Mailbox disabled for this recipient",
            "flufl.bounce",
        ),
        (
            "exchange2003_ndr.eml",
            "wang.wei@corp.example.com",
            "reply.20240311.9e8f00@intake.news.example.cn",
            "The e-mail account does not exist at the organization this message was sent to.  "
            "Check the e-mail address, or contact the recipient directly to find out the "
            "correct address. <mail.corp.example.com #5.1.1>",
            "flufl.bounce",
        ),
        (
            "lotus_notes_failed.eml",
            "zhou.min@corp.example.com",
            "reply.20240313.3c2b1a@intake.news.example.cn",
            "User zhou.min (zhou.min@corp.example.com) not listed in Domino Directory",
            "flufl.bounce",
        ),
    ],
)
def test_permanent_failures(
    name: str, recipient: str, original: str, diagnostic: str, detector: str
) -> None:
    info = detect(load(name))
    assert info is not None
    assert info.permanent
    assert info.recipients == (recipient,)
    assert info.original_message_ids == (original,)
    assert info.diagnostic == diagnostic
    assert info.detector == detector


def test_delayed_dsn_is_not_permanent() -> None:
    info = detect(load("postfix_dsn_delayed.eml"))
    assert info is not None
    assert not info.permanent
    assert info.recipients == ("chen.jing@slow.example.org",)
    # From the text/rfc822-headers part, whose Message-ID header is folded.
    assert info.original_message_ids == ("reply.20240307.01bd22@intake.news.example.cn",)
    assert info.diagnostic == "connect to mx.slow.example.org[192.0.2.44]:25: Connection timed out"


def test_prose_with_bounce_phrases_is_not_a_bounce() -> None:
    assert detect(load("not_a_bounce.eml")) is None


def test_forwarded_bounce_is_not_our_bounce() -> None:
    assert detect(load("forwarded_bounce.eml")) is None


def test_success_dsn_is_reported_without_failures() -> None:
    raw = (DATA / "postfix_dsn_failed.eml").read_bytes()
    raw = raw.replace(b"Action: failed\nStatus: 5.1.1", b"Action: delivered\nStatus: 2.0.0")
    info = detect(email.message_from_bytes(raw))
    assert info is not None
    assert not info.permanent
    assert info.recipients == ()


def test_ordinary_mail_is_not_a_bounce() -> None:
    msg = email.message_from_bytes(
        b"From: a@example.com\nTo: b@example.com\nSubject: hello\n\nJust text.\n"
    )
    assert detect(msg) is None
