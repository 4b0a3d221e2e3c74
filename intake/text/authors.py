"""Who wrote it: the contributor's details from the cover note or the document's end.

Chinese newspapers ask contributors to end their mail with their real name and pen name
(笔名), phone, address and postcode, employer, ID number (身份证号) and bank account
(开户行/账号) so that the fee can be paid. Contributors write them as a block of lines, as one
line with separators, or inside the document under the title or after the last paragraph;
with full-width colons, spaced-out labels ("姓  名"), or none. :func:`read` finds the labelled
values in those places only (never in the article's prose), checks each value's shape, and
:func:`masked` hides the numbers for display.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields, replace


def _lazy(pattern: str, flags: int = 0) -> Callable[[], re.Pattern[str]]:
    """A pattern compiled on first use: showing a submission reads its stored details and
    masks them without compiling any (0.1 s of every ``intake show``)."""
    return functools.cache(lambda: re.compile(pattern, flags))


#: The fields of ``show --json``'s ``author`` object, in order (a contract).
FIELDS = (
    "name", "pen_name", "phone", "address", "postcode", "organisation", "id_number", "bank",
    "account",
)  # fmt: skip

#: Labels contributors write before each detail, longest first when matched. "作者" is the
#: byline: the real name unless a 真名/姓名 label gives that, then the pen name.
LABELS: dict[str, tuple[str, ...]] = {
    "pen_name": ("笔名", "筆名", "署名", "网名", "網名", "pen name", "pen-name", "penname"),
    "name": (
        "真实姓名", "真實姓名", "真名", "姓名", "本名", "原名", "作者姓名", "投稿人", "联系人",
        "聯繫人", "real name", "full name", "name",
    ),
    "byline": ("作者", "作 者", "author", "by"),
    "phone": (
        "联系电话", "聯繫電話", "联系手机", "手机号码", "手機號碼", "手机号", "手機號", "电话号码",
        "電話號碼", "移动电话", "手机", "手機", "电话", "電話", "联系方式", "聯繫方式", "tel",
        "telephone", "phone", "mobile", "cell", "手机/微信", "电话/微信", "微信/手机",
    ),
    "address": (
        "通讯地址", "通訊地址", "联系地址", "聯繫地址", "邮寄地址", "郵寄地址", "收件地址",
        "家庭住址", "家庭地址", "详细地址", "詳細地址", "住址", "地址", "address",
        "mailing address",
    ),
    "postcode": (
        "邮政编码", "郵政編碼", "郵遞區號", "邮编", "郵編", "postcode", "post code", "zip code",
        "zip",
    ),
    "organisation": (
        "作者单位", "作者單位", "工作单位", "工作單位", "所在单位", "所在單位", "就职单位",
        "单位名称", "工作单位及职务",
        "单位", "單位", "学校", "學校", "organisation", "organization", "affiliation", "employer",
    ),
    "id_number": (
        "身份证号码", "身份證號碼", "身份证号", "身份證號", "身份證字號", "身份证", "身份證",
        "证件号码", "證件號碼", "证件号", "id number", "id no", "id card",
    ),
    "bank": (
        "开户银行", "開戶銀行", "开户行名称", "开户行", "開戶行", "开户网点", "开户支行",
        "收款银行", "银行名称", "bank name", "bank",
    ),
    "account": (
        "银行卡号", "銀行卡號", "银行账号", "銀行帳號", "收款账号", "收款帳號", "账号/卡号",
        "卡号/账号", "银行卡", "卡号", "卡號", "账号", "帳號", "账户", "帳戶", "户号",
        "account number", "account no", "account", "card number", "card no",
    ),
}  # fmt: skip

_LABEL_OF: dict[str, str] = {label: field for field, labels in LABELS.items() for label in labels}


def _label_pattern(label: str) -> str:
    # "姓  名" and "电 话": forms and tables space out two-character labels.
    chars = [re.escape(c) for c in label.replace(" ", "")]
    if label.isascii():
        return (
            r"\s*".join(re.escape(w) for w in label.split()) if " " in label else re.escape(label)
        )
    return r"[ \t\u3000]*".join(chars)


_ORDERED = sorted(_LABEL_OF, key=len, reverse=True)
# A label at the start of a segment, then a colon, a dash or spaces, then the value; or a
# number straight after the label ("手机13866667777", "邮编610041"), as people type it in a
# sentence (each value is checked, so "电话2次" gives no phone).
_LABEL = _lazy(
    r"(?P<label>" + "|".join(_label_pattern(label) for label in _ORDERED) + r")"
    r"(?![a-z])[ \t\u3000]*(?:[:：=]|[】\]）)]|[-—]+|(?<=[ \t\u3000])(?=[\w(（\d+])"
    r"|(?<![a-z])(?=\+?\d))"
    r"[ \t\u3000]*",
    re.IGNORECASE,
)
# Where one detail ends and the next may begin on a line of several.
_SEPARATORS = _lazy(r"[|｜;；/／]|[，,、。]\s*|[ \t\u3000]{2,}|[（(【\[]|[)）】\]]")

_PHONE_END = _lazy(r"[|｜;；，,、/]|[ \t\u3000]{2,}")
_HARD_SEPARATORS = _lazy(r"[|｜;；]|[ \t\u3000]{2,}")
# Closing words that look like a two-character name on a line of their own.
_NOT_NAMES = frozenset(
    "此致 敬礼 敬禮 谢谢 謝謝 感谢 感謝 您好 你好 祝好 编安 編安 顺祝 商祺 时祺 敬上 谨上 拜上 "
    "盼复 期待 附件 稿件 作者 联系 電話 电话 地址 邮编 谢谢您 谢谢老师 此致敬礼".split()
)

_MOBILE = r"(?<!\d)(?:\+?86[ -]?)?1[3-9]\d[ -]?\d{4}[ -]?\d{4}(?!\d)"
_LANDLINE = r"(?<!\d)(?:\(?0\d{2,3}\)?[ -]?)?[2-9]\d{6,7}(?:[ -]?(?:转|ext\.?)\d{1,5})?(?!\d)"
_HK_TW = r"(?<!\d)(?:\+?(?:852|853|886)[ -]?)?[2-9]\d{3}[ -]?\d{4}(?!\d)"
_PHONE = _lazy(f"{_MOBILE}|{_LANDLINE}|{_HK_TW}", re.IGNORECASE)
_BARE_MOBILE_LINE = _lazy(r"^\W*(?:[\u4e00-\u9fff·]{2,5}\s*)?(" + _MOBILE + r")\W*$")
_ID = _lazy(r"(?<![\dA-Za-z])(\d{6}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx]"
                 r"|\d{15})(?![\dA-Za-z])")  # fmt: skip
_ACCOUNT = _lazy(r"(?<!\d)(\d(?:[ -]?\d){15,18})(?!\d)")
_POSTCODE = _lazy(r"(?<!\d)(\d{6})(?!\d)")
_ADDRESS_POSTCODE = _lazy(r"[（(\s,，]*(?:邮编|郵編|邮政编码)?[:：]?\s*(\d{6})[)）]?\s*$")
# Han names are two to four characters (a two-character surname and a two-character given
# name at most); minority names in transcription join their parts with a middle dot.
_HAN_NAME = _lazy(
    r"^[\u4e00-\u9fff]{2,4}$|^[\u4e00-\u9fff]{1,8}·[\u4e00-\u9fff·]{1,12}$"
    r"|^[A-Za-z][A-Za-z .'-]{1,40}$"
)

_HEAD_LINES = 6  # lines under a document's title where a byline block sits
_TAIL_LINES = 20  # lines at a document's or a long body's end
_MAX_LINE = 200  # a longer line is prose, not details


@dataclass(frozen=True, slots=True)
class Author:
    """The contributor's details; "" where none was found."""

    name: str = ""
    pen_name: str = ""
    phone: str = ""
    address: str = ""
    postcode: str = ""
    organisation: str = ""
    id_number: str = ""
    bank: str = ""
    account: str = ""

    def as_json(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in FIELDS}

    @property
    def empty(self) -> bool:
        return not any(getattr(self, f) for f in FIELDS)

    def merged(self, other: Author) -> Author:
        """These details, with the gaps filled from ``other``."""
        return replace(self, **{f: getattr(other, f) for f in FIELDS if not getattr(self, f)})

    @classmethod
    def from_json(cls, data: object) -> Author:
        if not isinstance(data, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in data.items() if k in known and v})


