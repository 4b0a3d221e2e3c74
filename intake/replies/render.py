"""Turn reply templates into outgoing mail with threading, loop-prevention and HMAC Message-IDs.

Templates are Jinja2 files, one per template and language (``zh/ack.txt``, ``en/ack.txt``), each
with ``{% block subject %}``, ``{% block text %}`` and optionally ``{% block html %}`` (wrap its
body in ``{% autoescape true %}``: the environment does not escape, since most output is plain
text). A directory named by ``replies.templates`` overrides packaged files by the same relative
name; an override may ``{% extends "default/zh/ack.txt" %}`` to change only one block. Staff edit
these files, so they run in Jinja's immutable sandbox.

Every template gets ``site_name``, ``contact`` and ``name`` (the recipient's display name, may be
empty), plus ``number`` (submission or claim number) and the variables below; an optional ``note``
(the editor's words) is shown when given. Missing variables are errors (StrictUndefined).

===================  ================================================================
template             variables besides the common ones
===================  ================================================================
ack                  title, received_at, attachments (filename, readable; at most 20),
                     attachments_more (how many are not listed), decision_due,
                     decision_days
copyright_request    title, byline, platforms, exclusive, term, editing_allowed,
                     fee_policy, terms, terms_version, confirmation_code (the letter's
                     own, for answers without threading headers); optional respond_by
copyright_reminder   the same as copyright_request, plus requested_at
copyright_expired    title, requested_at
consent_receipt      title, granted (bool), terms_version, received_at
oversize             limit_mb; ``number`` is optional (an oversize mail may have none)
duplicate            title (``number`` is the submission received earlier)
accepted, declined, needs_info, withdrawn   title
published            title, url
reply                title; ``note`` is the editor's whole answer (``intake reply``)
claim_ack            received_at, work_title, urls (at most 20), urls_more, response_days,
                     respond_by
claim_removed        work_title, urls, urls_more
claim_paid           work_title, amount
claim_licensed       work_title
claim_rejected       work_title, reason
claim_needs_info     work_title
desk_new             kind, id, subject, sender, sender_name, received_at, chars,
                     attachments, status, duplicate_of, command, and ``item`` (all of them)
desk_digest          items (each as desk_new's ``item``), submissions, claims, more, mode,
                     period_start
===================  ================================================================

The desk templates go to the editors (``[desk] notify``), not to a contributor: their subjects
carry no reference token, so an editor's answer to one is never filed as a contributor's reply.

Templates call ``token(kind, number)`` for the subject's reference token and may use the filters
``date``, ``datetime``, ``filesize`` and ``work`` (a title in 《》 or “”, optionally shortened).

What a sender wrote reaches a letter only bounded (:func:`bounded_context`): the display name,
titles and file names on one line and shortened, at most ``LIST_LIMIT`` attachments or URLs
listed (``attachments_more`` and ``urls_more`` count the rest), so nobody writes paragraphs of
our letters by naming a file. The To: header's display name also loses the characters that
delimit addresses, so no folding can make it read as several.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from intake.core.errors import ConfigError

Language = Literal["zh", "en"]
LANGUAGES: tuple[Language, ...] = ("zh", "en")

#: Every packaged template and the kind of reference its subject carries.
TEMPLATES: Mapping[str, str] = {
    "ack": "submission",
    "copyright_request": "submission",
    "copyright_reminder": "submission",
    "copyright_expired": "submission",
    "consent_receipt": "submission",
    "oversize": "submission",
    "duplicate": "submission",
    "accepted": "submission",
    "declined": "submission",
    "needs_info": "submission",
    "published": "submission",
    "withdrawn": "submission",
    "reply": "submission",
    "claim_ack": "claim",
    "claim_removed": "claim",
    "claim_paid": "claim",
    "claim_licensed": "claim",
    "claim_rejected": "claim",
    "claim_needs_info": "claim",
}

#: Templates written to the desk about new mail; no reference token in their subjects.
DESK_TEMPLATES: frozenset[str] = frozenset({"desk_new", "desk_digest"})

# --------------------------------------------------------------------------- reference tokens

_TOKEN_WORDS: Mapping[str, Mapping[str, str]] = {
    "submission": {"zh": "投稿", "en": "Submission"},
    "claim": {"zh": "版权", "en": "Claim"},
}
_WORD_KIND = {word.lower(): kind for kind, words in _TOKEN_WORDS.items() for word in words.values()}
# Chinese input methods produce full-width brackets, ＃, digits and the ideographic space (which
# \s matches); they are listed here so titles can be scrubbed without normalising them, and
# parse_tokens applies NFKC first for the rarer full-width Latin letters.
_TOKEN_RE = re.compile(
    r"[\[［【〔〖]\s*("
    + "|".join(map(re.escape, _WORD_KIND))
    + r")\s*(?:[#＃]|No\.?)\s*([0-9０-９]{1,12})\s*[\]］】〕〗]",
    re.IGNORECASE,
)


def token_for(kind: str, number: int, language: str) -> str:
    """The reference token for a subject: ``[投稿 #123]``, ``[Claim #7]``."""
    try:
        word = _TOKEN_WORDS[kind][language]
    except KeyError:
        raise ValueError(f"no token for kind {kind!r} in language {language!r}") from None
    return f"[{word} #{number}]"


def parse_tokens(subject: str) -> list[tuple[str, int]]:
    """Every reference token in ``subject`` as (kind, number), in order, without repeats.

    Both languages are recognised, as are the full-width forms Chinese input methods produce
    (``【投稿 ＃１２３】``, ``［版权＃7］``), since contributors retype or mangle subjects.
    """
    found: dict[tuple[str, int], None] = {}
    for match in _TOKEN_RE.finditer(unicodedata.normalize("NFKC", subject)):
        kind = _WORD_KIND[match.group(1).lower()]
        found.setdefault((kind, int(match.group(2))), None)
    return list(found)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class RenderedText:
    """A rendered template: a one-line subject, a plain-text body and an optional HTML body."""

    subject: str
    text: str
    html: str = ""


_TEMPLATE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")


class Renderer:
    """Renders reply templates of one language, staff overrides first, packaged defaults next."""

    def __init__(
        self, templates_dir: str, language: str, *, timezone: tzinfo | None = None
    ) -> None:
        if language not in LANGUAGES:
            raise ConfigError(f"replies.language: expected one of zh | en, got {language!r}")
        self.language = language
        self._timezone = timezone
        packaged = jinja2.PackageLoader("intake.replies", "templates")
        loaders: list[jinja2.BaseLoader] = []
        if templates_dir:
            loaders.append(jinja2.FileSystemLoader(templates_dir))
        loaders += [packaged, jinja2.PrefixLoader({"default": packaged})]
        self._env = ImmutableSandboxedEnvironment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            autoescape=False,
            trim_blocks=True,
            lstrip_blocks=True,
            # Partials end in a newline, so an {% include %} line reads like any other line.
            keep_trailing_newline=True,
            # A None from the database must not print as the word "None" in a letter.
            finalize=lambda value: "" if value is None else value,
        )
        self._env.globals["token"] = self._token
        self._env.filters["date"] = self._format_date
        self._env.filters["datetime"] = self._format_datetime
        self._env.filters["filesize"] = _format_size
        self._env.filters["work"] = self._format_work

    def render(self, template: str, context: Mapping[str, object]) -> RenderedText:
        """Render ``template`` (``"ack"``) with ``context``; template problems are ConfigErrors."""
        if not _TEMPLATE_NAME.fullmatch(template):
            raise ConfigError(f"replies.templates: invalid template name {template!r}")
        name = f"{self.language}/{template}.txt"
        try:
            tmpl = self._env.get_template(name)
            ctx = tmpl.new_context(dict(context))
            # Rendering the whole template once runs any {% extends %} chain, which fills
            # ctx.blocks with the inherited blocks; each block is then rendered on its own.
            for _ in tmpl.root_render_func(ctx):
                pass
            blocks = {key: "".join(funcs[0](ctx)) for key, funcs in ctx.blocks.items() if funcs}
        except jinja2.TemplateNotFound:
            raise ConfigError(f"replies.templates: no template {name}") from None
        except jinja2.TemplateSyntaxError as exc:
            where = f"{exc.name or name} line {exc.lineno}"
            raise ConfigError(f"replies.templates: {where}: {exc.message}") from None
        except jinja2.TemplateError as exc:
            raise ConfigError(f"replies.templates: {name}: {exc}") from None
        for required in ("subject", "text"):
            if required not in blocks:
                raise ConfigError(f"replies.templates: {name}: no {{% block {required} %}}")
        return RenderedText(
            subject=collapse(blocks["subject"]),
            text=tidy_text(blocks["text"]),
            html=blocks.get("html", "").strip(),
        )

    def check(self) -> None:
        """Compile every template of this language, overrides and partials included."""
        prefix = f"{self.language}/"
        for name in self._env.list_templates(extensions=["txt"]):
            if not name.startswith(prefix):
                continue
            try:
                self._env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                where = f"{exc.name or name} line {exc.lineno}"
                raise ConfigError(f"replies.templates: {where}: {exc.message}") from None

    def _token(self, kind: str, number: int) -> str:
        return token_for(kind, number, self.language)

    def _format_work(self, title: object, length: int = 0, fallback: str = "") -> str:
        """A title in the language's quotation marks, shortened to ``length`` characters."""
        # Titles come from contributors: a reference token inside one would confuse matching.
        text = " ".join(_TOKEN_RE.sub(" ", clean(str(title or ""))).split())
        if text.startswith("《") and text.endswith("》"):
            text = text[1:-1].strip()
        if not text:
            return fallback or ("（无标题）" if self.language == "zh" else "(untitled)")
        if length and len(text) > length:
            text = text[: length - 1] + "…"
        return f"《{text}》" if self.language == "zh" else f"“{text}”"

    def _local(self, value: object, filter_name: str) -> dt.date:
        if not isinstance(value, dt.date):
            # A TemplateError, so render() reports it as a template problem, with its name.
            raise jinja2.TemplateRuntimeError(
                f"the {filter_name} filter needs a date, got {type(value).__name__}"
            )
        if isinstance(value, datetime) and self._timezone and value.tzinfo:
            return value.astimezone(self._timezone)
        return value

    def _format_date(self, value: object) -> str:
        day = self._local(value, "date")
        if self.language == "zh":
            return f"{day.year}年{day.month}月{day.day}日"
        return f"{day.day} {day:%B} {day.year}"

    def _format_datetime(self, value: object) -> str:
        moment = self._local(value, "datetime")
        if not isinstance(moment, datetime):
            return self._format_date(moment)
        zone = _zone_label(moment)
        suffix = f"（{zone}）" if self.language == "zh" else f" ({zone})"
        return f"{self._format_date(moment)} {moment:%H:%M}{suffix if zone else ''}"


