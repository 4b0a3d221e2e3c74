"""The rows one message becomes, written inside the caller's transaction: the ``messages`` row and
its server location, a new submission with its first event and version, and the attachments.

Core ``INSERT … RETURNING`` statements (``store.insert_row``), because every message passes
here; the hooks that run afterwards use the ORM.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.orm import Session

from intake.core.events import SYSTEM_ACTOR, DkimCheck, Ingested, StoredAttachment, ThreadMatch
from intake.core.mail import (
    GENUINE_KINDS,
    OVERSIZE_RULE,
    Kind,
    MessageRef,
    ParsedAttachment,
    ParsedMail,
    Verdict,
)
from intake.documents import captions, extract
from intake.store import insert_row
from intake.store import messages as message_store
from intake.store.models import Attachment, Event, Message, Submission, Version
from intake.text.addresses import normalised_or_lower
from intake.workflow.opening import submission_row

#: Kinds whose body and attachments are kept and read: mail a person wrote to us on purpose.
#: Extraction kinds whose text may become the article.
DOCUMENT_KINDS = frozenset({"document"})


@dataclass(frozen=True, slots=True)
class Arrival:
    """One message on its way to the database: where it is, its stored bytes, its parse."""

    ref: MessageRef | None  # None when reprocessing a quarantined message
    size: int
    sha: str
    raw_path: str
    body_sha: str
    received_at: datetime
    parsed: ParsedMail
    now: datetime
    existing_pk: int | None = None  # the quarantined row a reprocess fills in


@dataclass(frozen=True, slots=True)
class Decision:
    """What classification, extraction and the DKIM check made of a message."""

    verdict: Verdict
    classified_as: Kind  # the verdict before oversize overrode it
    documents: dict[int, extract.Extracted]
    attachment_blobs: tuple[tuple[str, str], ...]  # (sha256, path) per attachment of genuine mail
    dkim: DkimCheck
    auto_reply_allowed: bool
    auto_reply_reason: str


def write(
    session: Session,
    arrival: Arrival,
    thread: ThreadMatch | None,
    decision: Decision,
    *,
    decision_days: int,
) -> Ingested:
    """Every row of one classified message; returns the event the hooks receive."""
    parsed, now, verdict = arrival.parsed, arrival.now, decision.verdict
    submission_id: int | None = None
    claim_id: int | None = None
    if verdict.kind is Kind.REPLY and thread is not None:
        submission_id, claim_id = thread.submission_id, thread.claim_id
    fields = dict(
        message_fields(arrival),
        kind=verdict.kind.value,
        rule=verdict.rule[:50],
        reason=verdict.reason,
        auth_results="\n".join(parsed.header_all("Authentication-Results")),
        body_text=parsed.text if verdict.kind in GENUINE_KINDS else "",
        submission_id=submission_id,
        claim_id=claim_id,
    )
    if arrival.existing_pk is not None:
        message_pk = arrival.existing_pk
        message_store.update_message(session, message_pk, fields)
    else:
        message_pk = insert_row(session, Message, fields)
    if arrival.ref is not None:
        message_store.add_location(session, message_pk, arrival.ref, now, duplicate=False)

    documents = decision.documents
    if verdict.kind is Kind.SUBMISSION:
        submission_id = new_submission(
            session, message_pk, parsed, documents, arrival.received_at, now, decision_days
        )
        message_store.update_message(session, message_pk, {"submission_id": submission_id})
    found = _captions(parsed, documents) if decision.attachment_blobs else {}
    stored = tuple(
        store_attachment(
            session,
            message_pk,
            submission_id,
            parsed.attachments[i],
            blob,
            documents.get(i),
            found.get(i, ""),
        )
        for i, blob in enumerate(decision.attachment_blobs)
    )
    return Ingested(
        message_pk=message_pk,
        parsed=parsed,
        verdict=verdict,
        classified_as=decision.classified_as,
        sha256=arrival.sha,
        raw_path=arrival.raw_path,
        received_at=arrival.received_at,
        now=now,
        submission_id=submission_id,
        claim_id=claim_id,
        thread=thread,
        attachments=stored,
        auto_reply_allowed=decision.auto_reply_allowed,
        auto_reply_reason=decision.auto_reply_reason,
        dkim=decision.dkim,
    )


def write_redelivery(session: Session, earlier: message_store.Recorded, arrival: Arrival) -> None:
    """The same message delivered again with other trace headers: keep its bytes, link it
    to what the first copy became, and do nothing else (no second submission or reply)."""
    message_pk = insert_row(
        session,
        Message,
        dict(
            message_fields(arrival),
            kind=earlier.kind,
            rule="redelivery",
            reason=f"same Message-ID and body as message {earlier.id}; delivered again",
            submission_id=earlier.submission_id,
            claim_id=earlier.claim_id,
        ),
    )
    if arrival.ref is not None:
        message_store.add_location(session, message_pk, arrival.ref, arrival.now, duplicate=True)


def write_quarantined(
    session: Session,
    *,
    raw: bytes,
    sha: str,
    raw_path: str,
    body_sha: str,
    received_at: datetime,
    now: datetime,
    reason: str,
    size: int | None = None,
) -> int:
    """The row of a message that could not be recorded: its bytes' identity and the reason.
    ``size`` is an oversize message's, of which ``raw`` is the header (rule ``oversize``)."""
    return insert_row(
        session,
        Message,
        dict(
            sha256=sha,
            body_sha256=body_sha,
            size=len(raw) if size is None else size,
            raw_path=raw_path,
            message_id=header_message_id(raw),
            received_at=received_at,
            ingested_at=now,
            kind=Kind.QUARANTINED.value,
            rule="quarantine" if size is None else OVERSIZE_RULE,
            reason=reason[:4000],
            defects=[],
        ),
    )


