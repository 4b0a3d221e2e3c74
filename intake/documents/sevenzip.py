"""Member names of 7-Zip archives, read from their headers; the only importer of py7zr."""

from __future__ import annotations

import io

import py7zr
from py7zr.exceptions import ArchiveError, PasswordRequired

from intake.core.errors import ExtractionError
from intake.documents import Document


def list_7z(payload: bytes, max_members: int, max_listed: int) -> Document:
    """List a 7z archive without unpacking it; a password-protected header is flagged."""
    try:
        with py7zr.SevenZipFile(io.BytesIO(payload), mode="r") as archive:
            infos = archive.list()
            locked = archive.needs_password()
    except PasswordRequired:
        return Document(
            format="7z", encrypted=True, note="encrypted: 7z headers need a password to list"
        )
    except (ArchiveError, OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        # py7zr reports damaged headers with whatever its parser tripped on.
        raise ExtractionError(f"damaged 7z: {type(exc).__name__}: {exc}") from None
    if len(infos) > max_members:
        raise ExtractionError(f"7z has more than {max_members} members")
    meta: dict[str, object] = {
        "member_count": len(infos),
        "members": [info.filename for info in infos[:max_listed]],
        "unpacked_bytes": sum(info.uncompressed for info in infos),
    }
    if locked:
        return Document(
            format="7z", encrypted=True, note="encrypted: 7z members need a password", meta=meta
        )
    return Document(format="7z", meta=meta)
