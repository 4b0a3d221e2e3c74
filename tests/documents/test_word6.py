"""Word 6.0/95 documents (intake.documents.word6) and Word 97 text boxes, on Apache POI's files."""

from __future__ import annotations

import struct
from pathlib import Path

import olefile
import pytest

from intake.core.config import ExtractConfig
from intake.documents.extract import extract
from intake.documents.ole import read_ole

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"


def text_of(payload: bytes) -> str:
    return read_ole(payload, 1_000_000).text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("word6-poi.doc", "The quick brown fox jumps over the lazy dog"),
        # English language id, Russian text in windows-1251: found by detection
        ("word6-cp1251-poi.doc", "Четыре балла и семь лет"),
    ],
)
def test_word6_text_in_its_code_page(name: str, expected: str) -> None:
    result = extract(name, "application/msword", (DOCS / name).read_bytes(), ExtractConfig())
    assert (result.kind, result.format, result.error) == ("document", "doc", "")
    assert result.text == expected
    assert result.meta["word_version"] == "6/95"


def test_word95_fast_saved_with_a_piece_table_keeps_field_results() -> None:
    text = text_of((DOCS / "word6-french-fields-poi.doc").read_bytes())
    assert "Date\t12/12/97" in text  # the DATE field's result, without its code
    assert "DATE \\@" not in text
    assert "Company\tSociété APPLICOLOR" in text  # windows-1252 next to Word's cell marks
    assert "GUY LECOLE" in text


def test_word95_russian_with_cell_marks_is_not_read_as_chinese() -> None:
    text = text_of((DOCS / "word95-russian-poi.doc").read_bytes())
    assert text.startswith("Компания Аскат М\nпредлагает со склада в Москве")
    assert "\ufffd" not in text


def _word6_with(text: bytes, lid: int) -> bytes:
    """POI's Word 6 file with its 44 bytes of text replaced and its language id set."""
    payload = bytearray((DOCS / "word6-poi.doc").read_bytes())
    ole = olefile.OleFileIO(bytes(payload))
    word = ole.openstream("WordDocument").read()
    old = word[768 : 768 + 44]
    assert old.startswith(b"The quick brown fox")
    assert len(text) == 44
    at = payload.find(word[:0x40])
    struct.pack_into("<H", payload, at + 6, lid)
    payload[payload.find(old) : payload.find(old) + 44] = text
    return bytes(payload)


@pytest.mark.parametrize("lid", [0x0804, 0x0409])
def test_chinese_word95_text_in_gbk(lid: int) -> None:
    poem = "春夜：雨落在窗台上，灯亮在河对岸，我想起你"
    text = text_of(_word6_with(poem.encode("gbk") + b"\r\r", lid))
    assert text == poem


def test_word97_text_boxes_follow_the_body() -> None:
    # POI's Bug41898.doc: the body holds only a drawing; its text is in a text box.
    text = text_of((DOCS / "word97-textbox-poi.doc").read_bytes())
    assert text == "This is a line of text.\n\nすれはテキスト行です。"
