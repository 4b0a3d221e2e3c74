"""Turn the raw bytes of one message into a ParsedMail: the MIME tree walked for bodies and
attachments; its header fields are read by ``ingest.headers`` (the only importer of
mailparser), format=flowed text joined by ``text.flowed``.

The message is parsed once with the stdlib (compat32, fed in chunks); mail-parser reads the
address headers (structural recovery with diagnostics) and the Date header. Its own
``MailParser`` is not used: it keeps every attachment as a base64 string and decodes text with
Python's strict codecs, falling back to UTF-8 with ``errors="ignore"``, which loses the GBK
characters of mail labelled gb2312. Every charset decision goes through intake.text.charsets.

Enclosed messages (message/rfc822): the enclosed message is kept whole as a ``.eml``
attachment, and its own attachments are also listed, so that a forwarded submission's
.docx is seen like a directly attached one. Its text is not the body of the outer message.
A message enclosed in an enclosed message (as message/rfc822 or as a ``.eml`` file) is inside
the outer ``.eml`` already and is not kept a second time (its attachments are still listed).

Every step is linear in the size of the message (benchmarks/hostile.py doubles each hostile
shape); the stdlib parser's one super-linear shape, deeply nested multiparts, is refused by a
one-pass count before it parses.
"""

from __future__ import annotations

import binascii
import logging
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import policy
from email.feedparser import BytesFeedParser
from email.message import Message

from intake.core.errors import ParseError
from intake.core.mail import ParsedAttachment, ParsedMail
from intake.documents.eml import looks_like_message
from intake.ingest import bounces, headers, tnef
from intake.ingest import enclosed as enclosures
from intake.text.charsets import decode_text
from intake.text.flowed import unflow
from intake.text.htmltext import html_to_text
from intake.text.names import safe_name

log = logging.getLogger(__name__)