def _zone_label(value: datetime) -> str:
    offset = value.utcoffset()
    if offset is None:
        return ""
    minutes = int(offset / timedelta(minutes=1))
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _format_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def collapse(value: str) -> str:
    return " ".join(clean(value).split())


def tidy_text(value: str) -> str:
    # Optional sections that render empty leave runs of blank lines behind.
    text = _MANY_BLANK_LINES.sub("\n\n", value.replace("\r\n", "\n").replace("\r", "\n"))
    return text.strip("\n").rstrip() + "\n"


# --------------------------------------------------------------------------- what senders wrote

#: A display name in a letter and in its To: header, in characters (names are 2-4 characters
#: in Chinese, rarely over 30 in Latin script).
NAME_LIMIT = 40
#: A title in a letter's text (the subject shortens it further with ``work(40)``).
TITLE_LIMIT = 100
#: A file name in a letter; its extension is kept, the middle is cut.
FILENAME_LIMIT = 60
#: Attachments or URLs a letter lists before "and N more".
LIST_LIMIT = 20
#: Contributor text in a template's variables and how long each may be.
_TEXT_LIMITS: Mapping[str, int] = {
    "name": NAME_LIMIT,
    "byline": NAME_LIMIT,
    "title": TITLE_LIMIT,
    "work_title": TITLE_LIMIT,
}
# Format characters (bidi overrides and isolates, zero-width joiners, the BOM) reorder or hide
# text in the reader's mail client; in a name or a file name they are only ever a trick.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# What delimits addresses in a header: without these a display name needs no quoting, and the
# email package's folding (which can drop the quotes of a long quoted name) cannot split it.
_SPECIALS = re.compile(r'[()<>\[\]:;@\\,."]')


