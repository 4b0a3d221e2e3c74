"""The text of a forwarded or attached message (.eml, message/rfc822): the article it carries.

A contributor who forwards an earlier mail, or attaches one saved from the mail client, sends
the article as that message's body. Its body is read here as a document: text/plain parts
(else HTML made text) that are not attachments, each decoded with the same charset rules
as mail bodies. Its attachments are listed by ingest's parser beside the outer message's own.
The standard library parses it in-process: the bytes are already bounded by the attachment
size limit, and nothing here decompresses.
"""

from __future__ import annotations

import re
from email import policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser

from intake.text.charsets import decode_text
from intake.text.htmltext import html_to_text

_FIELD = re.compile(rb"^([A-Za-z][A-Za-z0-9-]{1,60}):", re.MULTILINE)
_MESSAGE_FIELDS = frozenset(
    {b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"received"}
)
_MAX_PARTS = 200  # a message with more leaves than this is not someone's article


def read_eml(payload: bytes) -> tuple[str, str]:
    """``(subject, body text)`` of the message in ``payload``."""
    message = BytesParser(policy=policy.compat32).parsebytes(payload)
    plain: list[str] = []
    html: list[str] = []
    for count, part in enumerate(message.walk()):
        if count > _MAX_PARTS:
            break
        if part.is_multipart() or part.get_filename():
            continue
        if (part.get_content_disposition() or "") == "attachment":
            continue
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        label = part.get_param("charset")
        text, _notes = decode_text(data, label if isinstance(label, str) else None)
        (plain if kind == "text/plain" else html).append(text.replace("\r\n", "\n"))
    body = "\n\n".join(t.strip("\n") for t in plain if t.strip())
    if not body and html:
        body = html_to_text("\n".join(html))
    return _subject(message), body.strip()


def looks_like_message(payload: bytes) -> bool:
    """Whether ``payload`` starts like a saved message: header fields, then a blank line."""
    head = payload[:65536].replace(b"\r\n", b"\n").lstrip()
    if head.startswith(b"From "):
        head = head.partition(b"\n")[2]  # an mbox separator line ("From nobody Mon Aug …")
    block, blank, _ = head.partition(b"\n\n")
    if not blank or not _FIELD.match(block):
        return False
    names = {m.group(1).lower() for m in _FIELD.finditer(block)}
    return len(names & _MESSAGE_FIELDS) >= 2


def _subject(message: Message) -> str:
    raw = message.get("subject")
    if raw is None:
        return ""
    words = []
    for chunk, charset in decode_header(str(raw)):
        words.append(decode_text(chunk, charset)[0] if isinstance(chunk, bytes) else chunk)
    return "".join(words).strip()
