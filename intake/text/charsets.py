"""Turn bytes with a (possibly wrong) charset label into text, the way browsers map labels."""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Iterable

import charset_normalizer
from charset_normalizer.constant import FREQUENCIES

# Python codec for each WHATWG encoding (Encoding Standard, "Encodings" table), with the labels
# that select it. Browsers decode every GBK label as GB18030 and every Big5 label as Big5-HKSCS
# because real senders label text in a superset with the subset's name; Chinese mail clients do
# exactly that (gb2312 labels on text holding 镕 or 喆).
_WHATWG: dict[str, list[str]] = {
    "utf-8": (
        "unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8"
        # not WHATWG labels, but seen in mail headers
        " utf8mb4 utf-8-sig"
    ).split(),
    "cp866": "866 cp866 csibm866 ibm866".split(),
    "iso8859-2": (
        "csisolatin2 iso-8859-2 iso-ir-101 iso8859-2 iso88592 iso_8859-2 iso_8859-2:1987 l2 latin2"
    ).split(),
    "iso8859-3": (
        "csisolatin3 iso-8859-3 iso-ir-109 iso8859-3 iso88593 iso_8859-3 iso_8859-3:1988 l3 latin3"
    ).split(),
    "iso8859-4": (
        "csisolatin4 iso-8859-4 iso-ir-110 iso8859-4 iso88594 iso_8859-4 iso_8859-4:1988 l4 latin4"
    ).split(),
    "iso8859-5": (
        "csisolatincyrillic cyrillic iso-8859-5 iso-ir-144 iso8859-5 iso88595 iso_8859-5"
        " iso_8859-5:1988"
    ).split(),
    "iso8859-6": (
        "arabic asmo-708 csiso88596e csiso88596i csisolatinarabic ecma-114 iso-8859-6"
        " iso-8859-6-e iso-8859-6-i iso-ir-127 iso8859-6 iso88596 iso_8859-6 iso_8859-6:1987"
    ).split(),
    "iso8859-7": (
        "csisolatingreek ecma-118 elot_928 greek greek8 iso-8859-7 iso-ir-126 iso8859-7"
        " iso88597 iso_8859-7 iso_8859-7:1987 sun_eu_greek"
    ).split(),
    "iso8859-8": (
        "csiso88598e csisolatinhebrew hebrew iso-8859-8 iso-8859-8-e iso-ir-138 iso8859-8"
        " iso88598 iso_8859-8 iso_8859-8:1988 visual csiso88598i iso-8859-8-i logical"
    ).split(),
    "iso8859-10": "csisolatin6 iso-8859-10 iso-ir-157 iso8859-10 iso885910 l6 latin6".split(),
    "iso8859-13": "iso-8859-13 iso8859-13 iso885913".split(),
    "iso8859-14": "iso-8859-14 iso8859-14 iso885914".split(),
    "iso8859-15": "csisolatin9 iso-8859-15 iso8859-15 iso885915 iso_8859-15 l9".split(),
    "iso8859-16": "iso-8859-16".split(),
    "koi8-r": "cskoi8r koi koi8 koi8-r koi8_r".split(),
    "koi8-u": "koi8-ru koi8-u".split(),
    "mac-roman": "csmacintosh mac macintosh x-mac-roman".split(),
    "cp874": "dos-874 iso-8859-11 iso8859-11 iso885911 tis-620 windows-874".split(),
    "cp1250": "cp1250 windows-1250 x-cp1250".split(),
    "cp1251": "cp1251 windows-1251 x-cp1251".split(),
    "cp1252": (
        "ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1"
        " iso88591 iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252"
        # not WHATWG labels, but seen in mail headers
        " latin-1 us ascii-us iso-646-us iso646-us csascii"
    ).split(),
    "cp1253": "cp1253 windows-1253 x-cp1253".split(),
    "cp1254": (
        "cp1254 csisolatin5 iso-8859-9 iso-ir-148 iso8859-9 iso88599 iso_8859-9 iso_8859-9:1989"
        " l5 latin5 windows-1254 x-cp1254"
    ).split(),
    "cp1255": "cp1255 windows-1255 x-cp1255".split(),
    "cp1256": "cp1256 windows-1256 x-cp1256".split(),
    "cp1257": "cp1257 windows-1257 x-cp1257".split(),
    "cp1258": "cp1258 windows-1258 x-cp1258".split(),
    "mac-cyrillic": "x-mac-cyrillic x-mac-ukrainian".split(),
    "gb18030": (
        "chinese csgb2312 csiso58gb231280 gb2312 gb_2312 gb_2312-80 gbk iso-ir-58 x-gbk gb18030"
        # not WHATWG labels, but Windows and older mailers send them for the same text
        " cp936 ms936 windows-936 euc-cn x-euc-cn gb18030-2000 gb18030-2005 gb18030-2022"
        " gb2312-80 x-gb2312"
    ).split(),
    "big5hkscs": (
        "big5 big5-hkscs cn-big5 csbig5 x-x-big5 big5hkscs cp950 ms950 windows-950 x-big5"
    ).split(),
    "euc_jp": "cseucpkdfmtjapanese euc-jp x-euc-jp".split(),
    "iso2022_jp_2": "csiso2022jp iso-2022-jp iso-2022-jp-2 iso-2022-jp-1".split(),
    "cp932": (
        "csshiftjis ms932 ms_kanji shift-jis shift_jis sjis windows-31j x-sjis cp932"
    ).split(),
    "cp949": (
        "cseuckr csksc56011987 euc-kr iso-ir-149 korean ks_c_5601-1987 ks_c_5601-1989 ksc5601"
        " ksc_5601 windows-949 cp949 ms949 uhc"
    ).split(),
    # WHATWG maps these to the "replacement" decoder so that browsers cannot be tricked into
    # running script; plain text has no such risk and old Korean and Chinese mail uses them.
    "iso2022_kr": "csiso2022kr iso-2022-kr".split(),
    "hz": "hz-gb-2312 hz".split(),
    "utf-16-be": "unicodefffe utf-16be".split(),
    "utf-16-le": ("csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le".split()),
    "utf-7": "utf-7 unicode-1-1-utf-7 csunicode11utf7".split(),
}

