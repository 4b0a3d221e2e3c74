"""Separate the new text of a reply from the original it quotes, for the mail clients
contributors use (QQ Mail, Foxmail, NetEase 163/Mail Master, Outlook, Gmail, Apple Mail, phones).

Pure functions on the plain text of a message. The rules are ours, not a library's: the reply
parsers on PyPI (mail-parser-reply, quotequail) miss Foxmail's, NetEase's, Gmail's Chinese and
Apple Mail's Chinese quote headers, and a missed quote of our copyright request (which says
"如同意，请回复同意") would read as consent. Each rule names the client it comes from; the
fixtures under ``tests/data/replies/`` are those clients' real formats.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

# Lines that start the quoted original; everything from there on is old.
# QQ Mail: "------------------ 原始邮件 ------------------" (web, Chinese), "… Original …" (app);
# Outlook: "-----Original Message-----", "-----原始邮件-----"; NetEase Mail Master:
# "---- 回复的原邮件 ----", "---- Replied Message ----"; Gmail/QQ forwards.
_DIVIDER = re.compile(
    r"^[-—_=*]{2,}\s*(?:原始邮件|原始郵件|原邮件|回复的原邮件|回复的原始邮件|邮件原文|转发邮件|转发的邮件"
    r"|原始信件|original(?:\s+message)?|replied\s+message|forwarded\s+message)\s*[-—_=*]{2,}$",
    re.IGNORECASE,
)
# QQ Mail since 2023 writes the label alone on a line above its From/Sent Time card.
_BARE_LABEL = re.compile(r"^(?:原始邮件|回复的原邮件|original|replied message)$", re.IGNORECASE)
# Outlook (and Outlook.com) rule the quoted header off with a line of underscores.
_RULE = re.compile(r"^_{8,}$")
# Header fields of a quoted header block: Outlook, Foxmail, QQ Mail and NetEase in both
# languages. Bold markers (*From:*) come from HTML turned into text; "| 发件人 |" is Mail
# Master's table.
_FROM_NAMES = r"from|发件人|寄件者|寄件人"
_OTHER_NAMES = (
    r"sent|sent time|date|to|cc|subject|发送时间|发送日期|日期|时间|收件人|抄送|抄送人|主题"
)
_FIELD = r"^[*|]?\s*(?:{names})\s*\**\s*(?:[:：]|\|)"
_FROM_FIELD = re.compile(_FIELD.format(names=_FROM_NAMES), re.IGNORECASE)
_OTHER_FIELD = re.compile(_FIELD.format(names=_OTHER_NAMES), re.IGNORECASE)
# Attribution lines: Gmail and Apple Mail in English ("On … wrote:"); Gmail in Chinese
# ("张三 <a@b> 于2024年3月6日周三 09:00写道："); NetEase, Apple Mail and Thunderbird in Chinese
# ("在 2024-03-06 09:00:00，"张三" <a@b> 写道："). Often wrapped onto a second line.
_WROTE_EN = re.compile(r"\bwrote\s*:$", re.IGNORECASE)
_WROTE_ZH = re.compile(r"写道\s*[:：]$")
_MAX_ATTRIBUTION = 300
_DATE = re.compile(r"\d{4}\s*[-/年.]\s*\d{1,2}")
# Phone and app signatures that sit between a reply and its quote (whole lines only, so that
# "发自我的内心" in a sentence is kept).
_DEVICE = (
    r"iphone|ipad|android|手机|平板|华为|荣耀|小米|红米|vivo|oppo|一加|魅族|三星|galaxy|huawei"
    r"|honor|xiaomi|redmi|oneplus|samsung"
)
_SIGNATURE_LINE = re.compile(
    rf"^(?:(?:发自|来自|从)我的\s*[\w ]{{0,12}}?(?:{_DEVICE})[\w ]{{0,12}}?(?:发送)?"
    r"|sent from my \S.{0,30}|sent from (?:mail|outlook|yahoo mail)\b.{0,30}"
    r"|(?:get|获取) ?outlook for (?:ios|android)"
    r"|(?:发自|来自)(?:网易邮箱大师|网易邮箱|qq ?邮箱|手机qq邮箱|windows ?(?:10|11)? ?版?邮件)"
    r".{0,20})$",
    re.IGNORECASE,
)
_SIGNATURE_START = re.compile(r"^--\s?$")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[\u00a0\u3000\t ]+")
_BLANK_RUN = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class Split:
    """A reply cut in two: what the sender wrote now, and what they quoted."""

    new: str
    quoted: str
    cue: str  # the rule that found the quote: divider, header-block, attribution, quote-marks


def new_text(text: str) -> str:
    """What the sender wrote in this message, without the quoted original or phone signature."""
    return split(text).new


def split(text: str) -> Split:
    """Cut ``text`` where the quoted original starts (see the module docstring)."""
    lines = _normalise(text).split("\n")
    keys = [_key(line) for line in lines]
    kept: list[tuple[int, str]] = []
    cue = ""
    quoted: list[str] = []
    i = 0
    while i < len(lines):
        key = keys[i]
        if _is_quoted(lines[i]):
            cue = cue or "quote-marks"
            quoted.append(lines[i])
            i += 1
            continue
        if _SIGNATURE_START.match(lines[i].strip()):
            quoted.extend(lines[i:])  # a "-- " signature runs to the end (or to the quote)
            break
        start = _block_start(keys, i)
        if start is not None:
            first, name = start
            kept = [(j, line) for j, line in kept if j < first]
            quoted.extend(lines[first:])
            cue = name
            break
        wrapped = _attribution(keys, i)
        if wrapped:
            if _quote_follows(lines, i + wrapped):
                # Gmail, Apple Mail, Thunderbird: the quote below is marked with ">", so text
                # after it (a bottom-posted answer) is new again.
                quoted.extend(lines[i : i + wrapped])
                cue = cue or "attribution"
                i += wrapped
                continue
            quoted.extend(lines[i:])  # HTML turned into text: the quote lost its ">" marks
            cue = "attribution"
            break
        if _SIGNATURE_LINE.match(key):
            i += 1
            continue
        kept.append((i, lines[i]))
        i += 1
    return Split(_tidy([line for _, line in kept]), _tidy(quoted), cue if quoted else "")


def _normalise(text: str) -> str:
    # QQ Mail's plain-text part keeps HTML entities ("&nbsp;原始邮件&nbsp;", "&gt;;").
    if "&" in text:
        text = html.unescape(text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _INVISIBLE.sub("", text)


def _key(line: str) -> str:
    """A line as the rules see it: spaces collapsed, bold markers around it dropped."""
    return _SPACES.sub(" ", line).strip().strip("*").strip()


def _is_quoted(line: str) -> bool:
    return line.lstrip(" \u00a0\u3000\t").startswith((">", "＞"))


def _block_start(keys: list[str], i: int) -> tuple[int, str] | None:
    """Where the quoted original starts if line ``i`` opens it, with the rule's name."""
    key = keys[i]
    if _DIVIDER.match(key):
        return i, "divider"
    if _RULE.match(key) and _header_block(keys, _next_content(keys, i + 1)):
        return i, "divider"
    if _header_block(keys, i):
        before = _previous_content(keys, i - 1)
        if before is not None and _BARE_LABEL.match(keys[before]):
            return before, "header-block"
        return i, "header-block"
    return None


