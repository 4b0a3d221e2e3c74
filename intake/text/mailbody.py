"""The plain text of a mail we wrote or received, from its bytes: what ``show`` prints for a
letter in a conversation. Pure (the standard library's email package only)."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage


def plain_text(raw: bytes) -> str:
    """The text/plain body of ``raw`` (line breaks as ``\\n``), or "" when it has none."""
    try:
        msg = message_from_bytes(raw, policy=email_policy.default)
        body = msg.get_body(preferencelist=("plain",)) if isinstance(msg, EmailMessage) else None
        text = body.get_content() if isinstance(body, EmailMessage) else ""
    except (LookupError, ValueError, TypeError, AttributeError):
        return ""  # a letter's bytes are ours and well formed; a damaged row shows no text
    return str(text).replace("\r\n", "\n").strip("\n")
