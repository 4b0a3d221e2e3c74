"""Recognise delivery reports and non-DSN bounces; the only importer of flufl.bounce."""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import Message

from flufl.bounce import all_failures

from intake.core.mail import BounceInfo

_TEXT_LIMIT = 128 * 1024
_MAX_DEPTH = 50
_REPORT_TYPES = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ENCLOSED = frozenset(
    {"message/rfc822", "message/global", "message/global-headers", "text/rfc822-headers"}
)
_MESSAGE_ID_LINE = re.compile(r"^Message-ID:[ \t]*(?:\r?\n[ \t]+)?<([^<>\s]+)>", re.I | re.M)
# An SMTP reply as MTAs quote it: "550 5.1.1 <x@y>: User unknown", "550-5.1.1 ...".
_SMTP_REPLY = re.compile(r"\b[45]\d\d[ -](?:[45]\.\d{1,3}\.\d{1,3}\b)?.*\S")

# flufl.bounce's heuristic detectors match phrases such as "Your message" that ordinary prose
# contains, and every submission is checked, so they only run on mail that looks machine-sent
# by a mail system.
_DAEMON_LOCALPARTS = frozenset(
    {"mailer-daemon", "mailer_daemon", "mailerdaemon", "postmaster", "mail-daemon", "mdaemon"}
)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (?:status|failure|failed|notification|has failed)"
    r"|returned mail|failure notice|mail delivery|non[- ]?delivery|nondeliverable"
    r"|could not be delivered|not delivered|delivery problem|退信|退回|未能送达|投递失败|发送失败",
    re.I,
)
_QUOTED_ORIGINAL = re.compile(
    r"^-+ ?(?:This is a copy|Below this line|Original message)", re.I | re.M
)
_BOUNCE_FROM_NAMES = re.compile(r"mail delivery|mailer|postmaster|system administrator", re.I)


def detect(msg: Message) -> BounceInfo | None:
    """What ``msg`` reports as undeliverable, or None if it is not a bounce.

    RFC 3464 reports are read directly (status, diagnostic, recipients); other formats (Exim,
    qmail, Exchange, Lotus Notes, ...) go to flufl.bounce. A DSN that reports only successful
    deliveries is still returned, with no recipients and ``permanent`` False: it is automatic
    mail that must not be answered.
    """
    slim = _slim(msg)
    info = _dsn(slim)
    if info is not None:
        return info
    if not _looks_machine_sent(slim):
        return None
    return _heuristic(slim)


def _slim(part: Message, depth: int = 0) -> Message:
    """A copy of ``part`` with text cut to _TEXT_LIMIT and other content left out.

    flufl.bounce's detectors read every line of every part, attachments included, which takes
    seconds on a large attachment; bounce reports themselves are small (MTAs cap the returned
    original), so the start of each text says all there is to say.
    """
    copy = Message()
    for name, value in part.raw_items():
        copy[name] = value
    copy.set_default_type(part.get_default_type())
    payload = part.get_payload()
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if isinstance(payload, list):
        if depth < _MAX_DEPTH:
            copy.set_payload([_slim(p, depth + 1) for p in payload if isinstance(p, Message)])
    elif isinstance(payload, str) and part.get_content_maintype() in ("text", "message"):
        if not payload.isascii() and cte not in ("base64", "quoted-printable"):
            # get_payload() gives raw 8-bit text charset-decoded with replacement characters;
            # the copy must hold the bytes as received, as the original does.
            raw = part.get_payload(decode=True)
            if isinstance(raw, bytes):
                payload = raw[: _TEXT_LIMIT * 4].decode("ascii", errors="surrogateescape")
        copy.set_payload(payload[:_TEXT_LIMIT])
    else:
        copy.set_payload("")
    return copy


def _own_parts(msg: Message) -> Iterator[Message]:
    """``msg`` and its parts, not descending into enclosed messages.

    A forwarded bounce inside a contributor's message is not a bounce of ours.
    """
    yield msg
    if msg.is_multipart() and msg.get_content_type() not in _ENCLOSED:
        for part in msg.get_payload():
            if isinstance(part, Message):
                yield from _own_parts(part)


