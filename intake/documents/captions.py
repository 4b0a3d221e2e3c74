"""Photo captions that contributors write in the mail body next to a photo's name or number.

Contributors to a news site send photos with lines such as ``图1 IMG_2031.jpg：市民在公园晨练
（张三 摄）``, ``照片2.jpg 说明：……``, ``附图：xxx.jpg 为……``, ``第一张：……`` or
``photo1.jpg - Volunteers at the market``. :func:`find` reads those lines; it is pure and
deliberately conservative, as a wrong caption printed under a photo is worse than none:

* a file's full name (with its extension) is recognised anywhere in a line;
* its name without the extension, and an ordinal (图1, 图一, 照片1, 第一张, Photo 1 ...),
  only where a line starts, after a bullet or a label such as "附图：";
* the caption is the rest of the line up to the next file reference, without separators and
  words like "说明"; a line that is only a reference takes the next line when that is short;
* quoted lines (``>``) and lines too long to be a caption are not read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

#: A caption longer than this is body prose that happens to name a file.
MAX_CAPTION_CHARS = 300

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
              "七": 7, "八": 8, "九": 9}  # fmt: skip
_NUMBER = r"(\d{1,3}|[零〇一二两三四五六七八九十]{1,3})"
# Where a caption line starts: bullets and dashes, then perhaps a label such as "附图：".
_LEAD = re.compile(
    r"[\s*•·・\-–—【\[(（]*"
    r"(?:(?:附图|附照|配图|图片|照片|图说|附件|photo|picture|image)\s*[:：]\s*)?",
    re.I,
)
# "图1", "图一", "照片 2", "附图3", "Photo 1", "Fig. 2", "第一张", "第2幅照片", followed by a
# separator or a word that leads to the caption: "照片两张，请查收" counts nothing.
_ORDINAL = re.compile(
    r"(?:(?:附图|附照|配图|图片|照片|相片|图|photo|pic(?:ture)?|fig(?:ure)?\.?)\s*(?:no\.?\s*)?"
    + _NUMBER
    + r"|第\s*"
    + _NUMBER
    + r"\s*(?:张|幅|个)(?:图片|照片|相片|图)?)"
    + r"(?=[\s:：\-–—、,，.。)）\]】]|$|为|是|说明|图说|图注)",
    re.I,
)
_SEPARATORS = re.compile(r"[\s:：\-–—、,，.。]*")
# Separators and words between a reference and its caption, stripped from the caption's start.
_LEADING = re.compile(
    r"^(?:[\s:：\-–—、,，.。|｜=>》)）\]】]+|说明|图说|图注|注(?![意重])|描述|内容|为(?!了|何|什么)"
    r"|是|caption|description"
    # a file name the ordinal before it already stands for: "图1 IMG_2031.jpg：" (not attached)
    r"|[\w\-.]+\.(?:jpe?g|png|gif|heic|heif|webp|bmp|tiff?)(?![A-Za-z0-9_]))",
    re.I,
)
_TRAILING = " \t:：-–—、,，;；(（[【"
# An ASCII boundary: CJK text runs straight into file names ("见附件IMG_1.jpg").
_BEFORE = r"(?<![A-Za-z0-9_.\-])"
_AFTER = r"(?![A-Za-z0-9_])"


@dataclass(frozen=True, slots=True)
class _Ref:
    start: int
    end: int
    index: int  # into the file names


@dataclass(frozen=True, slots=True)
class _Names:
    names: tuple[str, ...]
    full: tuple[re.Pattern[str] | None, ...]  # the name with its extension, anywhere
    stems: tuple[re.Pattern[str] | None, ...]  # without it, where a line starts
    longest_first: tuple[int, ...]


def find(body_text: str, filenames: Sequence[str]) -> dict[str, str]:
    """Captions found in ``body_text`` for the image files named ``filenames``.

    ``filenames`` are the images in the order the mail carries them, which is the order
    ordinals such as 图1 or 第二张 count. The first caption found for a file is kept.
    """
    names = tuple(name.strip() for name in filenames)
    files = _Names(
        names,
        _patterns(names, with_extension=True),
        _patterns(names, with_extension=False),
        # Longest first, so "photo1.jpg" is not taken for a part of "my-photo1.jpg".
        tuple(sorted(range(len(names)), key=lambda i: -len(names[i]))),
    )
    found: dict[str, str] = {}
    lines = body_text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for number, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(">") or len(line) > 2 * MAX_CAPTION_CHARS:
            continue
        refs = _references(line, files)
        for position, ref in enumerate(refs):
            last = position + 1 == len(refs)
            caption = _clean(line[ref.end : len(line) if last else refs[position + 1].start])
            if not caption and last:
                caption = _before(line, ref)
            if not caption and len(refs) == 1 and _only_reference(line, ref):
                caption = _next_line(lines, number, files)
            name = names[ref.index]
            if caption and len(caption) <= MAX_CAPTION_CHARS and name not in found:
                found[name] = caption
    return found


def _patterns(names: Sequence[str], *, with_extension: bool) -> tuple[re.Pattern[str] | None, ...]:
    """One pattern per file name (None when it must not be matched that way)."""
    patterns: list[re.Pattern[str] | None] = []
    for name in names:
        stem, dot, ext = name.rpartition(".")
        if with_extension:
            text = name if dot and stem and ext else ""
        else:
            text = stem if dot and stem else name
            # "1", "a", "01": too common in prose to stand for a file without its extension
            if len(text) < 2 or text.isdigit():
                text = ""
        patterns.append(re.compile(_BEFORE + re.escape(text) + _AFTER, re.I) if text else None)
    return tuple(patterns)


def _references(line: str, files: _Names) -> list[_Ref]:
    """The file references in one line, left to right, not overlapping."""
    found: list[_Ref] = []
    for index in files.longest_first:
        pattern = files.full[index]
        for match in pattern.finditer(line) if pattern is not None else ():
            if not any(r.start < match.end() and match.start() < r.end for r in found):
                found.append(_Ref(match.start(), match.end(), index))
    if found:
        # Full names are the sender's own words for the files; an ordinal beside them is not
        # needed, and one that disagrees with them is not trusted.
        return sorted(found, key=lambda r: r.start)
    lead = _LEAD.match(line)
    start = lead.end() if lead else 0
    stem = _stem_at(line, start, files)
    if stem is not None:
        return [stem]
    ordinal = _ORDINAL.match(line, start)
    if ordinal is None:
        return []
    after = _SEPARATORS.match(line, ordinal.end())
    stem = _stem_at(line, after.end() if after else ordinal.end(), files)
    if stem is not None:
        return [stem]  # "图1 IMG_2031：": the name counts, not the number
    number = _number(ordinal.group(1) or ordinal.group(2))
    if 1 <= number <= len(files.names):
        return [_Ref(0, ordinal.end(), number - 1)]
    return []


def _stem_at(line: str, start: int, files: _Names) -> _Ref | None:
    for index in files.longest_first:
        pattern = files.stems[index]
        match = pattern.match(line, start) if pattern is not None else None
        if match is not None:
            return _Ref(match.start(), match.end(), index)
    return None


def _number(text: str) -> int:
    """1 for "1", "01" or "一"; 12 for "十二"; 20 for "二十"; 0 when it is no number."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        if "十" in units or len(tens) > 1 or len(units) > 1:
            return 0
        return (_CN_DIGITS.get(tens, 0) if tens else 1) * 10 + _CN_DIGITS.get(units, 0)
    if len(text) > 1:
        return 0  # "一二" is no way to write 12
    return _CN_DIGITS.get(text, 0)


