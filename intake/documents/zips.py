"""A zip file's member list from its central directory, without inflating anything.

Safe to run in-process on hostile bytes: it walks the central directory with ``struct`` in
time and memory bounded by the directory size, and stops as soon as the member limit is
passed, so a zip bomb or a million-member zip is refused before any library opens it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from intake.core.errors import ExtractionError

_EOCD = b"PK\x05\x06"
_EOCD64_LOCATOR = b"PK\x06\x07"
_EOCD64 = b"PK\x06\x06"
_CENTRAL = b"PK\x01\x02"
_CENTRAL_SIZE = 46
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_FLAG_ENCRYPTED = 0x0001
_FLAG_UTF8 = 0x0800
_ZIP64_EXTRA = 0x0001
_UNICODE_PATH_EXTRA = 0x7075  # Info-ZIP: the UTF-8 name next to a legacy-encoded one
_SLACK = 1024  # stored-block headers, encryption headers (12 bytes) and AES salt and MAC


@dataclass(frozen=True)
class Member:
    name: str
    size: int  # uncompressed, as the central directory declares it
    encrypted: bool


@dataclass(frozen=True)
class Census:
    members: tuple[Member, ...]
    unpacked_bytes: int  # the sum of the declared sizes; zipfile never inflates past them

    @property
    def names(self) -> frozenset[str]:
        return frozenset(m.name for m in self.members)


def census(data: bytes, max_members: int) -> Census:
    """Every member of the zip in ``data``; ExtractionError when damaged or over the limit."""
    cd_start, cd_end = _central_directory(data)
    members: list[Member] = []
    total = 0
    pos = cd_start
    while pos < cd_end:
        if len(members) >= max_members:
            raise ExtractionError(f"zip has more than {max_members} members; not opened")
        if data[pos : pos + 4] != _CENTRAL:
            raise ExtractionError("damaged zip: bad central directory entry")
        try:
            (flags, packed, size, name_len, extra_len, comment_len) = _entry(data, pos)
        except struct.error:
            raise ExtractionError("damaged zip: truncated central directory") from None
        name_end = pos + _CENTRAL_SIZE + name_len
        raw_name = data[pos + _CENTRAL_SIZE : name_end]
        extra = data[name_end : name_end + extra_len]
        if size == 0xFFFFFFFF or packed == 0xFFFFFFFF:
            size, packed = _zip64_sizes(extra, size, packed)
        name = _name(raw_name, flags, extra)
        if packed > size + size // 100 + _SLACK:
            # Deflate never grows data by more than a few bytes per block, so more packed
            # than unpacked bytes means the declared size lies, and zipfile inflates a whole
            # read before it cuts the output to the declared size: a bomb in disguise.
            raise ExtractionError(
                f"damaged zip: {name!r} holds {packed} packed bytes but declares {size}; not opened"
            )
        members.append(Member(name, size, bool(flags & _FLAG_ENCRYPTED)))
        total += size
        pos = name_end + extra_len + comment_len
    return Census(tuple(members), total)


def _entry(data: bytes, pos: int) -> tuple[int, int, int, int, int, int]:
    # Central directory header: flags at 8, compressed and uncompressed size at 20 and 24,
    # name/extra/comment lengths at 28, 30 and 32 (APPNOTE.TXT 4.3.12).
    if pos + _CENTRAL_SIZE > len(data):
        raise struct.error("short entry")
    (flags,) = struct.unpack_from("<H", data, pos + 8)
    packed, size = struct.unpack_from("<II", data, pos + 20)
    name_len, extra_len, comment_len = struct.unpack_from("<3H", data, pos + 28)
    return flags, packed, size, name_len, extra_len, comment_len


def _central_directory(data: bytes) -> tuple[int, int]:
    """Where the central directory starts and ends, from the end-of-central-directory record."""
    search_from = max(0, len(data) - _EOCD_SIZE - _MAX_COMMENT)
    eocd = data.rfind(_EOCD, search_from)
    if eocd < 0 or eocd + _EOCD_SIZE > len(data):
        raise ExtractionError("not a zip file (no end of central directory)")
    (cd_size,) = struct.unpack_from("<I", data, eocd + 12)
    end = eocd
    locator = eocd - 20
    if cd_size == 0xFFFFFFFF and locator >= 0 and data[locator : locator + 4] == _EOCD64_LOCATOR:
        (eocd64,) = struct.unpack_from("<Q", data, locator + 8)
        # Data prepended to the zip (self-extractors) shifts every offset; the record sits
        # right before the locator, which is where we look if the offset disagrees.
        if data[eocd64 : eocd64 + 4] != _EOCD64:
            eocd64 = locator - 56
        if eocd64 < 0 or data[eocd64 : eocd64 + 4] != _EOCD64:
            raise ExtractionError("damaged zip: missing zip64 end record")
        (cd_size,) = struct.unpack_from("<Q", data, eocd64 + 40)
        end = eocd64
    # Measured back from the end record rather than trusting the stored offset, for the same
    # reason zipfile does: prepended data.
    start = end - cd_size
    if start < 0:
        raise ExtractionError("damaged zip: central directory larger than the file")
    return start, end


def _zip64_sizes(extra: bytes, size: int, packed: int) -> tuple[int, int]:
    """The real sizes from the zip64 extra field, which holds only the ones set to 0xFFFFFFFF,
    uncompressed first."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == _ZIP64_EXTRA:
            values = extra[pos + 4 : pos + 4 + length]
            wanted = [size == 0xFFFFFFFF, packed == 0xFFFFFFFF]
            if len(values) < 8 * sum(wanted):
                break
            found = list(struct.unpack_from(f"<{sum(wanted)}Q", values))
            if wanted[0]:
                size = found.pop(0)
            if wanted[1]:
                packed = found.pop(0)
            return size, packed
        pos += 4 + length
    raise ExtractionError("damaged zip: zip64 sizes missing")


def _name(raw: bytes, flags: int, extra: bytes) -> str:
    """A member name in the encoding its writer most likely used."""
    if flags & _FLAG_UTF8:
        return raw.decode("utf-8", errors="replace")
    pos = 0
    while pos + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, pos)
        if tag == _UNICODE_PATH_EXTRA and length > 5:
            return extra[pos + 9 : pos + 4 + length].decode("utf-8", errors="replace")
        pos += 4 + length
    # Windows' own zip and most Chinese tools write names in the system code page (GBK) with
    # no flag; macOS writes UTF-8 with no flag. UTF-8 is tried first because GBK bytes are
    # almost never valid UTF-8, while the reverse is common.
    for encoding in ("utf-8", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("cp437")