def read(
    cover_note: str, documents: Sequence[str] = (), *, body_is_article: bool = False
) -> Author:
    """The details in the cover note, completed from the documents' heads and ends.

    ``body_is_article``: the body holds the article itself, so only its last lines are read.
    """
    lines = cover_note.splitlines()
    found = read_lines(lines[-_TAIL_LINES:] if body_is_article else lines)
    for text in documents:
        doc_lines = [line for line in text.splitlines() if line.strip()]
        head = doc_lines[:_HEAD_LINES]
        tail = doc_lines[-_TAIL_LINES:] if len(doc_lines) > _HEAD_LINES else []
        found = found.merged(read_lines(tail)).merged(read_lines(head, bare_names=False))
    return found


def read_lines(lines: Iterable[str], *, bare_names: bool = True) -> Author:
    """The labelled details on ``lines`` (the first value of each field wins).

    ``bare_names``: a name alone on the line above the details is the contributor's (not so
    under a document's title, where that line is the title)."""
    values: dict[str, str] = {}
    byline = ""
    previous = ""  # the line before, when it was a bare name
    for raw in lines:
        line = raw.strip().strip("*#>【】[]").strip()
        if not line or len(line) > _MAX_LINE:
            previous = ""
            continue
        bare = _BARE_MOBILE_LINE().match(line)
        if bare:
            values.setdefault("phone", _compact(bare.group(1)))
            name = _name(line[: bare.start(1)]) or previous
            if name:
                values.setdefault("name", name)
            previous = ""
            continue
        labelled = list(_labelled(line))
        if not labelled:
            previous = _bare_name(line)
            continue
        lead = _lead_name(line[: labelled[0][2]])
        if lead:  # "…请审阅。李明，电话：…": the name comes first, unlabelled
            values.setdefault("name", lead)
        elif previous and bare_names and not any(f in ("name", "byline") for f, *_ in labelled):
            values.setdefault("name", previous)  # "张三" on its own line above "电话：…"
        previous = ""
        for field, value, _start in labelled:
            if field == "byline":
                byline = byline or _name(value)
                continue
            clean = _clean(field, value, values)
            if clean and field not in values:
                values[field] = clean
    if byline:
        if "name" not in values:
            values["name"] = byline
        elif "pen_name" not in values and byline != values["name"]:
            values["pen_name"] = byline
    return Author(**values)


