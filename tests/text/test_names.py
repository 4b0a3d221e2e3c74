"""Tests for intake.text.names.safe_name with hostile and real-world attachment names."""

from __future__ import annotations

import unicodedata

import pytest

from intake.text.names import safe_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("稿件.docx", "稿件.docx"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\evil.dll", "evil.dll"),
        # Old Outlook and some webmail send the full client path.
        ("C:\\Users\\张三\\Desktop\\投稿-故乡的河.doc", "投稿-故乡的河.doc"),
        ("a\r\nb.doc", "a b.doc"),
        ("a\x00b\x1b\x7f\x9fc.pdf", "abc.pdf"),
        ('re:<投稿>"终稿"|v2?*.doc', "re__投稿__终稿__v2__.doc"),
        ("...", "attachment"),
        ("..", "attachment"),
        (".", "attachment"),
        ("", "attachment"),
        ("   ", "attachment"),
        ("/", "attachment"),
        (".htaccess", "attachment.htaccess"),
        ("...hidden.txt", "hidden.txt"),
        ("trailing dots... ", "trailing dots"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
    ],
)
def test_safe_name(name: str, expected: str) -> None:
    assert safe_name(name) == expected


def test_rtl_override_is_removed() -> None:
    # "photo\u202egpj.exe" displays as "photoexe.jpg"; the real extension is .exe.
    for mark in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        result = safe_name(f"photo{mark}gpj.exe")
        assert result == "photogpj.exe"


def test_nfc() -> None:
    decomposed = "Cafe\u0301.doc"
    assert safe_name(decomposed) == "Café.doc"
    assert unicodedata.is_normalized("NFC", safe_name(decomposed))


def test_long_chinese_name_keeps_extension_within_byte_limit() -> None:
    name = "关于城市更新与社区记忆的长篇调查报告" * 10 + ".docx"
    result = safe_name(name)
    assert result.endswith(".docx")
    assert len(result.encode("utf-8")) <= 200
    assert result.startswith("关于城市更新")
    # Filled to within one character (3 bytes) of the limit.
    assert len(result.encode("utf-8")) > 200 - 3


def test_long_name_with_tiny_limit() -> None:
    result = safe_name("很长的文件名" * 20 + ".docx", max_bytes=10)
    assert len(result.encode("utf-8")) <= 10
    assert result == "很.docx"


def test_long_name_without_extension() -> None:
    result = safe_name("文" * 300)
    assert result == "文" * 66


def test_combining_mark_not_orphaned_by_truncation() -> None:
    name = "a" * 198 + "e\u0303\u0323"  # no NFC composite for e + both marks
    result = safe_name(name, max_bytes=201)
    assert not unicodedata.combining(result[-1])


def test_custom_default() -> None:
    assert safe_name("..", default="message.eml") == "message.eml"


@pytest.mark.parametrize(
    "name",
    ["../../etc/passwd", "a\r\nb.doc", "\u202e..", "x/../../y", "..\\..", "\x00", "中" * 500],
)
def test_invariants(name: str) -> None:
    result = safe_name(name)
    assert result and result not in (".", "..")
    assert not result.startswith(".")
    assert not set(result) & set('/\\<>:"|?*')
    assert all(unicodedata.category(ch) not in ("Cc", "Cf", "Cs") for ch in result)
    assert len(result.encode("utf-8")) <= 200