def message_fields(arrival: Arrival) -> dict[str, object]:
    """The columns of a ``messages`` row that come from the bytes and the parsed headers."""
    parsed = arrival.parsed
    sender = parsed.sender
    return {
        "sha256": arrival.sha,
        "body_sha256": arrival.body_sha,
        "size": arrival.size,
        "raw_path": arrival.raw_path,
        "message_id": parsed.message_id[:998],
        "in_reply_to": " ".join(parsed.in_reply_to),
        "references": " ".join(parsed.references),
        "sender": normalised_or_lower(sender.addr if sender else "")[:320],
        "sender_name": (sender.name if sender else "")[:500],
        "subject": parsed.subject,
        "date": parsed.date,
        "received_at": arrival.received_at,
        "ingested_at": arrival.now,
        "defects": list(parsed.defects),
    }


def new_submission(
    session: Session,
    message_pk: int,
    parsed: ParsedMail,
    documents: dict[int, extract.Extracted],
    received_at: datetime,
    now: datetime,
    decision_days: int,
) -> int:
    """Insert the submission a message makes, its "received" event and its version 1."""
    sender = parsed.sender
    row = submission_row(
        sender=sender.addr if sender else "",
        sender_name=sender.name if sender else "",
        subject=parsed.subject,
        body_text=parsed.text,
        documents=[
            (parsed.attachments[i].filename, d.text)
            for i, d in sorted(documents.items())
            if d.kind in DOCUMENT_KINDS and d.text.strip()
        ],
        attachment_hashes=[
            hashlib.sha256(a.payload).hexdigest() for a in parsed.attachments if not a.inline
        ],
        received_at=received_at,
        decision_days=decision_days,
        message_pk=message_pk,
        now=now,
    )
    submission_id = insert_row(session, Submission, row)
    insert_row(
        session,
        Event,
        dict(
            at=now,
            actor=SYSTEM_ACTOR,
            action="received",
            submission_id=submission_id,
            to_status="received",
            note=f"message {message_pk}",
        ),
    )
    insert_row(
        session,
        Version,
        dict(
            submission_id=submission_id,
            message_pk=message_pk,
            number=1,
            article_text=row["article_text"],
            char_count=row["char_count"],
            created_at=now,
        ),
    )
    return submission_id


def store_attachment(
    session: Session,
    message_pk: int,
    submission_id: int | None,
    att: ParsedAttachment,
    blob: tuple[str, str],
    extracted: extract.Extracted | None,
    caption: str = "",
) -> StoredAttachment:
    """The ``attachments`` row of one stored attachment, with what extraction made of it."""
    sha, path = blob
    meta = dict(extracted.meta) if extracted else {}
    if caption:
        meta["caption"] = caption
    row = StoredAttachment(
        attachment_id=0,
        filename=att.filename,
        safe_name=att.safe_name,
        content_type=att.content_type,
        size=att.size,
        sha256=sha,
        kind=extracted.kind if extracted else "",
        text=extracted.text if extracted else "",
        error=extracted.error if extracted else "",
    )
    attachment_id = insert_row(
        session,
        Attachment,
        dict(
            message_pk=message_pk,
            submission_id=submission_id,
            filename=row.filename,
            safe_name=row.safe_name,
            content_type=row.content_type,
            size=row.size,
            sha256=sha,
            blob_path=path,
            inline=att.inline,
            kind=row.kind,
            text=row.text,
            text_chars=len(row.text),
            extract_error=row.error,
            encrypted=extracted.encrypted if extracted else False,
            meta=meta,
        ),
    )
    return replace(row, attachment_id=attachment_id)


def content_type(attachment: ParsedAttachment) -> str:
    """The attachment's content type with its charset parameter, as extraction reads it."""
    if attachment.charset:
        return f"{attachment.content_type}; charset={attachment.charset}"
    return attachment.content_type


def body(raw: bytes) -> memoryview:
    """The bytes after the header block, without copying them (messages can be 50 MB)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(sep)
        if index >= 0:
            return memoryview(raw)[index + len(sep) :]
    return memoryview(b"")


_MESSAGE_ID = re.compile(rb"^message-id:\s*<?([^>\r\n]*)>?", re.IGNORECASE | re.MULTILINE)


def header_message_id(raw: bytes) -> str:
    """The Message-ID read straight from the bytes (for mail the parser could not read)."""
    head = raw[: raw.find(b"\n\n") if b"\n\n" in raw else 65536]
    found = _MESSAGE_ID.search(head[:65536])
    return found.group(1).decode("ascii", "replace").strip()[:998] if found else ""


def _captions(parsed: ParsedMail, documents: dict[int, extract.Extracted]) -> dict[int, str]:
    """Captions the body gives the image attachments, by attachment index.

    图1/第一张 count the attached photos; inline images (signature logos, pictures pasted into
    an HTML body) only when nothing else is attached, so a logo never shifts the numbering.
    """
    images = [i for i, d in sorted(documents.items()) if d.kind == "image"]
    counted = [i for i in images if not parsed.attachments[i].inline] or images
    if not counted or not parsed.text:
        return {}
    names = [parsed.attachments[i].filename or parsed.attachments[i].safe_name for i in counted]
    found = captions.find(parsed.text, names)
    return {i: found[name] for i, name in zip(counted, names, strict=True) if name in found}