_LABELS: dict[str, str] = {
    label: codecs.lookup(codec).name for codec, labels in _WHATWG.items() for label in labels
}

# Codecs that may also decode the bytes a label promised when the label's own codec fails:
# Python's Big5-HKSCS lacks a few cp950 (Windows Big5) code points, such as the euro sign.
_ALTERNATES: dict[str, tuple[str, ...]] = {"big5hkscs": ("cp950",)}

# Not ASCII-compatible: ASCII-looking bytes do not mean ASCII text, and valid UTF-8 is no hint.
_NOT_ASCII_COMPATIBLE = frozenset(
    codecs.lookup(c).name for c in ("utf-16-le", "utf-16-be", "utf-7", "iso2022_kr", "hz")
) | {codecs.lookup("iso2022_jp_2").name}

_CJK_MULTIBYTE = frozenset(
    codecs.lookup(c).name for c in ("gb18030", "big5hkscs", "cp932", "cp949", "euc_jp")
)

# windows-1252 as WHATWG defines it: Python's cp1252 leaves 0x81, 0x8D, 0x8F, 0x90 and 0x9D
# undefined, browsers map them to the C1 control of the same value, so this never fails.
_CP1252 = codecs.lookup("cp1252").name
_CP1252_TABLE = {
    b: bytes([b]).decode("cp1252", errors="strict")
    for b in range(0x80, 0xA0)
    if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}

_UTF8 = codecs.lookup("utf-8").name
_GB18030 = codecs.lookup("gb18030").name

