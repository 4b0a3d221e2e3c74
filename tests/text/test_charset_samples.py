"""The charset rules measured on the sample table in tests/data/charsets: unlabelled and
mislabelled Chinese (GB18030, Big5, Big5-HKSCS), Japanese, Korean and UTF-8 text."""

from __future__ import annotations

import tomllib
import unicodedata
from pathlib import Path

import pytest

from intake.text.charsets import decode_text

DATA = Path(__file__).parents[1] / "data" / "charsets"
TEXTS = tomllib.loads((DATA / "texts.toml").read_text(encoding="utf-8"))
ROWS = [
    line.split("\t")
    for line in (DATA / "samples.tsv").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize(("name", "key", "charset", "label"), ROWS, ids=[
    f"{r[0]}-{r[3]}" for r in ROWS
])  # fmt: skip
def test_sample_decodes_exactly(name: str, key: str, charset: str, label: str) -> None:
    data = (DATA / name).read_bytes()
    assert data == TEXTS[key]["text"].encode(charset)  # the file is what the table says
    text, notes = decode_text(data, None if label == "-" else label)
    assert text == TEXTS[key]["text"], notes
    assert not any(unicodedata.category(c) in ("Co", "Cn") for c in text)


def test_every_sample_file_is_in_the_table() -> None:
    listed = {row[0] for row in ROWS}
    on_disk = {p.name for p in DATA.glob("*.txt")}
    assert on_disk == listed
