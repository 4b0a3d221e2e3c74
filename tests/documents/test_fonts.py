"""Finding a CJK font for PDFs that do not embed theirs, through fontconfig's fc-list."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.documents import fonts


def fake_fc_list(folder: Path, output: str, status: int = 0) -> None:
    script = folder / "fc-list"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{output}'\nexit {status}\n")
    script.chmod(0o755)


@pytest.mark.parametrize(
    ("output", "status", "expected"),
    [
        ("Noto Serif CJK SC\n", 0, True),
        ("", 0, False),
        ("Noto Serif CJK SC\n", 1, None),
    ],
)
def test_fc_list_decides(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    output: str,
    status: int,
    expected: bool | None,
) -> None:
    fake_fc_list(tmp_path, output, status)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fonts.has_cjk_font() is expected


def test_without_fontconfig_it_cannot_tell(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fonts.has_cjk_font() is None
