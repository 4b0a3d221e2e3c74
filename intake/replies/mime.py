"""A rendered letter as mail: headers that cannot be forged or folded into something else,
threading (In-Reply-To, References), the loop header, and SMTPUTF8 only where it is needed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from email import policy as email_policy
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from intake.core.errors import ConfigError, PermanentDeliveryError
from intake.core.mail import Address, OutgoingMail
from intake.replies.render import (
    CONTROL,
    RenderedText,
    clean,
    clean_domain,
    collapse,
    header_name,
    tidy_text,
)

_HEADER_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 ftext: printable ASCII except ':'
_MSGID = re.compile(r"[!-;=?-~]+")  # printable ASCII without '<', '>' or spaces
_BRACKETED = re.compile(r"<\s*([^<>]*?)\s*>")
_MAX_ID_LENGTH = 250
_MAX_REFERENCES = 20
_MAX_SUBJECT = 250
# References and In-Reply-To are written pre-folded (see _set_id_header), so the policy must not
# refold them; headers set the normal way are header objects and are folded as usual.
_POLICY = email_policy.SMTP.clone(refold_source="none")


def _header_address(name: str, addr: str) -> HeaderAddress:
    """An address for a header; the display name made safe by :func:`header_name`. A non-ASCII
    local part is allowed (the message is then written for SMTPUTF8)."""
    addr = clean(addr).strip()
    local, at, domain = addr.rpartition("@")
    if not at or not local or re.search(r"[\s<>,;:\"()\[\]\\]", local):
        raise PermanentDeliveryError(f"cannot address mail to {addr!r}")
    try:
        return HeaderAddress(
            display_name=header_name(name),
            username=local,
            domain=clean_domain(domain),
        )
    except ValueError as exc:
        raise PermanentDeliveryError(f"cannot address mail to {addr!r}: {exc}") from None


def needs_smtputf8(addr: str) -> bool:
    """Whether mail to or from ``addr`` can only travel over SMTPUTF8 (RFC 6531)."""
    return not addr.rpartition("@")[0].isascii()


def _message_ids(values: Sequence[str]) -> list[str]:
    """Usable Message-IDs from untrusted input, bracket-free, in order, without repeats.

    Each value may be one id, with or without brackets, or a whole header ("<a@b> <c@d>").
    """
    seen: dict[str, None] = {}
    for value in values:
        for mid in _BRACKETED.findall(value) or value.split():
            if "@" in mid and len(mid) <= _MAX_ID_LENGTH and _MSGID.fullmatch(mid):
                seen.setdefault(mid, None)
    return list(seen)


def _set_id_header(msg: EmailMessage, name: str, ids: Sequence[str]) -> None:
    # Written raw, one id per line: the email package's folder turns a long unstructured value
    # into RFC 2047 encoded words, and an encoded Message-ID no longer threads.
    msg.set_raw(name, "\n ".join(f"<{mid}>" for mid in ids))


def build_message(
    *,
    rendered: RenderedText,
    from_address: str,
    to: Address,
    message_id: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    loop_header: str = "X-Intake-Loop",
    loop_value: str,
    date: datetime,
    automatic: bool = True,
    template: str,
) -> OutgoingMail:
    """The bytes of a reply, headers sanitised and threaded under the contributor's message.

    ``in_reply_to`` is the contributor's Message-ID and ``references`` their References header;
    the reply's References are theirs followed by their Message-ID. ``from_address`` is the
    configured sender (``编辑部 <tougao@example.com>`` or a bare address). A naive ``date`` is
    taken as UTC.
    """
    own_ids = _message_ids([message_id])
    if len(own_ids) != 1:
        raise ValueError(f"not a usable Message-ID: {message_id!r}")
    if not _HEADER_NAME.fullmatch(loop_header):
        raise ValueError(f"not a header name: {loop_header!r}")
    parent = _message_ids([in_reply_to])[:1]
    chain = _message_ids([*references, *parent])
    if len(chain) > _MAX_REFERENCES:
        # Keep the thread's root and the nearest ancestors, as RFC 5322 section 3.6.4 suggests.
        chain = [chain[0], *chain[-(_MAX_REFERENCES - 1) :]]
    if CONTROL.search(from_address):
        # Our own setting, so refuse rather than guess which address a broken value meant.
        raise ConfigError(f"smtp.from_address: control characters in {from_address!r}")
    from_name, from_addr = parseaddr(from_address)
    sender = _header_address(from_name, from_addr)
    recipient = _header_address(to.name, to.addr)
    subject = collapse(rendered.subject)[:_MAX_SUBJECT]

    # A non-ASCII mailbox name is written as UTF-8 (RFC 6532); such a message is sent only over
    # SMTPUTF8, which the transport asks for when an envelope address needs it.
    utf8 = needs_smtputf8(recipient.addr_spec) or needs_smtputf8(sender.addr_spec)
    msg = EmailMessage(policy=_POLICY.clone(utf8=True) if utf8 else _POLICY)
    msg["From"] = sender
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date if date.tzinfo else date.replace(tzinfo=UTC))
    _set_id_header(msg, "Message-ID", own_ids)
    if parent:
        _set_id_header(msg, "In-Reply-To", parent)
    if chain:
        _set_id_header(msg, "References", chain)
    if automatic:
        msg["Auto-Submitted"] = "auto-replied"  # RFC 3834: do not answer this automatically
    # Asks Exchange/Outlook not to send out-of-office or read receipts back: worth it even on
    # staff-triggered mail, since anything they send lands in the submissions mailbox.
    msg["X-Auto-Response-Suppress"] = "All"
    msg[loop_header] = collapse(loop_value)
    # No "Precedence: bulk/junk": RFC 3834 (section 3.1.8) advises against relying on it, and
    # mail providers read it as a bulk-mail signal that can file a receipt or a copyright request
    # as spam, where the author never sees it. Auto-Submitted, X-Auto-Response-Suppress, our loop
    # header and intake's own autoreply rules and rate limits are what prevent loops.
    _set_body(msg, rendered)
    return OutgoingMail(
        template=template,
        to=Address(name=recipient.display_name, addr=recipient.addr_spec),
        subject=subject,
        message_id=own_ids[0],
        raw=msg.as_bytes(),
        in_reply_to=parent[0] if parent else "",
        references=tuple(chain),
    )


def _set_body(msg: EmailMessage, rendered: RenderedText) -> None:
    text = tidy_text(rendered.text.encode("utf-8", "replace").decode("utf-8"))
    # base64 rather than 8bit: it needs no 8BITMIME from any relay on the way, and for Chinese
    # it is a third the size of quoted-printable.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    if rendered.html:
        html = rendered.html.encode("utf-8", "replace").decode("utf-8")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
