"""Export use cases: one submission to a folder editors can open, and the fee ledger.

A submission's folder holds ``article.txt`` (the article, UTF-8), ``cover_note.txt`` when the
article came from a document (the mail's own words: phone, address, captions), every attachment
under its safe name, byte for byte as sent, and ``metadata.json``, written last so that a
folder with it is a complete export. The ledger is CSV for Excel (UTF-8 with a byte order
mark: without one, Excel on Chinese Windows reads the file as GBK and garbles every name and
subject) or JSON for scripts.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from intake.core.clock import as_utc
from intake.core.config import FeesConfig
from intake.core.errors import UsageError
from intake.core.ports import BlobReader
from intake.store import submissions as submission_store
from intake.store.exports import LedgerRow, ledger_rows
from intake.submissions.fees import fee
from intake.text.authors import Author
from intake.text.covernote import cover_note
from intake.text.names import safe_name

ARTICLE_FILE = "article.txt"
METADATA_FILE = "metadata.json"
COVER_NOTE_FILE = "cover_note.txt"
#: The ledger's columns: what fee accounting needs first, then what helps it, then the fee
#: ([fees]) and who to pay it to (the author's details, in full).
LEDGER_COLUMNS = (
    "id", "sender", "subject", "received_at", "status", "copyright_status", "char_count",
    "sender_name", "title", "word_count", "published_url", "fee", "author_name", "pen_name",
    "phone", "address", "postcode", "organisation", "id_number", "bank", "account",
)  # fmt: skip
# Excel runs a cell starting with one of these as a formula, and subjects and names are the
# contributors' own text: "=HYPERLINK(...)" in a subject must stay text (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class _File:
    """An attachment as read from the database, before its bytes are fetched."""

    attachment_id: int
    filename: str
    safe_name: str
    content_type: str
    size: int
    sha256: str
    blob_path: str
    kind: str
    extract_error: str
    encrypted: bool
    inline: bool
    meta: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportedSubmission:
    """What :func:`export_submission` wrote."""

    submission_id: int
    directory: Path
    files: tuple[str, ...]  # the attachments' file names in the folder, in attachment order
    metadata: dict[str, Any]  # as written to metadata.json


def export_submission(
    sessions: sessionmaker[Session],
    blobs: BlobReader,
    submission_id: int,
    directory: Path,
    *,
    now: datetime,
    force: bool = False,
) -> ExportedSubmission:
    """Write one submission into ``directory`` (created if missing).

    A non-empty ``directory`` is refused unless ``force``; then files of the same names are
    replaced and others left alone. Nothing is ever written outside ``directory``.
    """
    with sessions() as session, session.begin():
        submission = submission_store.get_submission(session, submission_id)
        metadata: dict[str, Any] = {
            "id": submission.id,
            "status": submission.status,
            "copyright_status": submission.copyright_status,
            "sender": submission.sender,
            "sender_name": submission.sender_name,
            "subject": submission.subject,
            "title": submission.title,
            "received_at": as_utc(submission.received_at).isoformat(),
            "char_count": submission.char_count,
            "word_count": submission.word_count,
            "article_source": submission.article_source,
            "article_file": ARTICLE_FILE,
            "published_url": submission.published_url,
            "exported_at": as_utc(now).isoformat(),
        }
        article = submission.article_text
        note = cover_note(submission.body_text, submission.article_source)
        metadata["cover_note_file"] = COVER_NOTE_FILE if note else ""
        attachments = [
            _File(
                a.id, a.filename, a.safe_name, a.content_type, a.size, a.sha256, a.blob_path,
                a.kind, a.extract_error, a.encrypted, a.inline, dict(a.meta or {}),
            )
            for a in submission_store.attachments_for(session, submission_id)
        ]  # fmt: skip
    root = _prepare(directory, force=force)
    names = unique_names(
        [a.safe_name or a.filename for a in attachments],
        reserved=(ARTICLE_FILE, METADATA_FILE, COVER_NOTE_FILE),
    )
    for attachment, name in zip(attachments, names, strict=True):
        # Read one blob at a time: attachments can be tens of megabytes each. One that was
        # not stored (past the message's decoded-bytes budget) has no file; its
        # extract_error in the metadata says why.
        if attachment.blob_path:
            _write(root, name, blobs.get(attachment.blob_path))
    _write(root, ARTICLE_FILE, (article.rstrip("\n") + "\n" if article else "").encode("utf-8"))
    if note:
        _write(root, COVER_NOTE_FILE, (note.rstrip("\n") + "\n").encode("utf-8"))
    metadata["attachments"] = [
        {
            "id": a.attachment_id,
            "filename": a.filename,
            "file": name if a.blob_path else "",
            "content_type": a.content_type,
            "size": a.size,
            "sha256": a.sha256,
            "kind": a.kind,
            "extract_error": a.extract_error,
            "encrypted": a.encrypted,
            "inline": a.inline,
            "meta": a.meta,
        }
        for a, name in zip(attachments, names, strict=True)
    ]
    text = json.dumps(metadata, ensure_ascii=False, indent=2) + "\n"
    _write(root, METADATA_FILE, text.encode("utf-8"))
    return ExportedSubmission(submission_id, root, tuple(names), metadata)


def unique_names(names: Sequence[str], *, reserved: Sequence[str] = ()) -> list[str]:
    """Safe file names for ``names``, none twice: "a.png", "a.png" -> "a.png", "a-2.png".

    Names are compared without case, as Windows and macOS file systems (where editors open
    the folder) do, and never take one of ``reserved``.
    """
    taken = {name.casefold() for name in reserved}
    result: list[str] = []
    for original in names:
        name = safe_name(original)
        stem, dot, ext = name.rpartition(".")
        if not dot or not stem:
            stem, ext = name, ""
        suffix = f".{ext}" if ext else ""
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{stem}-{number}{suffix}"
        taken.add(candidate.casefold())
        result.append(candidate)
    return result


def _prepare(directory: Path, *, force: bool) -> Path:
    """The export folder, resolved, created if missing; refused when in use and not forced."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        root = directory.resolve(strict=True)
        in_use = any(root.iterdir())
    except FileExistsError:
        raise UsageError(f"{directory}: exists and is not a directory") from None
    except NotADirectoryError:
        raise UsageError(f"{directory}: a part of this path is not a directory") from None
    except OSError as exc:
        raise UsageError(f"{directory}: {exc.strerror or exc}") from None
    if in_use and not force:
        raise UsageError(f"{directory}: not empty (--force writes into it anyway)")
    return root