# Labels that promise 7-bit ASCII: high bytes under one are a lie, not Latin-1.
_ASCII_LABELS = frozenset(
    "ansi_x3.4-1968 ascii us-ascii us ascii-us iso-646-us iso646-us csascii".split()
)
# Candidates for unlabelled, or wrongly labelled, non-UTF-8 bytes, in the order ties go:
# mainland Chinese first (most of our senders), then Taiwan and Hong Kong, Japan, Korea.
_BIG5 = codecs.lookup("big5hkscs").name
_SJIS = codecs.lookup("cp932").name
_EUCKR = codecs.lookup("cp949").name
# EUC-JP last: older Japanese mail and pages use it, and GB18030 reads its bytes cleanly as
# nonsense Chinese; its reading wins only by its kana.
_EUCJP = codecs.lookup("euc_jp").name
_CJK_CANDIDATES = (_GB18030, _BIG5, _SJIS, _EUCKR, _EUCJP)
# Below this share of expected characters among the non-ASCII ones, a clean decode is a
# coincidence (German "Grüße" is two GBK bytes), not a reading.
_PLAUSIBLE = 0.6
# Share of high bytes that stand next to another high byte: CJK double-byte text is mostly
# pairs (Big5's and Shift_JIS's second bytes may be ASCII), Western text in a single-byte
# charset has its accented letters between ASCII ones. Such bytes under a Western label are
# read as CJK only when that reading is this plausible.
_PAIRED = 0.5
_PLAUSIBLE_OVER_LABEL = 0.9

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def normalize_label(label: str | None) -> str | None:
    """The Python codec that decodes text labelled ``label``, or None when the label is unknown.

    Labels are matched as the Encoding Standard does (case-insensitive, surrounding whitespace
    ignored), plus quotes and an RFC 2231 ``*language`` suffix, which mail headers carry.
    """
    if label is None:
        return None
    key = label.strip().strip("\"'").strip().lower()
    key = key.partition("*")[0]  # RFC 2231 / 2184: utf-8*en
    return _LABELS.get(key)


def decode_text(data: bytes, label: str | None) -> tuple[str, list[str]]:
    """Decode ``data`` labelled ``label`` (may be None); return the text and defect notes.

    A label is believed only as far as the bytes bear it out: ``us-ascii`` on 8-bit bytes, or
    a Western single-byte label on bytes that read as East Asian double-byte text, counts as
    no label; a CJK label whose reading has private-use or unassigned characters gives way
    to a candidate that reads cleanly. Without a label the candidates are UTF-8, GB18030,
    Big5-HKSCS, Shift_JIS, EUC-KR and EUC-JP; the one whose reading is most plausible wins, and a
    reading with private-use or unassigned code points never wins over a clean one.
    """
    if not data:
        return "", []
    notes: list[str] = []
    for bom, bom_codec in _BOMS:
        # A byte order mark outranks the label, as in browsers.
        if data.startswith(bom):
            text = _try(data[len(bom) :], bom_codec)
            if text is not None:
                return text, notes
    codec = normalize_label(label)
    if label is not None and label.strip() and codec is None:
        notes.append(f"unknown charset {label.strip()!r}")

    if codec in _NOT_ASCII_COMPATIBLE:
        text = _try(data, codec)
        if text is not None:
            return text, notes
        notes.append(f"bytes are not valid {label!r}")
        return _guess(data, codec, notes), notes
    if data.isascii():
        return data.decode("ascii"), notes
    # Valid non-ASCII UTF-8 almost never arises by chance from a legacy encoding, while UTF-8
    # labelled gb2312 or iso-8859-1 is common (and GB18030 often decodes it cleanly as
    # nonsense), so UTF-8 validity is checked before the declared label.
    text = _try(data, _UTF8)
    if text is not None:
        if codec is not None and codec != _UTF8:
            notes.append(f"charset {label!r} declared but the bytes are UTF-8")
        return text, notes
    if codec == _CP1252:
        return _single_byte(data, label or "", notes), notes
    if codec is not None:
        for candidate in (codec, *_ALTERNATES.get(codec, ())):
            text = _try(data, candidate)
            if text is None:
                continue
            if codec not in _CJK_MULTIBYTE or _clean(text):
                return text, notes
            # GB18030 reads almost any byte pair, Big5 as GB18030 gives user-defined
            # (private-use) characters: another candidate that reads cleanly is the truth.
            found = _best_cjk(data, exclude=candidate)
            if found is not None:
                notes.append(f"charset {label!r} declared but the bytes are {found[1]}")
                return found[0], notes
            return text, notes
        notes.append(f"bytes are not valid {label!r}")
    return _guess(data, codec, notes), notes


