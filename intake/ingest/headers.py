"""The header fields of one message read as text; the only importer of mailparser.

Raw 8-bit bytes are decoded in the charset the sender's client writes in, RFC 2047 encoded
words with adjacent words joined before decoding; addresses go through mail-parser's
structural recovery; then Message-IDs, the Date and Return-Path. Every charset decision goes
through intake.text.charsets; defects are appended to the list the caller passes.
"""

from __future__ import annotations

import binascii
import re
from datetime import UTC, datetime, timedelta, timezone
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime, parsedate_tz

from mailparser.dates import parse_mail_date
from mailparser.utils import get_addresses

from intake.core.mail import Address
from intake.text.charsets import decode_text

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
#: A line break inside a folded header.
UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_MSGID = re.compile(r"<([^<>\s]+)>")


def raw(msg: Message, name: str) -> str | None:
    """The first raw value of header ``name`` (surrogate-escaped bytes kept), or None."""
    lname = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lname:
            return str(value)
    return None


def raw_all(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == lname]


def unescape_8bit(value: str, hint: str | None, defects: list[str], what: str) -> str:
    """``value`` with raw 8-bit bytes (kept by the parser as surrogates) decoded as text."""
    if value.isascii():
        return value
    try:
        data = value.encode("ascii", errors="surrogateescape")
    except UnicodeEncodeError:
        return value  # already text
    try:
        return data.decode("utf-8")  # RFC 6532 allows UTF-8 headers
    except UnicodeDecodeError:
        pass
    # The body's charset is the best guess for unlabelled header bytes: clients that write raw
    # 8-bit headers write them in the charset they use for the body.
    text, notes = decode_text(data, hint)
    defects.append(f"{what}: raw 8-bit header that is not UTF-8")
    defects.extend(f"{what}: {note}" for note in notes)
    return text


def header_text(value: str, hint: str | None, defects: list[str], what: str) -> str:
    """A header value unfolded and decoded: raw 8-bit bytes and RFC 2047 encoded words."""
    value = UNFOLD.sub("", value)
    value = unescape_8bit(value, hint, defects, what)
    return decode_words(value, defects, what).strip()


def decode_words(value: str, defects: list[str] | None = None, what: str = "header") -> str:
    """Decode RFC 2047 encoded words in ``value``.

    Adjacent encoded words in the same charset are decoded together, from their joined bytes,
    because senders split multi-byte characters (and even base64 quanta) between words. Labels
    are mapped as browsers map them, so ``=?gb2312?...?=`` holding GBK characters decodes.
    """
    notes: list[str] = defects if defects is not None else []
    out: list[str] = []
    run: list[tuple[str, str, str]] = []  # (charset, encoding, encoded text) of adjacent words
    pos = 0
    for match in _ENCODED_WORD.finditer(value):
        gap = value[pos : match.start()]
        charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
        # Whitespace between two encoded words is not part of the text (RFC 2047, 6.2).
        if run and not gap.strip() and run[-1][0].lower() == charset.lower():
            run.append((charset, encoding, text))
        else:
            if run:
                out.append(_decode_run(run, notes, what))
                run = []
                if gap.strip():
                    out.append(gap)
            else:
                out.append(gap)
            run = [(charset, encoding, text)]
        pos = match.end()
    if run:
        out.append(_decode_run(run, notes, what))
    out.append(value[pos:])
    return "".join(out)


def _decode_run(run: list[tuple[str, str, str]], defects: list[str], what: str) -> str:
    charset = run[0][0]
    chunks: list[bytes] = []
    b_texts = [text for _, encoding, text in run if encoding == "B"]
    if len(b_texts) == len(run) and any(len(t.strip()) % 4 for t in b_texts):
        # Base64 split between words off a 4-character boundary: decode it joined.
        chunks.append(_b64(b"".join(t.strip().encode("utf-8", "replace") for t in b_texts)))
    else:
        for _, encoding, text in run:
            # Raw 8-bit bytes inside a word were decoded already; as UTF-8 they decode again.
            data = text.encode("utf-8", "replace")
            chunks.append(_b64(data) if encoding == "B" else binascii.a2b_qp(data, header=True))
    text, notes = decode_text(b"".join(chunks), charset)
    defects.extend(f"{what}: {note}" for note in notes)
    return text


def _b64(data: bytes) -> bytes:
    data = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    data += b"=" * (-len(data) % 4)
    if len(data) % 4 == 1:
        data = data[:-1]  # a lone trailing sextet carries no whole byte
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return b""


def addresses(msg: Message, name: str, hint: str | None, defects: list[str]) -> list[Address]:
    result: list[Address] = []
    what = name.title()
    for raw in raw_all(msg, name):
        value = unescape_8bit(UNFOLD.sub("", raw), hint, defects, what)
        diagnostics: list[dict[str, object]] = []
        # Names are left encoded for mail-parser and decoded here: its decoder uses Python's
        # strict codecs per encoded word, which fails on gb2312-labelled GBK and split words.
        pairs: list[tuple[str, str]] = get_addresses(value, defects=diagnostics)
        for diagnostic in diagnostics:
            defects.append(f"{what}: {diagnostic.get('reason')}: {diagnostic.get('raw')}")
        found = [Address(decode_words(n, defects, what).strip(), a) for n, a in pairs if a]
        if not found and value.strip():
            # Nothing mail-parser would vouch for; take what a lenient reading finds.
            lenient_name, lenient_addr = parseaddr(value)
            if lenient_addr or lenient_name:
                defects.append(f"{what}: address recovered leniently from {value!r}")
                decoded = decode_words(lenient_name, defects, what).strip()
                found = [Address(decoded, lenient_addr)]
        result.extend(found)
    return result


def first_id(value: str | None, hint: str | None, defects: list[str]) -> str:
    found = ids(value, hint, defects)
    return found[0] if found else ""


def ids(value: str | None, hint: str | None, defects: list[str]) -> tuple[str, ...]:
    """Message-IDs in a header, without angle brackets, in order."""
    if value is None:
        return ()
    text = unescape_8bit(UNFOLD.sub("", value), hint, defects, "Message-ID")
    found = _MSGID.findall(text)
    if not found:
        # Bare ids (no brackets) are sent by some scripts and old clients.
        found = [token.strip("<>,;") for token in text.split() if "@" in token]
    return tuple(dict.fromkeys(i for i in found if i))


def date(raw: str | None, defects: list[str]) -> datetime | None:
    if raw is None:
        defects.append("Date: header missing")
        return None
    text = " ".join(UNFOLD.sub("", raw).split())
    result = parse_mail_date(text)
    for reason in result.reasons:
        defects.append(f"Date: {reason}: {text!r}")
    value: datetime | None = result.value
    if value is None:
        # Not RFC 5322 even in its obsolete forms; the stdlib's lenient reader may still
        # make sense of it ("01 Jan 2001 00:01+0000").
        try:
            lenient = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        return lenient if lenient.tzinfo is not None else lenient.replace(tzinfo=UTC)
    # mail-parser answers in UTC; keep the sender's own offset, which says where they are.
    parts = parsedate_tz(text)
    offset = parts[9] if parts is not None and parts[9] is not None else 0
    if abs(offset) >= 24 * 3600:
        return value
    return value.astimezone(timezone(timedelta(seconds=offset)))


def return_path(value: str | None) -> str | None:
    if value is None:
        return None
    text = UNFOLD.sub("", value).strip()
    match = re.search(r"<([^<>]*)>", text)
    return (match.group(1) if match else text).strip()