def _write(root: Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``root/name``, refusing any path that would leave ``root``."""
    path = root / name
    # safe_name() already keeps separators and ".." out; this is the check that does not
    # depend on it, and it also catches a symbolic link planted in a forced folder.
    if path.parent != root or not path.resolve().is_relative_to(root) or name in ("", ".", ".."):
        raise UsageError(f"refusing to write {name!r} outside {root}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"refusing to write through the symbolic link {path}") from None
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


# --------------------------------------------------------------------------- the ledger


def ledger(
    sessions: sessionmaker[Session],
    *,
    statuses: Sequence[str] = (),
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[LedgerRow]:
    """The ledger's rows: submissions in ``statuses`` received in [since, until), oldest first."""
    with sessions() as session, session.begin():
        return ledger_rows(session, statuses=statuses, since=since, until=until)


def ledger_records(
    rows: Sequence[LedgerRow], fees: FeesConfig | None = None, zone: tzinfo = UTC
) -> list[dict[str, Any]]:
    """The ledger as JSON-ready dicts with :data:`LEDGER_COLUMNS` as keys; ``fee`` is None
    without a configured rate; times in ``zone`` (the desk's, ``[replies] timezone``), with
    their offset."""
    fees = fees or FeesConfig()
    records = []
    for row in rows:
        author = Author.from_json(row.author)
        amount = fee(row.char_count, fees)
        records.append({
            "id": row.id,
            "sender": row.sender,
            "subject": row.subject,
            "received_at": as_utc(row.received_at).astimezone(zone).isoformat(),
            "status": row.status,
            "copyright_status": row.copyright_status,
            "char_count": row.char_count,
            "sender_name": row.sender_name,
            "title": row.title,
            "word_count": row.word_count,
            "published_url": row.published_url,
            "fee": float(amount) if amount is not None else None,
            "author_name": author.name,
            **{f: getattr(author, f) for f in _AUTHOR_COLUMNS},
        })  # fmt: skip
    return records


# Long digit strings Excel would show as numbers (and round): a leading tab keeps them text.
_DIGITS = frozenset({"id_number", "account", "phone", "postcode"})
_AUTHOR_COLUMNS = (
    "pen_name", "phone", "address", "postcode", "organisation", "id_number", "bank", "account",
)  # fmt: skip


def ledger_csv(
    rows: Sequence[LedgerRow], fees: FeesConfig | None = None, zone: tzinfo = UTC
) -> bytes:
    """The ledger as CSV bytes for Excel: UTF-8 with a BOM, CRLF, a header row. The fee has
    two decimals; ID and account numbers are written as text (Excel would turn an 18-digit
    number into 4.40305E+17 and lose its last digits)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(LEDGER_COLUMNS)
    for record in ledger_records(rows, fees, zone):
        if record["fee"] is not None:
            record["fee"] = f"{record['fee']:.2f}"
        writer.writerow(
            [
                f"\t{record[column]}"
                if column in _DIGITS and record[column]
                else _cell(record[column])
                for column in LEDGER_COLUMNS
            ]
        )
    return out.getvalue().encode("utf-8-sig")


def ledger_json(
    rows: Sequence[LedgerRow], fees: FeesConfig | None = None, zone: tzinfo = UTC
) -> bytes:
    """The ledger as a JSON array (UTF-8, no BOM: that is for Excel only)."""
    records = ledger_records(rows, fees, zone)
    return (json.dumps(records, ensure_ascii=False, indent=2) + "\n").encode()


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # Excel shows the text and hides the quote
    return value
