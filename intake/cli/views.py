"""What the read-only commands show, as data: the JSON contracts of ``list``, ``show`` and
``stats`` (docs/cli.md) and the times in them. No ORM here (models, sessions): list, show and
stats read Core tables through intake.store.queue, and a test keeps it that way (start-up time is
what editors feel)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

import click
from sqlalchemy import Connection

from intake.cli.output import (
    iso,
)
from intake.core.clock import as_utc
from intake.store import queue as queue_store
from intake.workflow.submission import (
    CopyrightStatus,
    Status,
    is_overdue,
)

STATUSES = tuple(str(s) for s in Status)
COPYRIGHT_STATUSES = tuple(str(s) for s in CopyrightStatus)
DATE = click.DateTime(formats=["%Y-%m-%d"])


# --------------------------------------------------------------------------- JSON contracts


class Summarised(Protocol):
    """What a listing line is made from: a :class:`~intake.store.queue.QueueRow` or a
    submission's row."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def copyright_status(self) -> str: ...
    @property
    def sender(self) -> str: ...
    @property
    def sender_name(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def assignee(self) -> str: ...
    @property
    def decision_due(self) -> datetime | None: ...
    @property
    def flagged(self) -> str: ...


def submission_summary(
    submission: Summarised,
    attachment_count: int,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The fields of ``intake list --json`` (a contract: see docs/cli.md)."""
    now = now or datetime.now(UTC)
    return {
        "id": submission.id,
        "status": submission.status,
        "copyright_status": submission.copyright_status,
        "sender": submission.sender,
        "sender_name": submission.sender_name,
        "subject": submission.subject,
        "received_at": _iso(submission.received_at),
        "attachment_count": attachment_count,
        "assignee": submission.assignee,
        "decision_due": _iso(submission.decision_due),
        "overdue": is_overdue(submission.status, submission.decision_due, now),
        "flagged": submission.flagged,
    }


def submission_detail(
    conn: Connection, submission_id: int, now: datetime | None = None, *, reveal: bool = False
) -> dict[str, Any]:
    """The fields of ``intake show --json`` (a contract): list's fields and more.

    ``author`` holds the contributor's details with phone, ID and account numbers masked
    unless ``reveal``."""
    # Only show needs these: their tables of phrases and patterns cost `intake list` 0.1 s.
    from intake.text import authors, quotes
    from intake.text.covernote import cover_note
    from intake.text.mailbody import plain_text

    submission = queue_store.submission(conn, submission_id)
    author = authors.Author.from_json(submission.author)
    note = cover_note(submission.body_text, submission.article_source)
    attachments = queue_store.attachments(conn, submission_id)
    letters = queue_store.letters_raw(conn, submission_id)
    data = submission_summary(submission, len(attachments), now)
    data.update(
        {
            "message_id": submission.message_id,
            "title": submission.title,
            "text": submission.article_text,
            "body": submission.body_text,
            "article_source": submission.article_source,
            "cover_note": note if reveal else authors.mask_in(note, author),
            "author": (author if reveal else authors.masked(author)).as_json(),
            "char_count": submission.char_count,
            "word_count": submission.word_count,
            "decided_at": _iso(submission.decided_at),
            "updated_at": _iso(submission.updated_at),
            "published_url": submission.published_url,
            "duplicate_of": submission.duplicate_of,
            "similarity": submission.similarity,
            "copyright_requested_at": _iso(submission.copyright_requested_at),
            "attachments": [
                {
                    "id": a.id,
                    "filename": a.filename,
                    "safe_name": a.safe_name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "sha256": a.sha256,
                    "kind": a.kind,
                    "text_chars": a.text_chars,
                    "extract_error": a.extract_error,
                    "encrypted": a.encrypted,
                    "meta": a.meta,
                }
                for a in attachments
            ],
            "conversation": [
                {
                    "id": m.id,
                    "message_id": m.message_id,
                    "received_at": _iso(m.received_at),
                    "sender": m.sender,
                    "sender_name": m.sender_name,
                    "subject": m.subject,
                    "kind": m.kind,
                    "original": m.id == submission.message_pk,
                    # What they wrote this time, without the quoted mail below it.
                    "text": "" if m.id == submission.message_pk else quotes.new_text(m.body_text),
                }
                for m in queue_store.conversation(conn, submission_id, submission.message_pk)
            ],
            "outbox": [
                {
                    "id": o.id,
                    "template": o.template,
                    "to": o.to_addr,
                    "subject": o.subject,
                    "message_id": o.message_id,
                    "state": o.state,
                    "automatic": o.automatic,
                    "attempts": o.attempts,
                    "created_at": _iso(o.created_at),
                    "sent_at": _iso(o.sent_at),
                    "last_error": o.last_error,
                    "text": plain_text(letters.get(o.id, b"")),
                }
                for o in queue_store.outbox_for(conn, submission_id)
            ],
            "consent": consent_json(conn, submission_id, submission),
            "versions": versions_json(conn, submission_id),
            "claims": [
                {
                    "id": c.id,
                    "status": c.status,
                    "claimant": c.claimant,
                    "received_at": _iso(c.received_at),
                }
                for c in queue_store.claims_naming(conn, submission_id)
            ],
            "history": [
                {
                    "at": _iso(e.at),
                    "actor": e.actor,
                    "action": e.action,
                    "from": e.from_status,
                    "to": e.to_status,
                    "note": e.note,
                }
                for e in queue_store.history(conn, submission_id)
            ],
        }
    )
    return data


def consent_json(
    conn: Connection, submission_id: int, submission: queue_store.Record | None = None
) -> dict[str, Any]:
    """The ``consent`` block of ``intake show --json`` (and ``intake consent --json``): status,
    terms asked, and every decision with its evidence (oldest first; the last one is current).
    """
    if submission is None:
        submission = queue_store.submission(conn, submission_id)
    evidence = [
        {
            "id": c.id,
            "decision": c.decision,
            "state": c.state,
            "at": _iso(c.at),
            "actor": c.actor,
            "note": c.note,
            "terms_version": c.terms_version,
            "phrase": c.phrase,
            "clause": c.clause,
            "authenticity": c.authenticity,
            "answers_outbox_id": c.answers_outbox_id,
            "message_pk": c.message_pk,
            "message_id": c.message_id,
            "in_reply_to": c.in_reply_to,
            "sender": c.sender,
            "sha256": c.sha256,
            "raw_path": c.raw_path,
            "auth_results": c.auth_results,
            "dkim": c.dkim,
            "reviewed_by": c.reviewed_by,
            "reviewed_at": _iso(c.reviewed_at),
        }
        for c in queue_store.consents_for(conn, submission_id)
    ]
    pending = [e for e in evidence if e["state"] == "pending"]
    return {
        "status": submission.copyright_status,
        "terms_version": submission.terms_version,
        "requested_at": _iso(submission.copyright_requested_at),
        # The contributor's answer an editor has yet to confirm or reject (the newest).
        "pending": pending[-1] if pending else None,
        "evidence": evidence,
    }


def pending_line(submission_id: int, pending: dict[str, Any]) -> str:
    """What ``show`` and ``consent`` say of a pending decision, with the commands for it."""
    return (
        f"{pending['decision']} from {pending['sender']} (consent #{pending['id']}, "
        f"{pending['authenticity'] or 'unbound'}): intake consent confirm {submission_id} | "
        f"reject {submission_id}"
    )


def contributor_json(conn: Connection, submission_id: int) -> dict[str, Any]:
    """``intake contributor addresses ID --json``: the submission's sender and the addresses
    staff added for its contributor."""
    submission = queue_store.submission(conn, submission_id)
    return {
        "id": submission.id,
        "sender": submission.sender,
        "added": [
            {
                "address": a.address,
                "added_by": a.added_by,
                "added_at": _iso(a.added_at),
                "note": a.note,
            }
            for a in queue_store.contributor_addresses(conn, submission_id)
        ],
    }


def versions_json(conn: Connection, submission_id: int) -> list[dict[str, Any]]:
    """The ``versions`` block of ``intake show --json``: every version, the current one last."""
    return [
        {
            "number": v.number,
            "message_pk": v.message_pk,
            "created_at": _iso(v.created_at),
            "char_count": v.char_count,
        }
        for v in queue_store.versions_for(conn, submission_id)
    ]


def _iso(value: datetime | None) -> str | None:
    # SQLite hands back naive datetimes (always UTC here); say so, as PostgreSQL's do.
    return iso(as_utc(value)) if value is not None else None


def local(value: datetime | str | None, *, seconds: bool = False, short: bool = False) -> str:
    """A time for people: this machine's time zone, to the minute (``short``: no year)."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    shape = ("%m-%d %H:%M" if short else "%Y-%m-%d %H:%M") + (":%S" if seconds else "")
    return as_utc(value).astimezone().strftime(shape)


def day_start(value: datetime) -> datetime:
    """A ``--since``/``--until`` date: midnight in this machine's time zone, as UTC."""
    return as_utc(value.astimezone())