def one_line(value: object, limit: int) -> str:
    """``value`` as one line of visible text, whitespace collapsed, at most ``limit``
    characters (the last an ellipsis when cut)."""
    text = str(value or "").encode("utf-8", "replace").decode("utf-8")
    text = "".join(
        " " if unicodedata.category(char) in _INVISIBLE or char.isspace() else char for char in text
    )
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: max(limit - 1, 0)].rstrip() + "…"
    return text


def short_filename(value: object, limit: int = FILENAME_LIMIT) -> str:
    """A file name on one line, at most ``limit`` characters, keeping its extension."""
    name = one_line(value, 10 * limit)
    if len(name) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        return one_line(name, limit)
    keep = limit - len(extension) - 2  # the ellipsis and the dot
    return f"{stem[:keep].rstrip()}….{extension}"


def header_name(value: object) -> str:
    """A display name for a To: or From: header: one line, shortened, without the characters
    that delimit addresses (``,;<>@"`` and the rest of RFC 5322's specials) and without
    anything a reader would decode as an encoded word."""
    text = _SPECIALS.sub(" ", one_line(value, 4 * NAME_LIMIT))
    # A name that is itself an encoded word ("=?utf-8?b?…?=") would be written as it is and
    # decoded by the reader into whatever it hides, commas and addresses included.
    return one_line(text.replace("=?", "= ?").replace("?=", "? ="), NAME_LIMIT)


