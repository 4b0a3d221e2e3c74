"""The author-details reader on the layout table in tests/data/authors, and masking."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from intake.text import authors
from intake.text.authors import FIELDS, Author, mask_number, masked, read

ROWS: list[dict[str, Any]] = tomllib.loads(
    (Path(__file__).parents[1] / "data" / "authors" / "layouts.toml").read_text(encoding="utf-8")
)["row"]


@pytest.mark.parametrize("row", ROWS, ids=[r["layout"] for r in ROWS])
def test_layout(row: dict[str, Any]) -> None:
    documents = [row["document"]] if "document" in row else []
    found = read(row["note"], documents, body_is_article=row.get("body_is_article", False))
    expected = {f: "" for f in FIELDS} | row["expect"]
    assert found.as_json() == expected


def test_the_table_covers_enough_layouts() -> None:
    with_details = [r for r in ROWS if r["expect"]]
    without = [r for r in ROWS if not r["expect"]]
    assert len(with_details) >= 20 and len(without) >= 5


def test_masked_for_staff_by_default() -> None:
    author = Author(
        name="赵晓东", phone="13812345678", id_number="44030519900101123X",
        account="6222021234567890123", bank="工商银行",
    )  # fmt: skip
    shown = masked(author)
    assert shown.phone == "138****5678"
    assert shown.id_number == "440***********123X"
    assert shown.account == "6222***********0123"
    assert (shown.name, shown.bank) == ("赵晓东", "工商银行")
    assert "12345678" not in str(shown.as_json())


@pytest.mark.parametrize(("value", "expected"), [("1234", "****"), ("", "")])
def test_short_numbers_are_masked_whole(value: str, expected: str) -> None:
    assert mask_number(value) == expected


def test_author_round_trips_through_json() -> None:
    author = Author(name="李明", phone="13812345678")
    assert Author.from_json(author.as_json()) == author
    assert Author.from_json(None) == Author() and Author.from_json({"evil": "x"}) == Author()


def test_the_cover_note_shows_the_numbers_masked_however_they_were_spaced() -> None:
    author = authors.Author(name="赵磊", phone="13700001111", account="6222021234567890123")
    note = (
        "赵磊\n手机：137 0000 1111\n电话13700001111\n"
        "卡号 6222-0212-3456-7890-123\n编号 213700001111"
    )
    assert authors.mask_in(note, author) == (
        "赵磊\n手机：137****1111\n电话137****1111\n卡号 6222***********0123\n编号 213700001111"
    )
