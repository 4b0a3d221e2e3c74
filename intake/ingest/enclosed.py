"""A message enclosed in a message/rfc822 part: its bytes, and the message when it came encoded."""

from __future__ import annotations

import binascii
import quopri
from email import policy
from email.feedparser import BytesFeedParser
from email.generator import BytesGenerator
from email.message import Message
from io import BytesIO

from intake.documents.eml import looks_like_message

_FEED_CHUNK = 1 << 16


def flattened(message: Message) -> bytes:
    """``message`` as bytes, headers written back as they came (not refolded)."""
    buffer = BytesIO()
    generator = BytesGenerator(
        buffer,
        mangle_from_=False,
        policy=policy.compat32.clone(max_line_length=None, linesep="\r\n"),
    )
    generator.flatten(message)
    return buffer.getvalue()


def decoded(part: Message, inner: Message) -> tuple[Message, str]:
    """The message a message/rfc822 ``part`` encloses, and a note when it had to be decoded.

    RFC 2046 forbids encoding message/rfc822, but some clients send it base64 or
    quoted-printable; the standard library then parses the encoded text as if it were the
    message (no headers, a body of base64), which would hide the forwarded article."""
    cte = str(part.get("content-transfer-encoding", "") or "").strip().lower()
    if cte not in ("base64", "quoted-printable"):
        return inner, ""
    encoded = flattened(inner)
    try:
        data = binascii.a2b_base64(encoded) if cte == "base64" else quopri.decodestring(encoded)
    except (binascii.Error, ValueError):
        return inner, f"{cte} message/rfc822 not decoded"
    if not looks_like_message(data):
        return inner, ""
    parser = BytesFeedParser(policy=policy.compat32)
    for start in range(0, len(data), _FEED_CHUNK):
        parser.feed(data[start : start + _FEED_CHUNK])
    return parser.close(), f"message/rfc822 sent {cte}-encoded"