def _header_block(keys: list[str], i: int | None) -> bool:
    """A From/发件人 field followed, within a few lines, by another header field."""
    if i is None or i >= len(keys) or not _FROM_FIELD.match(keys[i]):
        return False
    for key in keys[i + 1 : i + 6]:
        if key:  # converters put blank lines between the fields
            return _OTHER_FIELD.match(key) is not None
    return False


def _attribution(keys: list[str], i: int) -> int:
    """1 or 2 if line ``i`` (or it and the next, wrapped) is an "On … wrote:" line, else 0."""
    one = keys[i]
    if _is_attribution(one):
        return 1
    if i + 1 < len(keys) and keys[i + 1] and _is_attribution(f"{one} {keys[i + 1]}"):
        return 2
    return 0


def _is_attribution(line: str) -> bool:
    if len(line) > _MAX_ATTRIBUTION or not re.search(r"[0-9@]", line):
        return False
    if _WROTE_EN.search(line):
        return line.lower().startswith("on ")
    if _WROTE_ZH.search(line):
        # "在第3段写道：" in the contributor's own words is not one: a date or an address is.
        return _DATE.search(line) is not None or "@" in line
    return False


def _quote_follows(lines: list[str], i: int) -> bool:
    for line in lines[i:]:
        if line.strip():
            return _is_quoted(line)
    return False


def _next_content(keys: list[str], i: int) -> int | None:
    for j in range(i, min(len(keys), i + 3)):
        if keys[j]:
            return j
    return None


def _previous_content(keys: list[str], i: int) -> int | None:
    for j in range(i, max(-1, i - 4), -1):
        if keys[j]:
            return j
    return None


def _tidy(lines: list[str]) -> str:
    text = "\n".join(line.rstrip() for line in lines).strip()
    return _BLANK_RUN.sub("\n\n", text)
