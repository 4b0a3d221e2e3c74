"""Make a sender-supplied attachment file name safe to store and to offer for download."""

from __future__ import annotations

import re
import unicodedata

# Bidirectional embedding/override/isolate marks: "invoice\u202egpj.exe" displays as
# "invoiceexe.jpg". They are category Cf, which is removed wholesale below.
_WHITESPACE_CONTROLS = re.compile(r"[\t\n\v\f\r\x85\u2028\u2029]+")
# Characters Windows refuses in file names, besides the path separators handled separately.
_WINDOWS_ILLEGAL = re.compile(r'[<>:"|?*]')
_SPACES = re.compile(r" {2,}")
# CON, PRN, AUX, NUL, COM1-9, LPT1-9 name devices on Windows whatever the extension.
_WINDOWS_DEVICE = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$", re.I)
_MAX_EXTENSION_CHARS = 16


def safe_name(name: str, *, default: str = "attachment", max_bytes: int = 200) -> str:
    """A file name derived from ``name`` that is safe on POSIX and Windows file systems.

    The result is NFC, holds no path separators, control, format (bidi) or Windows-illegal
    characters, does not start with a dot, fits in ``max_bytes`` UTF-8 bytes with its
    extension kept, and is never empty, ``.`` or ``..`` (``default`` is used instead).
    """
    name = unicodedata.normalize("NFC", name)
    # A broken fold or a quoted-printable line break leaves CR/LF inside names: a space.
    name = _WHITESPACE_CONTROLS.sub(" ", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    # Old Outlook and webmail send full client paths (C:\Users\...\稿件.doc): keep the last
    # real component, which also disposes of ../ traversal.
    parts = [p for p in re.split(r"[/\\]", name) if p.strip(" .")]
    name = parts[-1] if parts else ""
    name = _WINDOWS_ILLEGAL.sub("_", name)
    name = _SPACES.sub(" ", name).strip(" ")
    stripped = name.lstrip(".")
    if stripped != name and stripped and "." not in stripped:
        # ".docx" was an extension without a stem; keep it as one.
        stripped = f"{default}.{stripped}"
    name = stripped.rstrip(" .")  # Windows drops trailing dots and spaces itself
    if _WINDOWS_DEVICE.match(name):
        name = f"_{name}"
    name = _truncate(name, max_bytes).rstrip(" .")
    if name in ("", ".", ".."):
        return default
    return name


def _truncate(name: str, max_bytes: int) -> str:
    """``name`` cut to ``max_bytes`` UTF-8 bytes, shortening the stem and keeping the extension."""
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    stem, dot, ext = name.rpartition(".")
    suffix = f".{ext}"
    if not dot or not stem or len(ext) > _MAX_EXTENSION_CHARS or " " in ext:
        stem, suffix = name, ""
    budget = max_bytes - len(suffix.encode("utf-8"))
    if budget <= 0:
        stem, suffix, budget = name, "", max_bytes
    kept: list[str] = []
    for ch in stem:  # cut on a character boundary
        budget -= len(ch.encode("utf-8"))
        if budget < 0:
            break
        kept.append(ch)
    cut = "".join(kept)
    # Do not leave a combining mark without its base character.
    while cut and unicodedata.combining(cut[-1]):
        cut = cut[:-1]
    return cut.rstrip(" .") + suffix