def bounded_context(context: Mapping[str, object]) -> dict[str, object]:
    """A template's variables with what a sender wrote bounded: names and titles on one line
    and shortened, at most ``LIST_LIMIT`` attachments (file names shortened) and URLs, the
    number left out in ``attachments_more`` and ``urls_more``."""
    ctx = dict(context)
    for key, limit in _TEXT_LIMITS.items():
        if isinstance(ctx.get(key), str):
            ctx[key] = one_line(ctx[key], limit)
    attachments = ctx.get("attachments")
    if isinstance(attachments, list | tuple):
        listed = []
        for item in attachments[:LIST_LIMIT]:
            if isinstance(item, Mapping) and "filename" in item:
                item = {**item, "filename": short_filename(item["filename"])}
            listed.append(item)
        ctx["attachments"] = listed
        ctx["attachments_more"] = max(0, len(attachments) - LIST_LIMIT)
    urls = ctx.get("urls")
    if isinstance(urls, list | tuple):
        ctx["urls"] = [one_line(url, 300) for url in urls[:LIST_LIMIT]]
        ctx["urls_more"] = max(0, len(urls) - LIST_LIMIT)
    return ctx


# --------------------------------------------------------------------------- Message-IDs

_MAC_BYTES = 10  # 80 bits: forging one needs the secret, and IDs stay short enough not to fold
_B32 = re.compile(r"[a-z2-7]+")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def _mac(secret: bytes, stamp: str) -> str:
    digest = hmac.new(secret, stamp.encode("ascii"), hashlib.sha256).digest()
    return _b32(digest[:_MAC_BYTES])


def make_message_id(secret: bytes, domain: str, *, now: datetime, nonce: bytes) -> str:
    """A Message-ID (no angle brackets) whose local part carries an HMAC of its time and nonce.

    ``nonce`` should be fresh random bytes (``os.urandom(8)``); it is passed in so this stays
    a pure function.
    """
    if not secret:
        raise ValueError("make_message_id: the secret must not be empty")
    if not nonce:
        raise ValueError("make_message_id: the nonce must not be empty")
    host = clean_domain(domain)
    stamp = f"{int(now.timestamp()):x}.{_b32(nonce)}"
    return f"intake.{stamp}.{_mac(secret, stamp)}@{host}"


def verify_message_id(secret: bytes, message_id: str) -> bool:
    """Whether ``message_id`` (with or without angle brackets) was made with ``secret``."""
    local, at, _domain = message_id.strip().strip("<>").partition("@")
    # Some gateways change the case of Message-IDs; ours are all lower case anyway.
    parts = local.lower().split(".")
    if not at or not secret or len(parts) != 4 or parts[0] != "intake":
        return False
    _, stamp_time, nonce, mac = parts
    if not (re.fullmatch(r"[0-9a-f]{1,16}", stamp_time) and _B32.fullmatch(nonce)):
        return False
    return hmac.compare_digest(mac, _mac(secret, f"{stamp_time}.{nonce}"))


