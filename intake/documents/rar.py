"""Member names of RAR archives, read from their headers; the only importer of rarfile."""

from __future__ import annotations

import io

import rarfile

from intake.core.errors import ExtractionError
from intake.documents import Document


def list_rar(payload: bytes, max_members: int, max_listed: int) -> Document:
    """List a RAR archive without unpacking it (rarfile parses headers itself, no unrar)."""
    try:
        archive = rarfile.RarFile(io.BytesIO(payload))
    except rarfile.NeedFirstVolume:
        raise ExtractionError("a later volume of a multi-volume RAR; members not listed") from None
    except rarfile.PasswordRequired:
        return _locked()
    except (rarfile.Error, OSError, EOFError) as exc:
        raise ExtractionError(f"damaged RAR: {exc}") from None
    with archive:
        infos = archive.infolist()
        if not infos and archive.needs_password():
            return _locked()  # RAR "encrypt file names": even the list needs the password
        if len(infos) > max_members:
            raise ExtractionError(f"RAR has more than {max_members} members")
        locked = sum(1 for info in infos if info.needs_password())
        meta: dict[str, object] = {
            "member_count": len(infos),
            "members": [info.filename for info in infos[:max_listed]],
            "unpacked_bytes": sum(info.file_size for info in infos),
        }
    if locked:
        meta["encrypted_members"] = locked
        return Document(
            format="rar",
            encrypted=True,
            note=f"encrypted: {locked} of {len(infos)} members need a password",
            meta=meta,
        )
    return Document(format="rar", meta=meta)


def _locked() -> Document:
    return Document(
        format="rar", encrypted=True, note="encrypted: RAR headers need a password to list"
    )