def _dsn(msg: Message) -> BounceInfo | None:
    blocks: list[Message] = []
    found = False
    for part in _own_parts(msg):
        if part.get_content_type() in _REPORT_TYPES:
            found = True
            blocks.extend(_status_blocks(part))
    if not found:
        return None
    permanent = False
    recipients: list[str] = []
    diagnostics: list[str] = []
    for block in blocks:
        action = _field(block, "action").lower()
        if not action and not _field(block, "final-recipient"):
            continue  # the per-message block (Reporting-MTA, Arrival-Date)
        status = _field(block, "status")
        failed = action.startswith(("fail", "error"))  # opensmtpd writes "Action: error"
        if not (failed or action.startswith("delayed") or status.startswith(("4", "5"))):
            continue  # delivered, relayed or expanded
        permanent = permanent or failed or status.startswith("5")
        recipient = _address(
            _field(block, "final-recipient") or _field(block, "original-recipient")
        )
        if recipient and recipient not in recipients:
            recipients.append(recipient)
        diagnostic = _field(block, "diagnostic-code")
        # "smtp; 550 5.1.1 ...": the type prefix says nothing to staff.
        diagnostic = diagnostic.partition(";")[2].strip() if ";" in diagnostic else diagnostic
        if not diagnostic and status:
            diagnostic = f"status {status}" + (f" ({action})" if action else "")
        if diagnostic and diagnostic not in diagnostics:
            diagnostics.append(diagnostic)
    return BounceInfo(
        permanent=permanent,
        recipients=tuple(recipients),
        original_message_ids=_original_message_ids(msg),
        diagnostic="; ".join(diagnostics),
        detector="dsn",
    )


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a delivery-status part: per-message first, then per-recipient."""
    payload = part.get_payload()
    if part.get_content_type() == "message/delivery-status" and isinstance(payload, list):
        # The stdlib parser splits message/delivery-status into header blocks itself.
        return [block for block in payload if isinstance(block, Message)]
    # message/global-delivery-status (RFC 6533, UTF-8) is parsed like any message/* part: one
    # enclosed "message" whose headers are the first block and whose body holds the others.
    blocks: list[Message] = []
    source = part
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        blocks.append(payload[0])
        source = payload[0]
    raw = source.get_payload(decode=True)
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else ""
    for chunk in re.split(r"\r?\n[ \t]*\r?\n", text.strip()):
        block = Message()
        for name, value in re.findall(r"^([!-9;-~]+):[ \t]*(.*(?:\r?\n[ \t].*)*)", chunk, re.M):
            block[name] = " ".join(value.split())
        if block.keys():
            blocks.append(block)
    return blocks


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _address(value: str) -> str:
    """The address of a DSN recipient field: ``rfc822; <a@b>`` gives ``a@b``."""
    address = value.partition(";")[2] if ";" in value else value
    return address.strip().strip("<>").strip()


def _original_message_ids(msg: Message) -> tuple[str, ...]:
    ids: list[str] = []
    texts: list[str] = []
    for part in _own_parts(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global", "message/global-headers"):
            inner = part.get_payload()
            inner_msg = inner[0] if isinstance(inner, list) and inner else None
            if isinstance(inner_msg, Message) and inner_msg.get("message-id") is not None:
                ids.extend(_ids(str(inner_msg.get("message-id"))))
        elif ctype == "text/rfc822-headers":
            ids.extend(m.group(1) for m in _MESSAGE_ID_LINE.finditer(_text(part)))
        elif part.get_content_maintype() == "text":
            texts.append(_text(part))
    if not ids:
        # Exim, qmail and many others quote the returned message in their text.
        for text in texts:
            ids.extend(m.group(1) for m in _MESSAGE_ID_LINE.finditer(text))
    return tuple(dict.fromkeys(ids))


def _ids(value: str) -> list[str]:
    found = re.findall(r"<([^<>\s]+)>", value)
    return found or ([value.strip()] if value.strip() else [])


def _text(part: Message) -> str:
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return ""
    # Bounce text is ASCII in practice; the charset only matters for the prose around it.
    return raw.decode(part.get_content_charset() or "utf-8", errors="replace")


def _looks_machine_sent(msg: Message) -> bool:
    if msg.get("x-failed-recipients") is not None:
        return True
    if str(msg.get("return-path", "")).strip() == "<>":
        return True
    sender = str(msg.get("from", ""))
    match = re.search(r"([^\s<>\"]+)@", sender)
    if match and match.group(1).lower() in _DAEMON_LOCALPARTS:
        return True
    subject = str(msg.get("subject", ""))
    auto = str(msg.get("auto-submitted", "no")).strip().lower()
    return bool(_BOUNCE_SUBJECT.search(subject)) and (
        bool(_BOUNCE_FROM_NAMES.search(sender)) or auto.startswith("auto-")
    )


def _heuristic(msg: Message) -> BounceInfo | None:
    try:
        temporary, permanent = all_failures(msg)
    except Exception:
        # Its heuristics index and split freely on odd input; a detector crash is no bounce.
        return None
    if not temporary and not permanent:
        return None
    recipients = sorted(a.decode("ascii", errors="replace") for a in permanent | temporary)
    return BounceInfo(
        permanent=bool(permanent),
        recipients=tuple(recipients),
        original_message_ids=_original_message_ids(msg),
        diagnostic=_diagnostic(msg, recipients),
        detector="flufl.bounce",
    )


def _diagnostic(msg: Message, recipients: list[str]) -> str:
    """The reason a non-DSN bounce gives: an SMTP reply, else what it says under a recipient."""
    texts: list[str] = [
        # Stop at the quoted original: its text is not the reason.
        _QUOTED_ORIGINAL.split(_text(part), maxsplit=1)[0]
        for part in _own_parts(msg)
        if part.get_content_maintype() == "text"
    ]
    for text in texts:
        if match := _SMTP_REPLY.search(text):
            return match.group(0).strip()
    for text in texts:
        lines = text.splitlines()
        for i, line in enumerate(lines):
            if not any(r in line for r in recipients):
                continue
            # Exchange and Exim indent the reason under the failed address.
            indent = len(line) - len(line.lstrip())
            reason: list[str] = []
            for following in lines[i + 1 :]:
                if not following.strip() or len(following) - len(following.lstrip()) <= indent:
                    break
                reason.append(following.strip())
            if reason:
                return " ".join(reason)
            if line.strip().strip("<>:") not in recipients:
                return line.strip()  # Lotus Notes: "User x (x@y) not listed in ..."
    return ""
