"""Render contributor text for a terminal: every control shown visibly, none emitted.

Pure. Subjects, names, bodies and file names come from anyone on the internet; written raw to
an editor's terminal, ``ESC ] 52`` writes the clipboard, ``ESC ] 0`` the window title,
``ESC ] 8`` hides a link behind text, CSI moves the cursor or clears the screen, and a bidi
override (U+202E) makes ``exe.txt`` read ``txt.exe``. :func:`visible` is the one function the CLI
passes every such string through before it prints it (tables, ``show``, the pager, error lines):

- C0 controls, DEL and C1 controls are written as ``\\x1b``, ``\\x7f``, ``\\x9b``; so every
  escape sequence (CSI, OSC with its BEL or ST terminator, DCS…) loses the byte that starts it
  and shows as text;
- bidi controls (U+202A–202E, U+2066–2069, U+200E/200F, U+061C) and every other invisible
  format character (zero-width spaces, soft hyphen, BOM, tag characters), lone surrogates and
  line/paragraph separators are written as ``\\u202e`` …; a zero-width joiner between two
  emoji (👨‍👩‍👧) is kept;
- line breaks: in a one-line cell every line break and tab is one space; in a multi-line body
  ``\\n`` and tabs stay, ``\\r\\n`` and a lone ``\\r`` (which would overwrite the line) become
  ``\\n``, as do VT, FF, NEL and U+2028/2029.

Backslashes are not doubled: a contributor who types ``\\x1b`` is shown ``\\x1b``, which is
harmless; what matters is that no control reaches the terminal. ``visible`` is idempotent.
"""

from __future__ import annotations

import re

# Everything that is shown escaped: C0 (except \t \n \r, handled by mode), DEL, C1, the format
# characters (Unicode category Cf, listed for this Unicode version and checked by a test),
# surrogates, and the line and paragraph separators.
_FORMAT = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_FORMAT}\ud800-\udfff\u2028\u2029]")
_ANY_BREAK = re.compile(r"\r\n|[\r\n\t\x0b\x0c\x85\u2028\u2029]")
_BODY_BREAK = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_ZWJ = "\u200d"


def visible(text: object, *, multiline: bool = False) -> str:
    """``text`` (``str()`` of it) safe to print: see the module docstring.

    ``multiline=False`` for a table cell, a field or an error line (one line, guaranteed);
    ``multiline=True`` for an article, a letter or a pager body.
    """
    value = text if isinstance(text, str) else str(text)
    if multiline:
        value = _BODY_BREAK.sub("\n", value)
    else:
        value = _ANY_BREAK.sub(" ", value)
    if _UNSAFE.search(value) is None:
        return value
    return _UNSAFE.sub(lambda m: _escape(value, m.start()), value)


def _escape(text: str, at: int) -> str:
    char = text[at]
    if char == _ZWJ and 0 < at < len(text) - 1 and _emoji(text[at - 1]) and _emoji(text[at + 1]):
        return char  # 👨‍👩‍👧: the joiner is part of the picture
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _emoji(char: str) -> bool:
    code = ord(char)
    # Pictographs, dingbats and symbols; U+FE0F (variation selector) ends many of them.
    return code >= 0x1F000 or 0x2600 <= code <= 0x27BF or code == 0xFE0F


#: What JSON output must escape beyond what ``json.dumps(ensure_ascii=False)`` already does
#: (C0): DEL, C1, format characters, separators, surrogates. Each appears only inside strings.
_JSON_UNSAFE = re.compile(f"[\x7f-\x9f{_FORMAT}\ud800-\udfff\u2028\u2029]")


def json_safe(dumped: str) -> str:
    """A JSON document from ``json.dumps(..., ensure_ascii=False)`` with every character
    :func:`visible` would escape written as a ``\\uXXXX`` escape instead: the same JSON value,
    exact, but nothing that a terminal acts on."""
    return _JSON_UNSAFE.sub(_json_escape, dumped)


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code > 0xFFFF:  # JSON escapes astral characters as a UTF-16 pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"
