"""The null sender or a daemon's Return-Path, when nothing says it is an automatic reply."""

from __future__ import annotations

from intake.core.mail import Kind, ParsedMail
from intake.ingest.classify.headers import DAEMONS, local_part
from intake.ingest.classify.rule import ClassifyContext, Hit, Rule
from intake.ingest.classify.signals import auto_reply_signal


def check(mail: ParsedMail, ctx: ClassifyContext) -> Hit | None:
    # RFC 3834 section 3.3 has responders send from the null sender too (and IIS uses
    # <MAILER-DAEMON> for them), so the envelope alone decides only when nothing marks the
    # message as an automatic reply.
    if mail.return_path is None or auto_reply_signal(mail) is not None:
        return None
    if mail.return_path == "":
        return Hit("null Return-Path <>")
    if local_part(mail.return_path) in DAEMONS:
        return Hit(f"Return-Path <{mail.return_path}>")
    return None


RULE = Rule(
    "bounce.envelope",
    Kind.BOUNCE,
    "Return-Path <> or <MAILER-DAEMON> on a message that carries no auto-reply marker",
    check,
)