#: Deeper MIME nesting than this is treated as hostile; real mail stays well under ten.
MAX_DEPTH = 50
#: Checked before the stdlib parses: it tests every line against every open boundary, so its
#: time grows with the square of the nesting. Twice MAX_DEPTH leaves room for boundaries our
#: quick count sees that the parser would not, and still bounds that cost.
_MAX_BOUNDARY_DEPTH = 2 * MAX_DEPTH
_BOUNDARY_PARAM = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]*)"|([^\s;"]+))""", re.IGNORECASE)
_DELIMITER = re.compile(rb"^--([^\r\n]*)", re.MULTILINE)
_FEED_CHUNK = 1 << 16
#: Part types kept for the classification rules; a report's parts come within the first few.
MAX_PARTS_LISTED = 200
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
# Parts whose payload is a list of header blocks, not an enclosed message.
_REPORTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_ENCLOSED = frozenset({"message/rfc822", "message/global"})
_BODY_TYPES = frozenset({"text/plain", "text/html"})
_ASCII_LABELS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "us", "iso646-us", "csascii"})


def parse(raw: bytes) -> ParsedMail:
    """Parse ``raw``; raise ParseError only when it cannot be read as a message at all."""
    if not raw.strip():
        raise ParseError("empty message")
    raw = _mend_line_ends(raw)
    _check_nesting(raw)
    try:
        return _parse(raw)
    except RecursionError as exc:
        # The stdlib parser recurses once per nesting level of multiparts.
        raise ParseError("MIME structure nested too deeply to parse") from exc


def _mend_line_ends(raw: bytes) -> bytes:
    """Lines ended CR CR LF (a mailer that turned LF into CRLF twice) read as CRLF.

    Read as they are, every header line is followed by an empty one, so the header ends after
    its first field and the rest becomes the body: a submission without a subject. Only a
    message whose first line ends so is mended; the stored raw bytes stay as they came.
    """
    first = raw.find(b"\n")
    if first < 1 or not raw[:first].endswith(b"\r\r"):
        return raw
    return _CR_RUN_LF.sub(b"\r\n", raw)


_CR_RUN_LF = re.compile(rb"\r+\n")


def parse_or_reason(raw: bytes) -> ParsedMail | str:
    """:func:`parse`, with a failure returned as the reason to quarantine the message for
    (picklable either way: a parse worker process sends it back)."""
    try:
        return parse(raw)
    except ParseError as exc:
        return f"parse: {exc}"
    except Exception as exc:  # noqa: BLE001 - a parser bug must not stop the mailbox
        log.exception("parser crashed")
        return f"parser crashed: {type(exc).__name__}: {exc}"


def _check_nesting(raw: bytes) -> None:
    """Refuse multiparts nested deeper than ``_MAX_BOUNDARY_DEPTH``, in one pass over the bytes:
    a declared boundary opens at its first delimiter line, and a delimiter of an open boundary
    closes every boundary opened inside it (as the stdlib parser reads them)."""
    events = [(m.start(), True, m.group(1) or m.group(2)) for m in _BOUNDARY_PARAM.finditer(raw)]
    events += [(m.start(), False, m.group(1)) for m in _DELIMITER.finditer(raw)]
    events.sort(key=lambda event: event[0])
    declared: set[bytes] = set()
    open_: list[bytes] = []
    for _, is_parameter, value in events:
        if is_parameter:
            declared.add(value)
            continue
        line = value.rstrip(b" \t\r")
        if line.endswith(b"--") and line[:-2] in open_:
            while open_.pop() != line[:-2]:
                pass  # the close delimiter ends its multipart and all left open inside it
        elif line in open_:
            while open_[-1] != line:
                open_.pop()
        elif line in declared:
            open_.append(line)
            if len(open_) > _MAX_BOUNDARY_DEPTH:
                raise ParseError(f"MIME boundaries nested more than {_MAX_BOUNDARY_DEPTH} deep")


@dataclass
class _Walk:
    """What walking the MIME tree collects (mutable while walking, never returned)."""

    hint: str | None  # charset for raw 8-bit headers and names
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[ParsedAttachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)


def _parse(raw: bytes) -> ParsedMail:
    msg = _message_from_bytes(raw)
    walk = _Walk(hint=_charset_hint(msg))
    if not msg.keys():
        # Text with no header block (a pasted digest, a truncated fetch): still readable.
        walk.defects.append("message has no header fields")
    _walk(msg, walk, depth=0, enclosed=False, where="message")
    _unpack_tnef(walk)
    defects = walk.defects

    fields = tuple(
        (name, headers.header_text(value, walk.hint, defects, name))
        for name, value in msg.raw_items()
    )
    senders = headers.addresses(msg, "from", walk.hint, defects)
    if not senders and msg.get("from") is None:
        defects.append("From: header missing")
    text = "\n\n".join(t.strip("\n") for t in walk.plain if t.strip())
    html = "\n".join(walk.html)
    if not text and html:
        text = html_to_text(html)
    return ParsedMail(
        message_id=headers.first_id(headers.raw(msg, "message-id"), walk.hint, defects),
        subject=headers.header_text(
            headers.raw(msg, "subject") or "", walk.hint, defects, "Subject"
        ),
        sender=senders[0] if senders else None,
        to=tuple(headers.addresses(msg, "to", walk.hint, defects)),
        cc=tuple(headers.addresses(msg, "cc", walk.hint, defects)),
        reply_to=tuple(headers.addresses(msg, "reply-to", walk.hint, defects)),
        date=headers.date(headers.raw(msg, "date"), defects),
        in_reply_to=headers.ids(headers.raw(msg, "in-reply-to"), walk.hint, defects),
        references=headers.ids(headers.raw(msg, "references"), walk.hint, defects),
        headers=fields,
        content_type=msg.get_content_type(),
        text=text,
        html=html,
        attachments=tuple(walk.attachments),
        defects=tuple(dict.fromkeys(defects)),
        bounce=bounces.detect(msg),
        return_path=headers.return_path(headers.raw(msg, "return-path")),
        parts=tuple(walk.parts),
    )


def _message_from_bytes(raw: bytes) -> Message:
    # Fed in chunks: email.message_from_bytes() would decode the whole message into one str and
    # wrap it in a StringIO (four bytes per character), several times the size of the message.
    parser = BytesFeedParser(policy=policy.compat32)
    for start in range(0, len(raw), _FEED_CHUNK):
        parser.feed(raw[start : start + _FEED_CHUNK])
    return parser.close()


def _charset_hint(msg: Message) -> str | None:
    """The charset the sender's client writes in: the first non-ASCII one the message declares.

    A us-ascii label says nothing about raw 8-bit header bytes, which contradict it, so it is
    skipped; without any hint the bytes are tried as UTF-8, then GB18030, then detected.
    """
    for part in _iter_parts(msg, 0):
        charset = part.get_param("charset")
        if isinstance(charset, str) and charset.strip():
            if charset.strip().strip("\"'").lower() in _ASCII_LABELS:
                continue
            return charset.strip()
    return None


def _iter_parts(msg: Message, depth: int) -> Iterable[Message]:
    yield msg
    if depth < MAX_DEPTH and msg.is_multipart() and msg.get_content_maintype() == "multipart":
        for part in msg.get_payload():
            if isinstance(part, Message):
                yield from _iter_parts(part, depth + 1)


# --- MIME tree ---------------------------------------------------------------------------------


def _walk(part: Message, walk: _Walk, *, depth: int, enclosed: bool, where: str) -> None:
    """Collect body text and attachments from ``part`` and below."""
    if depth > MAX_DEPTH:
        raise ParseError(f"MIME parts nested more than {MAX_DEPTH} deep")
    ctype = part.get_content_type()
    payload = part.get_payload()
    if len(walk.parts) < MAX_PARTS_LISTED:
        report = part.get_param("report-type")
        walk.parts.append(f"{ctype}; report-type={report}" if isinstance(report, str) else ctype)
    for defect in part.defects:
        name = type(defect).__name__
        walk.defects.append(f"{where} ({ctype}): {name}")

    if ctype in _REPORTS:
        return  # delivery-status blocks: read by intake.ingest.bounces, not content
    if isinstance(payload, list) and part.get_content_maintype() == "message":
        inner = next((m for m in payload if isinstance(m, Message)), None)
        if inner is not None and ctype in _ENCLOSED:
            inner, note = enclosures.decoded(part, inner)
            if note:
                walk.defects.append(f"{where}: {note}")
        if inner is not None:
            if not enclosed:
                # Kept once, whole, as the outermost .eml: each level of a message nested in
                # a message kept again would cost time and storage in the square of the depth.
                _attach_message(part, inner, walk, where)
            if ctype in _ENCLOSED:
                _walk(inner, walk, depth=depth + 1, enclosed=True, where=f"{where}/message")
        return
    if isinstance(payload, list):
        for index, child in enumerate(payload, 1):
            if isinstance(child, Message):
                child_where = f"{where}/{index}"
                _walk(child, walk, depth=depth + 1, enclosed=enclosed, where=child_where)
        return
    _leaf(part, walk, depth=depth, enclosed=enclosed, where=where)


def _leaf(part: Message, walk: _Walk, *, depth: int, enclosed: bool, where: str) -> None:
    ctype = part.get_content_type()
    if part.get_content_maintype() == "multipart":
        # A multipart whose boundary is missing or never appears: its text is all there is.
        ctype = "text/plain"
    disposition = (part.get_content_disposition() or "").lower()
    filename = _filename(part, walk, where)
    content_id = (
        headers.UNFOLD.sub("", str(headers.raw(part, "content-id") or "")).strip().strip("<>")
    )
    if ctype in _BODY_TYPES and not filename and disposition != "attachment":
        if not enclosed:
            _body(part, ctype, walk, where)
        # else: the text of an enclosed message lives in its .eml attachment
        return
    charset = part.get_param("charset")
    payload = _payload_bytes(part, walk, where)
    is_message = filename.lower().endswith(".eml") and looks_like_message(payload)
    if is_message and enclosed:
        # A saved message inside an enclosed one is inside the outermost .eml already: kept
        # again at every level, a message nested n deep would be stored n times over.
        if depth < MAX_DEPTH:
            _walk(_message_from_bytes(payload), walk, depth=depth + 1, enclosed=True,
                  where=f"{where}/message")  # fmt: skip
        return
    walk.attachments.append(
        ParsedAttachment(
            filename=filename,
            safe_name=safe_name(filename or _default_name(ctype)),
            content_type=ctype,
            payload=payload,
            content_id=content_id,
            inline=disposition == "inline" or (not disposition and bool(content_id)),
            charset=charset.strip() if isinstance(charset, str) else "",
        )
    )
    if is_message and depth < MAX_DEPTH:
        # A message saved from a mail client and attached as a file (or message/rfc822
        # sent base64-encoded): its attachments are the article's too, as for an enclosed one.
        _walk(_message_from_bytes(payload), walk, depth=depth + 1, enclosed=True,
              where=f"{where}/message")  # fmt: skip


def _body(part: Message, ctype: str, walk: _Walk, where: str) -> None:
    """Decode a text/plain or text/html body part from its raw bytes."""
    data = _payload_bytes(part, walk, where)
    label = part.get_param("charset")
    label_str = label if isinstance(label, str) else None
    if ctype == "text/html" and label_str is None:
        meta = _META_CHARSET.search(data[:2048])
        label_str = meta.group(1).decode("ascii") if meta else None
    text, notes = decode_text(data, label_str)
    walk.defects.extend(f"{where} ({ctype}): {note}" for note in notes)
    text = text.replace("\r\n", "\n")
    if ctype == "text/plain" and str(part.get_param("format") or "").lower() == "flowed":
        delsp = str(part.get_param("delsp") or "").lower() == "yes"
        text = unflow(text, delsp=delsp)
    (walk.html if ctype == "text/html" else walk.plain).append(text)


def _unpack_tnef(walk: _Walk) -> None:
    """Replace each winmail.dat with the files and body it holds (they are the mail's own)."""
    unpacked: list[ParsedAttachment] = []
    for attachment in walk.attachments:
        if not tnef.is_tnef(attachment.filename, attachment.content_type, attachment.payload):
            unpacked.append(attachment)
            continue
        found = tnef.unpack(attachment.payload)
        if found is None:
            walk.defects.append(f"{attachment.filename or 'winmail.dat'}: TNEF not unpacked")
            unpacked.append(attachment)
            continue
        walk.defects.append(
            f"{attachment.filename or 'winmail.dat'}: TNEF unpacked ({len(found.files)} files)"
        )
        for index, (name, data) in enumerate(found.files, 1):
            name = name or f"attachment-{index}.bin"
            guessed = mimetypes.guess_type(name, strict=False)[0] or "application/octet-stream"
            unpacked.append(
                ParsedAttachment(filename=name, safe_name=safe_name(name), content_type=guessed,
                                 payload=data)
            )  # fmt: skip
        has_body = any(t.strip() for t in walk.plain) or any(h.strip() for h in walk.html)
        if found.text and not any(t.strip() for t in walk.plain):
            walk.plain.append(found.text.replace("\r\n", "\n"))
        elif found.html and not has_body:
            walk.html.append(found.html)
        elif found.rtf and not has_body:
            # Outlook's rich-text body, read like any attached RTF document.
            unpacked.append(
                ParsedAttachment(filename="message.rtf", safe_name="message.rtf",
                                 content_type="application/rtf", payload=found.rtf)
            )  # fmt: skip
    walk.attachments[:] = unpacked


def _attach_message(part: Message, inner: Message, walk: _Walk, where: str) -> None:
    """Keep an enclosed message whole, as the bytes of a ``.eml`` file."""
    payload = enclosures.flattened(inner)
    filename = _filename(part, walk, where)
    subject = headers.header_text(
        headers.raw(inner, "subject") or "", walk.hint, walk.defects, where
    )
    walk.attachments.append(
        ParsedAttachment(
            filename=filename,
            safe_name=safe_name(filename or f"{subject or 'message'}.eml", default="message.eml"),
            content_type=part.get_content_type(),
            payload=payload,
            inline=(part.get_content_disposition() or "") == "inline",
        )
    )


def _default_name(ctype: str) -> str:
    extension = mimetypes.guess_extension(ctype, strict=False)
    extension = extension or (".txt" if ctype.startswith("text/") else ".bin")
    return f"attachment{extension}"


def _filename(part: Message, walk: _Walk, where: str) -> str:
    """The attachment name the sender gave, decoded: RFC 2231, RFC 2047 or raw 8-bit."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = headers.raw(part, header)
        if raw is None:
            continue
        view = Message()
        # A header-only copy whose raw 8-bit bytes are already text, so that the stdlib's
        # parameter parser (RFC 2231 continuations, quoting) never sees surrogates.
        view[header] = headers.unescape_8bit(
            headers.UNFOLD.sub("", raw), walk.hint, walk.defects, where
        )
        value = view.get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):
            charset, _language, text = value
            try:
                data = text.encode("latin-1")  # the stdlib unquotes %XX into latin-1 chars
            except UnicodeEncodeError:
                name = text
            else:
                name, notes = decode_text(data, charset or walk.hint)
                walk.defects.extend(f"{where} filename: {note}" for note in notes)
        else:
            # RFC 2047 is not allowed in parameters, but Outlook, Foxmail and QQ Mail use it.
            name = headers.decode_words(value, walk.defects, f"{where} filename")
        name = name.strip()
        if name:
            return name
    return ""


def _payload_bytes(part: Message, walk: _Walk, where: str) -> bytes:
    """The decoded content of a leaf part, without copying a large base64 payload twice."""
    cte = str(part.get("content-transfer-encoding", "") or "").strip().lower()
    if cte == "base64":
        # The stored str is returned as is when it is pure ASCII; binascii reads it in place
        # and skips line breaks. The stdlib path would split it into lines and join them.
        text = part.get_payload()
        if isinstance(text, str) and text.isascii():
            try:
                data = binascii.a2b_base64(text)
            except binascii.Error:
                pass
            else:
                # binascii skips characters outside the alphabet and stops at padding; compare
                # with what the alphabet characters should give (count() does not copy).
                spaces = sum(text.count(c) for c in "\r\n\t ")
                sextets = len(text) - spaces - text.count("=")
                if len(data) < sextets * 6 // 8:
                    walk.defects.append(f"{where}: base64 junk or data after padding ignored")
                return data
        walk.defects.append(f"{where}: invalid base64")
    elif cte not in ("", "7bit", "8bit", "binary", "quoted-printable"):
        if cte not in ("x-uuencode", "uuencode", "uue", "x-uue"):
            walk.defects.append(f"{where}: unknown Content-Transfer-Encoding {cte!r}")
    # Everything else, and malformed base64: the stdlib gives the raw bytes of 8-bit text
    # (get_payload() without decode would apply the declared charset with replacement), and
    # recovers what it can of bad base64, recording defects.
    known = len(part.defects)
    decoded = part.get_payload(decode=True)
    walk.defects.extend(f"{where}: {type(d).__name__}" for d in part.defects[known:])
    return decoded if isinstance(decoded, bytes) else b""