def _lead_name(text: str) -> str:
    """The name right before a line's first label, after the sentence before it."""
    pieces = [p for p in re.split(r"[，,。.!！|｜;；:：\s]+", text) if p]
    name = _name(pieces[-1]) if pieces else ""
    return name if name and name not in _NOT_NAMES else ""


def _bare_name(line: str) -> str:
    """A line that is only a name ("张三", "李小明 敬上"), or ""."""
    line = re.sub(r"\s*(?:敬上|谨上|謹上|拜上|叩上|上)$", "", line.strip(" \t\u3000-—"))
    if any(line.startswith(label) for label in _LABEL_OF if not label.isascii()):
        return ""  # "作者信息", "联系方式": a heading, not a name
    name = _name(line) if len(line) <= 8 else ""
    return name if name and name not in _NOT_NAMES and not line.isascii() else ""


def _labelled(line: str) -> Iterable[tuple[str, str, int]]:
    """``(field, raw value, where the label starts)`` for every label that starts a segment
    of ``line``."""
    matches = [m for m in _LABEL().finditer(line) if _segment_start(line, m.start())]
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(line)
        field = _LABEL_OF.get(_normal_label(match.group("label")), "")
        if field:
            yield field, line[match.end() : end], match.start()


def _segment_start(line: str, index: int) -> bool:
    """Whether a label at ``index`` starts a segment: the line's start or after a separator,
    never inside a sentence ("他的电话号码是…" is prose)."""
    before = line[:index]
    return not before.strip(" \t\u3000*#-•·") or bool(
        re.search(r"(?:[|｜;；/／，,、。()（）【】\[\]]|[ \t\u3000])\s*$", before)
    )