def _clean(text: str) -> str:
    text = text.strip()
    while True:
        stripped = _LEADING.sub("", text, count=1).strip()
        if stripped == text:
            break
        text = stripped
    return text.rstrip(_TRAILING)


def _before(line: str, ref: _Ref) -> str:
    """A caption written before a bracketed file name: "市民在公园晨练（IMG_2031.jpg）"."""
    opener = line[: ref.start].rstrip()
    if not opener or opener[-1] not in "(（[【" or line[ref.end :].strip() not in ")）]】":
        return ""
    text = opener[:-1]
    lead = _LEAD.match(text)
    return text[lead.end() if lead else 0 :].strip().rstrip(_TRAILING)


def _only_reference(line: str, ref: _Ref) -> bool:
    """Whether the line holds nothing but the reference (and a bullet or label before it)."""
    lead = _LEAD.match(line)
    return (ref.start == 0 or (lead is not None and lead.end() >= ref.start)) and not _clean(
        line[ref.end :]
    )


def _next_line(lines: Sequence[str], number: int, files: _Names) -> str:
    """The line after a line that is only a reference, when it reads as a caption."""
    if number + 1 >= len(lines):
        return ""
    line = lines[number + 1].strip()
    if not line or line.startswith(">") or len(line) > MAX_CAPTION_CHARS:
        return ""
    if _references(line, files):
        return ""  # the next photo's line, not this one's caption
    return _clean(line)
