"""A .docx whose package python-docx cannot load is read from its main part alone."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from intake.core.errors import ExtractionError
from intake.documents.docx import read_docx

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
POEM = "春夜\n\n雨落在窗台上\n灯亮在河对岸\n我想起你，和那条开满槐花的老街"


def without(name: str, member: str) -> bytes:
    """``name`` repacked without ``member`` (its relationship left pointing at nothing)."""
    out = io.BytesIO()
    with zipfile.ZipFile(DOCS / name) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename != member:
                dst.writestr(info, src.read(info))
    return out.getvalue()


@pytest.mark.parametrize("member", ["word/styles.xml", "word/fontTable.xml"])
def test_a_missing_part_does_not_lose_the_text(member: str) -> None:
    assert read_docx(without("poem-zh.docx", member)).text == POEM


def test_iso_strict_docx_is_read() -> None:
    # Apache POI's strict.docx: Word's "Strict Open XML Document", another namespace
    text = read_docx((DOCS / "strict-poi.docx").read_bytes()).text
    assert text == "Bullet1\nBullet2\nNumber1\nNumber2\nCellaa\tCellab\nCellba\tCellbb"


def test_without_a_main_part_it_is_still_damaged() -> None:
    with pytest.raises(ExtractionError, match="no main document part|damaged docx"):
        read_docx(without("poem-zh.docx", "word/document.xml"))