def _normal_label(label: str) -> str:
    key = re.sub(r"[ \t\u3000]+", "", label).lower()
    if key in _LABEL_OF:
        return key
    spaced = label.strip().lower()
    return spaced if spaced in _LABEL_OF else " ".join(spaced.split())


def _clean(field: str, value: str, values: dict[str, str]) -> str:
    if field == "phone":
        value = _PHONE_END().split(value, maxsplit=1)[0]
    elif field in ("address", "bank", "organisation"):
        # their values hold commas and brackets themselves: only a hard separator ends them
        value = _HARD_SEPARATORS().split(value, maxsplit=1)[0]
    else:
        value = _SEPARATORS().split(value, maxsplit=1)[0]
    value = value.strip(" \t\u3000:：,，。.;；")
    if value.endswith(("）", ")")) and not any(c in value for c in "（("):
        value = value[:-1].strip()  # "（作者单位：某大学）": the bracket closes the aside
    if not value:
        return ""
    if field == "phone":
        found = _PHONE().search(value)
        return _compact(found.group(0)) if found else ""
    if field == "id_number":
        found = _ID().search(value.replace(" ", ""))
        return found.group(1).upper() if found else ""
    if field == "account":
        found = _ACCOUNT().search(value)
        return re.sub(r"[ -]", "", found.group(1)) if found else ""
    if field == "postcode":
        found = _POSTCODE().search(value)
        return found.group(1) if found else ""
    if field == "address":
        postcode = _ADDRESS_POSTCODE().search(value)
        if postcode and len(value) > 8:
            values.setdefault("postcode", postcode.group(1))
            value = value[: postcode.start()].strip()
        return value[:200]
    if field in ("name", "pen_name"):
        return _name(value)
    return value[:200]


def _name(value: str) -> str:
    value = value.strip(" \t\u3000:：,，。.;；")
    # "Zhang Wei" is one name; "李明 敬上" and "李明（笔名…" end at the space or bracket.
    ends = r"[(（,，/|｜]" if value.isascii() else r"[\s(（,，/|｜]"
    value = re.split(ends, value, maxsplit=1)[0].strip()
    return value if _HAN_NAME().match(value) else ""


def _compact(number: str) -> str:
    return re.sub(r"[ ]", "", number)


# --------------------------------------------------------------------------- display


def mask_number(value: str, keep_start: int = 3, keep_end: int = 4) -> str:
    """``13812345678`` -> ``138****5678``: the digits between the ends hidden."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[-keep_end:]


def masked(author: Author) -> Author:
    """The details as staff see them by default: phone, ID and account numbers masked."""
    return replace(
        author,
        phone=mask_number(author.phone) if author.phone else "",
        id_number=mask_number(author.id_number, 3, 4) if author.id_number else "",
        account=mask_number(author.account, 4, 4) if author.account else "",
    )


def mask_in(text: str, author: Author) -> str:
    """``text`` (a cover note) with the author's phone, ID and account numbers masked as
    :func:`masked` shows them, however the contributor spaced their digits."""
    hidden = masked(author)
    for field in ("phone", "id_number", "account"):
        value = getattr(author, field)
        if len(value) < 6:
            continue
        spaced = r"[ -]?".join(re.escape(c) for c in value)
        text = re.sub(rf"(?<!\d){spaced}(?!\d)", getattr(hidden, field), text)
    return text