def _single_byte(data: bytes, label: str, notes: list[str]) -> str:
    """Bytes labelled us-ascii, iso-8859-1 or windows-1252 (one codec, as in browsers)."""
    ascii_label = label.strip().strip("\"'").lower() in _ASCII_LABELS
    if ascii_label or _paired_high_bytes(data) >= _PAIRED:
        found = _best_cjk(data, minimum=_PLAUSIBLE if ascii_label else _PLAUSIBLE_OVER_LABEL)
        if found is not None:
            notes.append(f"charset {label!r} declared but the bytes are {found[1]}")
            return found[0]
    if ascii_label:
        notes.append(f"charset {label!r} declared on 8-bit bytes; read as windows-1252")
    return data.decode("latin-1").translate(_CP1252_TABLE)


def _paired_high_bytes(data: bytes) -> float:
    """The share of bytes >= 0x80 that stand next to another such byte."""
    high = paired = 0
    previous = False
    run = 0
    for byte in data[:65536]:
        if byte >= 0x80:
            high += 1
            run += 1
            previous = True
        else:
            if previous and run >= 2:
                paired += run
            run = 0
            previous = False
    if run >= 2:
        paired += run
    return paired / high if high else 0.0


def _try(data: bytes, codec: str) -> str | None:
    """``data`` decoded strictly with ``codec``, or None if it does not decode cleanly."""
    if codec == _CP1252:
        return data.decode("latin-1").translate(_CP1252_TABLE)
    try:
        return data.decode(codec, errors="strict")
    except (UnicodeDecodeError, LookupError):
        return None


def _clean(text: str) -> bool:
    """No private-use, unassigned or surrogate code points, and no C0 controls but layout."""
    for char in text:
        if char < "\x80":
            if char < " " and char not in "\t\n\r\x0c\x1b":
                return False
            continue
        if unicodedata.category(char) in ("Co", "Cn", "Cs"):
            return False
    return True


def _best_cjk(
    data: bytes, exclude: str = "", minimum: float = _PLAUSIBLE
) -> tuple[str, str] | None:
    """The most plausible clean reading of ``data`` among the CJK candidates, with its codec
    name; None when none reads cleanly and plausibly."""
    best: tuple[float, str, str] | None = None
    for codec in _CJK_CANDIDATES:
        if codec == exclude:
            continue
        text = _try(data, codec)
        if text is None and codec == _BIG5:
            text = _try(data, "cp950")  # Windows Big5: the euro sign and a few more
        if text is None or not _clean(text):
            continue
        score = plausibility(text, codec)
        if score >= minimum and (best is None or score > best[0]):
            best = (score, text, codec)
    return (best[1], _DISPLAY[best[2]]) if best is not None else None


_DISPLAY = {
    _GB18030: "GB18030",
    _BIG5: "Big5-HKSCS",
    _SJIS: "Shift_JIS",
    _EUCKR: "EUC-KR",
    _EUCJP: "EUC-JP",
}


def _frequent(words: Iterable[str]) -> frozenset[str]:
    return frozenset("".join(words))


# The most frequent characters of each language (charset-normalizer's tables), and the
# traditional forms of the simplified ones among the Chinese, which Taiwan and Hong Kong use.
_FREQUENT_ZH = _frequent(FREQUENCIES["Chinese"])
_FREQUENT_ZH_HANT = _FREQUENT_ZH | frozenset(
    "這個們來為國說時會對發後裡種經麼學現當沒動還過開於與從實進長見問關頭機點裏東樣邊業"
)
_FREQUENT_JA = _frequent(FREQUENCIES["Japanese"]) | frozenset("のはにをたがでてとしれさいうっ")
_FREQUENT_KO = _frequent(FREQUENCIES["Korean"])


def plausibility(text: str, codec: str) -> float:
    """How much ``text`` reads like the language ``codec`` is used for: the share of its
    non-ASCII characters that the language uses commonly, plus its most frequent
    characters again. A misreading lands on rare characters, symbols and other scripts."""
    total = 0
    score = 0.0
    for char in text:
        if char < "\x80" or char.isspace():
            continue
        total += 1
        score += _weight(char, codec)
        if total >= _SAMPLE_CHARS:
            break
    return score / total if total else 0.0


