"""Whether the machine has a CJK font, which PDFium needs for PDFs that do not embed theirs.

A PDF may name a standard Chinese or Japanese font (STSong-Light, Ryumin-Light) without
embedding it. PDFium then lays the text out with a system font of that script; with none
installed it substitutes a Latin one, and the text comes out short and out of order (a
Japanese preface lost three quarters of its characters). ``intake check`` says so.
"""

from __future__ import annotations

import shutil
import subprocess

#: The Debian package that covers Chinese, Japanese and Korean in one install.
PACKAGE = "fonts-noto-cjk"


def has_cjk_font() -> bool | None:
    """True when fontconfig lists a Chinese font, False when it lists none, None if unknown."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return bool(listed.stdout.strip())
