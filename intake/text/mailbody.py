"""The plain text of a mail we wrote or received: what ``show`` prints for a letter in a
conversation and what an editor sees of a letter before sending it. Pure (the standard
library's email package only)."""

from __future__ import annotations

from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage


def plain_text(raw: bytes) -> str:
    """The text/plain body of ``raw`` (line breaks as ``\\n``), or "" when it has none."""
    try:
        msg = message_from_bytes(raw, policy=email_policy.default)
        text = body_text(msg) if isinstance(msg, EmailMessage) else ""
    except (LookupError, ValueError, TypeError, AttributeError):
        return ""  # a letter's bytes are ours and well formed; a damaged row shows no text
    return text.strip("\n")


def body_text(msg: EmailMessage) -> str:
    """The text/plain body of a parsed message as it stands (line breaks as ``\\n``), or ""
    when it has none: the one reading of a letter's text, for ``show`` and for the editor."""
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    return str(text).replace("\r\n", "\n")