#: Non-ASCII characters a plausibility is judged on: a few pages say what a book would.
_SAMPLE_CHARS = 4000


def _weight(char: str, codec: str) -> float:
    point = ord(char)
    if 0x3000 <= point <= 0x303F or 0xFF01 <= point <= 0xFF5E or char in "“”‘’…—·":
        return 1.0  # CJK and full-width punctuation: every language here writes it
    if codec == _GB18030:
        bonus = 1.0 if char in _FREQUENT_ZH else 0.0
        return bonus + _level(char, "gb2312", 0xB0, 0xD7, 0xF7)
    if codec == _BIG5:
        bonus = 1.0 if char in _FREQUENT_ZH_HANT else 0.0
        if 0x3105 <= point <= 0x312F:
            return 0.5  # bopomofo
        return bonus + _level(char, "big5", 0xA4, 0xC6, 0xF9, other=0.3)
    if codec in (_SJIS, _EUCJP):
        bonus = 1.0 if char in _FREQUENT_JA else 0.0
        if 0x3041 <= point <= 0x30FF:
            return bonus + 1.0  # kana
        if 0xFF61 <= point <= 0xFF9F:
            return 0.5  # half-width katakana
        return bonus + _level(char, "euc_jp", 0xB0, 0xCF, 0xF4)
    if codec == _EUCKR:
        bonus = 1.0 if char in _FREQUENT_KO else 0.0
        if 0xAC00 <= point <= 0xD7A3:
            common = _try_encode(char, "euc_kr") is not None  # KS X 1001's 2,350 syllables
            return bonus + (1.0 if common else 0.3)
        return 0.3 if unicodedata.name(char, "").startswith("CJK") else 0.0
    return 0.0


def _level(char: str, codec: str, first: int, last: int, end: int, other: float = 0.1) -> float:
    """1 for a character of the national standard's first (common) level, whose lead bytes
    run from ``first`` to ``last``; 0.5 for the second level (to ``end``); ``other`` for a
    Han character outside the standard; 0 for anything else (symbols, other scripts)."""
    encoded = _try_encode(char, codec)
    if encoded is not None and len(encoded) == 2:
        lead = encoded[0]
        if first <= lead <= last:
            return 1.0
        if last < lead <= end:
            return 0.5
        return 0.0  # the standard's symbol rows: kana, Greek, Cyrillic, box drawing
    return other if unicodedata.name(char, "").startswith("CJK") else 0.0


def _try_encode(char: str, codec: str) -> bytes | None:
    try:
        return char.encode(codec)
    except UnicodeEncodeError:
        return None


def _guess(data: bytes, codec: str | None, notes: list[str]) -> str:
    """Decode bytes whose label is missing, unknown or wrong."""
    found = _best_cjk(data)
    if found is not None:
        if codec is not None:
            notes.append(f"decoded as {found[1]}")
        return found[0]
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is not None:
        # Short Western text reads equally well in several code pages; windows-1252 is the
        # one the Web and mail clients default to, so it wins a tie.
        tied = [m for m in matches if m.chaos <= best.chaos and m.encoding == _CP1252]
        best = tied[0] if tied else best
        try:
            text = str(best)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            if _clean(text):
                notes.append(f"charset detected as {best.encoding}")
                return text
    # Nothing plausible decodes cleanly: a strict decode that reads at all is still better
    # than a guess, then the sender's label; without one, take whichever of UTF-8 and
    # GB18030 needs fewer replacements.
    for candidate in _CJK_CANDIDATES:
        strict = _try(data, candidate)
        if strict is not None and _clean(strict):
            notes.append(f"decoded as {_DISPLAY[candidate]}, an unlikely reading")
            return strict
    notes.append("no charset decodes the bytes cleanly; undecodable bytes replaced")
    if codec is not None:
        return data.decode(codec, errors="replace")
    decoded = (data.decode(c, errors="replace") for c in (_UTF8, _GB18030))
    return min(decoded, key=lambda t: t.count("\ufffd"))
