"""intake.text.display: contributor text shown with every control visible and none emitted."""

from __future__ import annotations

import json
import random
import unicodedata

import pytest

from intake.cli.output import display_width, plain_table
from intake.text.display import json_safe, visible

#: (contributor text, one-line rendering, multi-line rendering)
RENDERINGS = [
    ("张三", "张三", "张三"),
    ("投稿：《故乡的槐花》", "投稿：《故乡的槐花》", "投稿：《故乡的槐花》"),
    ("plain text", "plain text", "plain text"),
    # escape sequences: the starting byte (and BEL or ST) shown, the rest is plain text
    ("\x1b]52;c;SGVsbG8=\x07", "\\x1b]52;c;SGVsbG8=\\x07", "\\x1b]52;c;SGVsbG8=\\x07"),
    ("\x1b]0;pwned\x1b\\", "\\x1b]0;pwned\\x1b\\", "\\x1b]0;pwned\\x1b\\"),
    ("\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
     "\\x1b]8;;http://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\",
     "\\x1b]8;;http://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\"),
    ("\x1b[2J\x1b[1;1H", "\\x1b[2J\\x1b[1;1H", "\\x1b[2J\\x1b[1;1H"),
    ("\x1bP+q\x1b\\", "\\x1bP+q\\x1b\\", "\\x1bP+q\\x1b\\"),  # DCS
    ("\x9b31m\x9d0;t\x9c", "\\x9b31m\\x9d0;t\\x9c", "\\x9b31m\\x9d0;t\\x9c"),  # C1 CSI OSC ST
    ("\x00\x07\x08\x7f", "\\x00\\x07\\x08\\x7f", "\\x00\\x07\\x08\\x7f"),
    # bidi controls and invisible format characters
    ("invoice\u202egpj.exe", "invoice\\u202egpj.exe", "invoice\\u202egpj.exe"),
    ("\u2066a\u2067b\u2068c\u2069",
     "\\u2066a\\u2067b\\u2068c\\u2069", "\\u2066a\\u2067b\\u2068c\\u2069"),
    ("\u202a\u202b\u202c\u202d", "\\u202a\\u202b\\u202c\\u202d", "\\u202a\\u202b\\u202c\\u202d"),
    ("a\u200eb\u200fc\u061cd", "a\\u200eb\\u200fc\\u061cd", "a\\u200eb\\u200fc\\u061cd"),
    ("\ufeffzw\u200bsp\u00ad", "\\ufeffzw\\u200bsp\\xad", "\\ufeffzw\\u200bsp\\xad"),
    ("tag\U000e0041", "tag\\U000e0041", "tag\\U000e0041"),
    ("lone \udce4 surrogate", "lone \\udce4 surrogate", "lone \\udce4 surrogate"),
    ("a\u200db", "a\\u200db", "a\\u200db"),
    ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # the joiner of an emoji
    # line breaks and tabs, per context
    ("one\ntwo", "one two", "one\ntwo"),
    ("one\r\ntwo", "one two", "one\ntwo"),
    ("secret\rshown", "secret shown", "secret\nshown"),  # \r would overwrite the line
    ("a\tb", "a b", "a\tb"),
    ("a\x0bb\x0cc", "a b c", "a\nb\nc"),
    ("a\x85b\u2028c\u2029d", "a b c d", "a\nb\nc\nd"),
    ("段落一\n\n段落二", "段落一  段落二", "段落一\n\n段落二"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "line", "body"), RENDERINGS)
def test_renderings(text: str, line: str, body: str) -> None:
    assert visible(text) == line
    assert visible(text, multiline=True) == body
    assert visible(line) == line and visible(body, multiline=True) == body  # idempotent
    assert_safe(visible(text), multiline=False)
    assert_safe(visible(text, multiline=True), multiline=True)


def assert_safe(shown: str, *, multiline: bool) -> None:
    for char in shown:
        category = unicodedata.category(char)
        if char == "\u200d":
            continue  # kept only between two emoji
        assert category not in ("Cc", "Cf", "Cs", "Zl", "Zp") or (multiline and char in "\n\t"), (
            shown,
            char,
        )


def test_any_character_is_safe() -> None:
    rng = random.Random(14)
    pool = [chr(c) for c in range(0x00, 0x250)] + [chr(c) for c in range(0x2000, 0x2070)]
    pool += ["\ufeff", "\U000e0001", "\udc80", "👍", "中", "\u200d"]
    for _ in range(3000):
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 30)))
        assert_safe(visible(text), multiline=False)
        assert "\n" not in visible(text)
        assert_safe(visible(text, multiline=True), multiline=True)
        assert visible(visible(text)) == visible(text)


def test_every_format_character_of_this_unicode_version_is_covered() -> None:
    # The table in display.py is written out for speed; this keeps it complete.
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp") and char not in "\n\t":
            shown = visible(f"a{char}b", multiline=True)
            assert char not in shown or char == "\u200d", hex(code)


def test_other_values_are_rendered_as_their_text() -> None:
    assert visible(12) == "12"
    assert visible(ValueError("bad \x1b[31m subject")) == "bad \\x1b[31m subject"


@pytest.mark.parametrize("text", [row[0] for row in RENDERINGS])
def test_json_stays_exact_and_escapes_controls(text: str) -> None:
    dumped = json_safe(json.dumps({"subject": text, "名": [text]}, ensure_ascii=False))
    assert json.loads(dumped) == {"subject": text, "名": [text]}
    assert_safe(dumped, multiline=False)
    assert "\x1b" not in dumped and "\u202e" not in dumped


def test_chinese_still_aligns_after_escaping() -> None:
    rows = [[visible("张三\x1b]0;x\x07"), "x"], [visible("李\u202e四"), "y"], ["ab", "z"]]
    lines = plain_table(["name", "k"], rows).split("\n")
    columns = {display_width(line[: line.rindex(line.split()[-1])]) for line in lines}
    assert len(columns) == 1, lines