# --------------------------------------------------------------------------- confirmation codes

# Crockford's base 32: digits and capitals without I, L, O and U, so that what a person reads
# off a letter and types back is not ambiguous; 0/O and 1/I/L are taken as the same when read.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CODE_LENGTH = 8  # 40 bits: one guess in a trillion, and still short to type
_CODE_READ = {"0": "[0O]", "1": "[1IL]"}
#: What a preview prints where the code goes: the code exists only once the letter is queued
#: (it is made from the letter's own Message-ID); an edited letter gets its code then.
CODE_PLACEHOLDER = "XXXX-XXXX"
# Between two characters of a code as people retype it: spaces (the ideographic one too, after
# NFKC), hyphens and dashes, dots, underscores and middle dots.
_CODE_GAP = r"[\s\-‐‑‒–—―_.·・]*"
_CODE_EDGE = "0-9A-Z"
# The label a contributor copies with the code; it goes with it before the answer is read.
_CODE_LABEL = r"(?:确认码|確認碼|验证码|驗證碼|CONFIRMATION\s*CODE|CODE)?\s*[:：]?\s*"


def confirmation_code(secret: bytes, message_id: str) -> str:
    """The short code a copyright request or reminder prints (``K7QM-3RTD``): an HMAC of the
    letter's own Message-ID, so only a reader of that letter has it, and a code of one letter
    says nothing about another (nor about the submission's number)."""
    if not secret:
        raise ValueError("confirmation_code: the secret must not be empty")
    key = b"intake consent code\0" + message_id.strip().strip("<>").lower().encode("utf-8")
    number = int.from_bytes(hmac.new(secret, key, hashlib.sha256).digest()[:5], "big")
    chars = [_CODE_ALPHABET[(number >> shift) & 31] for shift in range(35, -1, -5)]
    half = _CODE_LENGTH // 2
    return "".join(chars[:half]) + "-" + "".join(chars[half:])


def find_code(text: str, code: str) -> tuple[int, int] | None:
    """Where ``code`` is written in ``text`` (start, end: its label, such as "确认码：", with
    it), however it was retyped: in any case, with spaces or dashes anywhere inside, with
    full-width characters, with O for 0 and I or L for 1. The code must stand on its own (no
    letter or digit right before or after it). None when it is not there."""
    wanted = code.replace("-", "").upper()
    if len(wanted) != _CODE_LENGTH or any(c not in _CODE_ALPHABET for c in wanted):
        return None
    folded, starts = _fold(text)
    body = _CODE_GAP.join(_CODE_READ.get(c, re.escape(c)) for c in wanted)
    pattern = re.compile(rf"(?<![{_CODE_EDGE}]){_CODE_LABEL}({body})(?![{_CODE_EDGE}])")
    found = pattern.search(folded)
    if found is None:
        return None
    return starts[found.start()], starts[found.end()]


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` with each character NFKC-folded and, if then ASCII, upper-cased; and where each
    folded character came from in ``text``."""
    out: list[str] = []
    starts: list[int] = []
    for i, char in enumerate(text):
        folded = unicodedata.normalize("NFKC", char)
        if folded.isascii():
            folded = folded.upper()
        out.append(folded)
        starts.extend([i] * len(folded))
    starts.append(len(text))
    return "".join(out), starts


# --------------------------------------------------------------------------- building mail


# Anything that could end a header line or confuse a reader: ASCII controls (CR, LF, TAB, NUL)
# and the Unicode line and paragraph separators some mail clients honour.
CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def clean(value: str) -> str:
    """A single-line value: control characters become spaces; unpaired surrogates become '?'."""
    value = value.encode("utf-8", "replace").decode("utf-8")
    return CONTROL.sub(" ", value)


def clean_domain(domain: str) -> str:
    host = clean(domain).strip().strip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise ValueError(f"not a usable domain: {host!r}") from None
    if not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", ascii_host):
        raise ValueError(f"not a usable domain: {host!r}")
    return ascii_host.lower()
