"""winmail.dat blobs are walked within bounds before tnefparse sees them (intake.ingest.tnef)."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from intake.ingest import tnef

DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"
REAL = [
    "winmail-umlaut.dat",
    "winmail-two-files.dat",
    "winmail-html-body.dat",
    "winmail-poi-simple.dat",
    "winmail-multi-value.dat",
]


@pytest.mark.parametrize("name", REAL)
def test_real_blobs_are_plausible_and_unpacked(name: str) -> None:
    payload = (DOCS / name).read_bytes()
    assert tnef.implausible(payload) == ""
    assert tnef.unpack(payload) is not None


def test_apache_poi_oom_blob_is_refused_before_tnefparse_allocates() -> None:
    # 53 bytes declaring 873 million multi-valued property values: tnefparse would append
    # an attribute object for each until the daemon ran out of memory.
    payload = (DOCS / "winmail-oom.dat").read_bytes()
    assert len(payload) == 53
    assert "multi-valued property values" in tnef.implausible(payload)
    assert tnef.unpack(payload) is None


def _blob(*objects: tuple[int, int, bytes]) -> bytes:
    out = tnef.TNEF_SIGNATURE + b"\x01\x00"
    for level, name, data in objects:
        out += struct.pack("<BHHI", level, name, 0x0006, len(data)) + data + b"\x00\x00"
    return out


def test_a_property_count_larger_than_its_attribute_is_refused() -> None:
    props = struct.pack("<I", 4_000_000_000) + b"\x00" * 8
    assert "MAPI properties" in tnef.implausible(_blob((1, 0x9003, props)))


def test_a_string_longer_than_its_attribute_is_refused() -> None:
    # one PT_STRING property (0x001E) holding one value that claims 1 MiB
    props = struct.pack("<IHHII", 1, 0x001E, 0x0037, 1, 1 << 20) + b"abc\x00"
    assert "past the end" in tnef.implausible(_blob((1, 0x9003, props)))


def test_recipient_rows_must_fit() -> None:
    rows = struct.pack("<I", 1_000_000) + b"\x00" * 4
    assert "recipient rows" in tnef.implausible(_blob((1, 0x9004, rows)))


def test_a_large_blob_of_tiny_attributes_is_refused() -> None:
    # tnefparse copies the rest of the blob for each attribute: quadratic in the count.
    tiny = [(1, 0x8008, b"x")] * 70_000
    assert "attributes" in tnef.implausible(_blob(*tiny))
