"""Tests for intake.text.charsets: WHATWG label mapping and the fallbacks for wrong labels."""

from __future__ import annotations

import pytest

from intake.text.charsets import decode_text, normalize_label

# Characters outside GB2312 that Chinese mail labelled gb2312 routinely holds: GBK-only names
# (朱镕基's 镕, 堃, 喆, 昇) and characters GB18030 encodes in four bytes (CJK Extension B 𠀀 and
# 𡃁, Extension A 㐀).
GBK_ONLY = "朱镕基、王堃、张喆、李昇"
GB18030_FOUR_BYTE = "𠀀𡃁㐀"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("gb2312", "gb18030"),
        ("GB2312", "gb18030"),
        ("gbk", "gb18030"),
        ("x-gbk", "gb18030"),
        ("gb_2312-80", "gb18030"),
        ("chinese", "gb18030"),
        ("csgb2312", "gb18030"),
        ("iso-ir-58", "gb18030"),
        ("GB18030", "gb18030"),
        ("big5", "big5hkscs"),
        ("Big5-HKSCS", "big5hkscs"),
        ("cn-big5", "big5hkscs"),
        ("x-x-big5", "big5hkscs"),
        ("iso-8859-1", "cp1252"),
        ("latin1", "cp1252"),
        ("us-ascii", "cp1252"),
        ("ascii", "cp1252"),
        ("ANSI_X3.4-1968", "cp1252"),
        ("ks_c_5601-1987", "cp949"),
        ("euc-kr", "cp949"),
        ("shift_jis", "cp932"),
        ("sjis", "cp932"),
        ("windows-31j", "cp932"),
        ("utf8", "utf-8"),
        ("unicode-1-1-utf-8", "utf-8"),
        ("iso-8859-9", "cp1254"),
        ("tis-620", "cp874"),
        ("koi8-r", "koi8-r"),
        (' "UTF-8" ', "utf-8"),
        ("utf-8*en", "utf-8"),
    ],
)
def test_labels_map_like_browsers(label: str, codec: str) -> None:
    assert normalize_label(label) == codec


@pytest.mark.parametrize("label", [None, "", "x-unknown", "unknown-8bit", "bogus"])
def test_unknown_labels(label: str | None) -> None:
    assert normalize_label(label) is None


def test_gb2312_label_with_gbk_and_gb18030_characters() -> None:
    text = f"编辑您好：{GBK_ONLY}。{GB18030_FOUR_BYTE}"
    decoded, notes = decode_text(text.encode("gb18030"), "gb2312")
    assert decoded == text
    assert notes == []
    # The strict GB2312 codec would have failed on these bytes: the test is not vacuous.
    with pytest.raises(UnicodeDecodeError):
        text.encode("gb18030").decode("gb2312")


def test_big5_label_with_hkscs_characters() -> None:
    text = "香港增補字符集：𨋢（升降機）、嘅、咗、冇"
    data = text.encode("big5hkscs")
    with pytest.raises(UnicodeDecodeError):
        data.decode("big5")
    assert decode_text(data, "big5") == (text, [])


def test_big5_label_with_windows_euro_sign() -> None:
    text = "價格：€100"
    assert decode_text(text.encode("cp950"), "big5")[0] == text


def test_utf8_mislabelled_as_gb2312() -> None:
    text = "投稿：关于城市更新的思考。"
    data = text.encode("utf-8")
    decoded, notes = decode_text(data, "gb2312")
    assert decoded == text
    assert notes and "UTF-8" in notes[0]


def test_latin1_labelled_us_ascii_decodes_as_windows_1252() -> None:
    data = "Grüße aus Köln, café".encode("latin-1") + b" \x93quoted\x94 \x80"
    text, notes = decode_text(data, "us-ascii")
    assert text == "Grüße aus Köln, café “quoted” €"
    assert notes == ["charset 'us-ascii' declared on 8-bit bytes; read as windows-1252"]


def test_windows_1252_undefined_bytes_become_c1_controls() -> None:
    # The Encoding Standard maps the five holes of windows-1252 to the C1 controls.
    assert decode_text(b"a\x81b\x9dc", "iso-8859-1") == ("a\x81b\x9dc", [])


def test_empty_data() -> None:
    assert decode_text(b"", "gb2312") == ("", [])
    assert decode_text(b"", None) == ("", [])


def test_ascii_needs_no_label() -> None:
    assert decode_text(b"plain text\r\n", None) == ("plain text\r\n", [])


def test_missing_label_prefers_utf8_then_gb18030() -> None:
    assert decode_text("中文".encode(), None) == ("中文", [])
    text = f"没有标注字符集的邮件：{GBK_ONLY}"
    assert decode_text(text.encode("gb18030"), None) == (text, [])


def test_unknown_label_is_noted_and_detected() -> None:
    text = "Привет, это тестовое сообщение для редакции."
    decoded, notes = decode_text(text.encode("cp1251"), "x-unknown")
    assert decoded == text
    assert notes[0] == "unknown charset 'x-unknown'"


def test_label_that_does_not_decode_falls_back() -> None:
    # GBK text labelled Big5: the Big5 decoder fails, GB18030 does not.
    text = "这是简体中文投稿，标签却写成了繁体。"
    decoded, notes = decode_text(text.encode("gbk"), "big5")
    assert decoded == text
    assert "bytes are not valid 'big5'" in notes


def test_undecodable_bytes_are_replaced_never_dropped() -> None:
    data = "中文".encode() + b"\xff\xfe\x00\x81" + "完".encode()
    decoded, notes = decode_text(data, "utf-8")
    assert decoded == "中文\ufffd\ufffd\x00\ufffd完"
    assert notes[-1] == "no charset decodes the bytes cleanly; undecodable bytes replaced"


def test_byte_order_mark_outranks_label() -> None:
    assert decode_text(b"\xef\xbb\xbf\xe4\xb8\xad", "gb2312") == ("中", [])
    assert decode_text("中文".encode("utf-16-le").join([b"\xff\xfe", b""]), None)[0] == "中文"


def test_utf16_label() -> None:
    assert decode_text("hi 中".encode("utf-16-le"), "utf-16") == ("hi 中", [])


def test_hz_and_iso_2022_jp() -> None:
    assert decode_text("中文".encode("hz"), "hz-gb-2312") == ("中文", [])
    assert decode_text("日本語".encode("iso2022_jp"), "iso-2022-jp") == ("日本語", [])
