"""May we answer this message automatically at all (RFC 3834 section 2)?"""

from __future__ import annotations

import re

from intake.core.mail import NO_AUTOREPLY_KINDS, ParsedMail, Verdict
from intake.ingest.classify.headers import list_header, own, value
from intake.ingest.classify.rule import ClassifyContext
from intake.ingest.classify.signals import auto_reply_signal
from intake.text.addresses import is_noreply_address, normalised_or_empty

_ADDR = re.compile(
    r"^[^@\s<>()\[\],;:\"]+@[A-Za-z0-9\u0080-\uffff-]+(?:\.[A-Za-z0-9\u0080-\uffff-]+)+$"
)


def auto_reply_allowed(
    mail: ParsedMail, verdict: Verdict, ctx: ClassifyContext
) -> tuple[bool, str]:
    """Whether an automatic reply may be sent to ``mail`` at all, and why."""
    if verdict.kind in NO_AUTOREPLY_KINDS:
        return False, f"{verdict.kind} messages never get an automatic reply"
    if mail.sender is None or not _usable(mail.sender.addr):
        return False, "no usable sender address"
    target = mail.reply_to[0].addr if mail.reply_to else mail.sender.addr
    if not _usable(target):
        return False, f"no usable reply address in Reply-To {target!r}"
    ours = own(ctx)
    for addr in dict.fromkeys((mail.sender.addr, target)):
        if normalised_or_empty(addr) in ours:
            return False, f"{addr} is our own address"
        if is_noreply_address(addr):
            return False, f"{addr} is a no-reply address"
    if mail.return_path == "":
        return False, "null Return-Path <>: the sender accepts no replies"
    if mail.header(ctx.loop_header) is not None:
        return False, f"carries our loop header {ctx.loop_header}"
    if mail.header("X-Loop") is not None:
        return False, f"carries X-Loop: {value(mail, 'X-Loop')}"
    signal = auto_reply_signal(mail)
    if signal:
        return False, f"machine-generated ({signal})"
    precedence = value(mail, "Precedence").lower()
    if precedence in ("bulk", "junk", "list"):
        return False, f"Precedence: {precedence}"
    listed = list_header(mail)
    if listed:
        return False, f"list header {listed}"
    # Exchange's way of asking: AutoReply suppresses replies other than out-of-office ones.
    suppress = {v.strip().lower() for v in value(mail, "X-Auto-Response-Suppress").split(",")}
    if suppress & {"all", "autoreply"}:
        return False, f"X-Auto-Response-Suppress: {value(mail, 'X-Auto-Response-Suppress')}"
    return True, f"automatic reply allowed to {target}"


def _usable(addr: str) -> bool:
    return bool(_ADDR.match(addr.strip()))
