"""CLI commands for reading the queue: list (the open queue, filters, full-text search), show,
attachment and stats."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import click
from sqlalchemy import Connection

from intake import store
from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import (
    Block,
    Heading,
    Part,
    display_width,
    emit_json,
    emit_parts,
    fit,
    grid,
    is_terminal,
    iso,
    page_parts,
    page_text,
    short,
    shown,
)
from intake.core.clock import as_utc
from intake.core.errors import NotFound, UsageError
from intake.store import queue as queue_store
from intake.text import authors, quotes
from intake.text.covernote import cover_note
from intake.text.mailbody import plain_text
from intake.workflow.submission import (
    QUEUE_STATUSES,
    CopyrightStatus,
    Status,
    acceptance_rate,
    is_overdue,
)

# No ORM here (models, sessions): list, show and stats read Core tables through
# intake.store.queue, and a test keeps it that way (start-up time is what editors feel).

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
    submission = queue_store.submission(conn, submission_id)
    author = authors.Author.from_json(submission.author)
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
            "cover_note": cover_note(submission.body_text, submission.article_source),
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


# --------------------------------------------------------------------------- list


@cli.command("list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only this status (repeat for several). Default: the open queue.",
)
@click.option(
    "--all", "all_", is_flag=True, help="Every status, declined, published and withdrawn too."
)
@click.option(
    "--copyright",
    "copyright_",
    multiple=True,
    type=click.Choice(COPYRIGHT_STATUSES),
    help="Only this copyright status (repeat for several).",
)
@click.option("--assignee", metavar="NAME", help='Only assigned to NAME ("-": unassigned).')
@click.option("--mine", is_flag=True, help="Only assigned to me (--as, $INTAKE_USER, OS user).")
@click.option("--as", "as_", metavar="NAME", help="Who I am for --mine.")
@click.option("--flagged", is_flag=True, help="Only those intake asks staff to look at.")
@click.option(
    "--from",
    "sender",
    metavar="ADDR",
    help="Only from this address, @domain, or part of an address or name.",
)
@click.option("--since", type=DATE, metavar="YYYY-MM-DD", help="Received on or after this day.")
@click.option("--until", type=DATE, metavar="YYYY-MM-DD", help="Received on or before this day.")
@click.option("--overdue", is_flag=True, help="Only undecided submissions past their deadline.")
@click.option(
    "--search",
    metavar="TEXT",
    help="Words in the subject, sender, body or article (Chinese works; all must match).",
)
@click.option(
    "--sort",
    type=click.Choice(queue_store.SORTS),
    default="-received",
    show_default=True,
    help='Order; a leading "-" reverses it.',
)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@pass_ctx
def list_(
    ctx: Context,
    statuses: tuple[str, ...],
    all_: bool,
    copyright_: tuple[str, ...],
    assignee: str | None,
    mine: bool,
    as_: str | None,
    flagged: bool,
    sender: str | None,
    since: datetime | None,
    until: datetime | None,
    overdue: bool,
    search: str | None,
    sort: str,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """The open queue, newest first, filtered.

    The open queue is what still needs the desk: received, in review, needs info and
    accepted. --all lists every status; --status picks some. A flagged submission's subject starts
    with ⚑ (intake asks staff to look: see `intake show`, then `intake flag clear`).
    """
    app = ctx.app
    app.ready()
    if mine and assignee is not None:
        raise UsageError("give --mine or --assignee, not both")
    if all_ and statuses:
        raise UsageError("give --all or --status, not both")
    if mine:
        assignee = actor_name(as_)
    default_queue = not statuses and not all_
    filters = queue_store.QueueFilter(
        statuses=tuple(QUEUE_STATUSES) if default_queue else statuses,
        copyright=copyright_,
        assignee=("" if assignee == "-" else assignee) if assignee is not None else None,
        sender=sender or "",
        since=day_start(since) if since else None,
        until=day_start(until) + timedelta(days=1) if until else None,
        overdue=overdue,
        search=search or "",
        flagged=flagged,
    )
    now = app.clock()
    with store.reading(app.engine) as conn:
        rows = queue_store.list_queue(conn, filters, now=now, sort=sort, limit=limit, offset=offset)
    data = [submission_summary(r, r.attachment_count, now) for r in rows]
    if as_json:
        emit_json(data)
        return
    width = shutil.get_terminal_size().columns if is_terminal() else None
    emit_parts(queue_table(data, width))
    if not data and default_queue:
        click.echo("(nothing open; --all shows every status)", err=True)
    if len(data) == limit:
        click.echo(f"({limit} shown; --offset {offset + limit} for the next page)", err=True)


#: The columns of ``intake list``, and the order in which they give way on a narrow terminal
#: (id, status, subject and sender always stay).
LIST_COLUMNS = (
    "id",
    "status",
    "copyright",
    "received",
    "due",
    "assignee",
    "att",
    "from",
    "subject",
)
#: "brief" drops the year from the dates.
DROPPED_FIRST = ("copyright", "att", "due", "brief", "assignee", "received")
#: What the free-text columns keep at least before another column is dropped.
SUBJECT_MIN, FROM_MIN = 24, 12
FLAG = "⚑ "


def queue_table(data: Sequence[dict[str, Any]], width: int | None) -> Any:
    """The listing as a table that fits ``width`` columns (None: piped, every column whole).

    The id, the status, the sender and the subject are what an editor acts on: the others are
    dropped or shortened (the year leaves the dates), least needed first, until the subject
    keeps at least SUBJECT_MIN cells and the sender FROM_MIN.
    """

    def cells(d: dict[str, Any], brief: bool) -> dict[str, str]:
        return {
            "id": str(d["id"]),
            "status": d["status"],
            "copyright": d["copyright_status"],
            "received": local(d["received_at"], short=brief),
            "due": local(d["decision_due"], short=brief)[: 5 if brief else 10]
            + (" !" if d["overdue"] else ""),
            "assignee": d["assignee"] or "-",
            "att": str(d["attachment_count"]),
            "from": short(d["sender_name"] or d["sender"], 24),
            "subject": (FLAG if d.get("flagged") else "") + short(d["subject"], 60),
        }

    columns = list(LIST_COLUMNS)
    brief = False
    rows = [cells(d, brief) for d in data]
    if width is not None and rows:
        fixed_needed = SUBJECT_MIN + FROM_MIN

        def used() -> int:
            fixed = [c for c in columns if c not in ("from", "subject")]
            widths = [max(display_width(c), *(display_width(r[c]) for r in rows)) for c in fixed]
            return sum(widths) + 2 * (len(columns) - 1) + fixed_needed

        for step in DROPPED_FIRST:
            if used() <= width:
                break
            if step == "brief":
                brief = True
                rows = [cells(d, brief) for d in data]
            else:
                columns.remove(step)
        # The sender and the subject share what is left, cut here so that the table never
        # has to squeeze a column away itself (rich would take the id's or the sender's).
        room = max(width - (used() - fixed_needed) - 2, 2 * FROM_MIN)
        sender = min(max(display_width(r["from"]) for r in rows), max(FROM_MIN, room // 3))
        for r in rows:
            r["from"] = fit(r["from"], sender)
            r["subject"] = fit(r["subject"], room - sender)
    return grid(columns, ([r[c] for c in columns] for r in rows))


# --------------------------------------------------------------------------- show


@cli.command()
@click.argument("submission_id", type=int)
@click.option(
    "--raw",
    is_flag=True,
    help="The original message as received: exact bytes when piped, paged on a terminal.",
)
@click.option(
    "--reveal", is_flag=True, help="Show the author's phone, ID and account numbers in full."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@pass_ctx
def show(ctx: Context, submission_id: int, raw: bool, reveal: bool, as_json: bool) -> None:
    """One submission, all of it.

    Header, flags, author, cover note, article, attachments with photo facts and captions,
    the conversation with each message's own text, consent and history."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with store.reading(app.engine) as conn:
        raw_path = queue_store.submission(conn, submission_id).raw_path if raw else ""
        data = {} if raw else submission_detail(conn, submission_id, now, reveal=reveal)
    if raw:
        # Written after the transaction: a slow reader (a pager) must not hold the database.
        if not raw_path:
            raise NotFound(f"submission {submission_id}: the original message was not stored")
        payload = app.blobs.get(raw_path)
        if is_terminal():
            # On a terminal the mail's bytes are shown, never obeyed: a header may hide escape
            # sequences. Piped (`> file.eml`, `| formail`) they are exact.
            page_text(shown(payload.decode("utf-8", "replace"), multiline=True))
            return
        sys.stdout.flush()
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    if as_json:
        emit_json(data)
        return
    page_parts(show_parts(data))


def show_parts(data: dict[str, Any], *, wide: bool = True) -> list[Part]:
    """What ``intake show`` prints (and ``intake triage`` draws) from the ``show --json`` data.

    ``wide`` False leaves out what a side pane has no room for (the consent evidence's
    message ids; the letters' full text beyond the staff's own).
    """
    sender = data["sender"]
    if data["sender_name"]:
        sender = f"{data['sender_name']} <{sender}>"
    due = local(data["decision_due"])
    if data["overdue"]:
        due += "  OVERDUE"
    fields: dict[str, object] = {
        "submission": f"#{data['id']}  {data['status']}",
        "copyright": data["copyright_status"]
        + (
            f" (asked {local(data['copyright_requested_at'])})"
            if data["copyright_requested_at"]
            else ""
        ),
        "from": sender,
        "subject": data["subject"],
        "received": local(data["received_at"]),
        "decide by": due,
        "assignee": data["assignee"] or "-",
        "length": f"{data['char_count']:,} 字 / {data['word_count']:,} words"
        + (f" (from {data['article_source']})" if data["article_source"] else ""),
    }
    if data["published_url"]:
        fields["published"] = data["published_url"]
    if data["duplicate_of"]:
        similarity = f" (similarity {data['similarity']:.2f})" if data["similarity"] else ""
        fields["duplicate of"] = f"#{data['duplicate_of']}{similarity}"
    pending = (data.get("consent") or {}).get("pending")
    if pending:
        fields["consent pending"] = pending_line(data["id"], pending)
    if data["flagged"]:
        fields["flagged"] = f"{data['flagged']}  (intake flag clear {data['id']})"
    width = max(len(k) for k in fields)
    parts: list[Part] = [f"{k.ljust(width)}  {v}" for k, v in fields.items()]
    author = author_lines(data.get("author") or {})
    if author:
        parts += ["", Heading("author"), *author]
    if data.get("cover_note"):
        parts += ["", Heading("cover note"), Block(data["cover_note"])]
    parts += ["", Heading("article"), Block(data["text"] or "(no article text)")]
    if data["attachments"]:
        parts += ["", Heading(f"attachments (intake attachment {data['id']} N)")]
        parts += attachment_parts(data["attachments"])
    mail = _conversation(data)
    if mail:
        parts += ["", Heading("conversation")]
        if wide:
            parts.append(grid(["at", "", "who", "what", "subject"], mail))
        else:  # a side pane: who wrote each is in the headings below
            parts.append(
                grid(["at", "", "what", "subject"], ([r[0][5:], r[1], *r[3:]] for r in mail))
            )
        parts += _said(data, wide)
    for title, columns, rows in consent_sections(data, wide=wide):
        parts += ["", Heading(title), grid(columns, rows)]
    if data["claims"]:
        parts += ["", Heading("copyright claims naming this article")]
        parts.append(
            grid(
                ["claim", "status", "claimant", "received"],
                (
                    [f"#{c['id']}", c["status"], c["claimant"], local(c["received_at"])]
                    for c in data["claims"]
                ),
            )
        )
    parts += ["", Heading("history")]
    parts.append(
        grid(
            ["at", "actor", "action", "status", "note"],
            (
                [
                    local(h["at"]),
                    h["actor"],
                    h["action"],
                    f"{h['from']} -> {h['to']}".strip() if h["from"] or h["to"] else "",
                    h["note"],
                ]
                for h in data["history"]
            ),
        )
    )
    return parts


#: The labels of the ``author`` fields of ``show --json`` (masked unless revealed).
AUTHOR_LABELS = {
    "name": "name", "pen_name": "pen name", "phone": "phone", "address": "address",
    "postcode": "postcode", "organisation": "organisation", "id_number": "ID number",
    "bank": "bank", "account": "account",
}  # fmt: skip


def author_lines(author: dict[str, str]) -> list[Part]:
    """The contributor's details, one line each (as ``show --json`` gives them: masked)."""
    known = {AUTHOR_LABELS[k]: v for k, v in author.items() if v and k in AUTHOR_LABELS}
    if not known:
        return []
    width = max(len(k) for k in known)
    return [f"{k.ljust(width)}  {v}" for k, v in known.items()]


def attachment_parts(attachments: Sequence[dict[str, Any]]) -> list[Part]:
    """The files, numbered as ``intake attachment ID N`` takes them, with what is known of
    each (a document's text length, a photo's size, time and camera), then the captions the
    contributor wrote for the photos."""
    rows = [
        [str(n), a["filename"], _size(a["size"]), _facts(a)]
        for n, a in enumerate(attachments, start=1)
    ]
    parts: list[Part] = [grid(["n", "file", "size", "facts"], rows)]
    captions = [
        f"{n}  {a['filename']}: {a['meta']['caption']}"
        for n, a in enumerate(attachments, start=1)
        if isinstance(a.get("meta"), dict) and a["meta"].get("caption")
    ]
    if captions:
        parts += ["captions:", *(f"  {line}" for line in captions)]
    return parts


def _facts(attachment: dict[str, Any]) -> str:
    meta = attachment.get("meta") or {}
    if attachment["extract_error"]:
        return str(attachment["extract_error"])
    if attachment["kind"] == "image" or "width" in meta:
        facts = [str(meta.get("format", "image")).upper()]
        if meta.get("width") and meta.get("height"):
            facts.append(f"{meta['width']}×{meta['height']}")
        if meta.get("taken_at"):
            facts.append(f"taken {str(meta['taken_at'])[:16].replace('T', ' ')}")
        if meta.get("camera"):
            facts.append(str(meta["camera"]))
        return ", ".join(facts)
    if attachment["kind"] == "archive" and isinstance(meta.get("members"), list):
        return f"archive of {len(meta['members'])} files"
    chars = attachment["text_chars"]
    if chars:
        return f"{chars:,} chars" + (" (encrypted)" if attachment["encrypted"] else "")
    return "encrypted" if attachment["encrypted"] else attachment["content_type"]


def consent_sections(
    data: dict[str, Any], *, wide: bool = True
) -> list[tuple[str, list[str], list[list[object]]]]:
    """The versions and consent sections of ``intake show`` as (title, columns, rows), from the
    ``show --json`` data."""
    sections: list[tuple[str, list[str], list[list[object]]]] = []
    if len(data.get("versions", [])) > 1:
        rows: list[list[object]] = [
            [v["number"], _minute(v["created_at"]), v["message_pk"], v["char_count"]]
            for v in data["versions"]
        ]
        sections.append(("versions", ["version", "at", "message", "chars"], rows))
    evidence = data.get("consent", {}).get("evidence", [])
    if evidence:
        if wide:
            rows = [
                [_minute(e["at"]), e["decision"], e.get("state") or "-", e["actor"], e["phrase"],
                 e.get("authenticity") or "-", e["dkim"] or "-", e["terms_version"],
                 short(e["message_id"] or e["note"], 40)]
                for e in evidence
            ]  # fmt: skip
            columns = [
                "at", "decision", "state", "by", "phrase", "bound", "dkim", "terms",
                "message / note",
            ]  # fmt: skip
        else:
            rows = [
                [_minute(e["at"]), e["decision"], e.get("state") or "-", e["actor"], e["phrase"]]
                for e in evidence
            ]
            columns = ["at", "decision", "state", "by", "phrase"]
        sections.append(("consent", columns, rows))
    return sections


def _minute(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def _conversation(data: dict[str, Any]) -> list[list[str]]:
    """Their messages and our replies, in the order they happened."""
    rows: list[tuple[str, list[str]]] = []
    for m in data["conversation"]:
        what = m["kind"] + (" (original)" if m["original"] else "")
        rows.append((m["received_at"] or "", ["in", m["sender"], what, m["subject"]]))
    for o in data["outbox"]:
        what = f"{o['template']} [{o['state']}{'' if o['automatic'] else ', staff'}]"
        at = o["sent_at"] or o["created_at"] or ""
        rows.append((at, ["out", o["to"], what, o["subject"]]))
    rows.sort(key=lambda row: row[0])
    return [[local(at or None), *rest[:3], short(rest[3], 50)] for at, rest in rows]


def _said(data: dict[str, Any], wide: bool) -> list[Part]:
    """Each later message's own words and the desk's own letters, oldest first: what a reply
    said is read here, not in a history note. Automatic letters (acknowledgments, requests)
    are in the table above; their text only in the wide view."""
    said: list[tuple[str, list[Part]]] = []
    for m in data["conversation"]:
        if m["original"]:
            continue
        title = f"{local(m['received_at'])}  {m['kind']} from {m['sender']}"
        said.append((m["received_at"] or "", [Heading(title), Block(m["text"] or "(no new text)")]))
    for o in data["outbox"]:
        if o["automatic"] and not wide:
            continue
        at = o["sent_at"] or o["created_at"] or ""
        title = f"{local(at or None)}  {o['template']} to {o['to']} [{o['state']}]"
        said.append((at, [Heading(title), Block(o.get("text") or "(no text)")]))
    said.sort(key=lambda item: item[0])
    parts: list[Part] = []
    for _at, block in said:
        parts += ["", *block]
    return parts


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


# --------------------------------------------------------------------------- attachment


@cli.command()
@click.argument("submission_id", type=int)
@click.argument("number", type=click.IntRange(min=1), metavar="N")
@click.option(
    "--save",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="Write the file here (a folder: under its own safe name).",
)
@click.option("--open", "open_", is_flag=True, help="Open it with the desktop's viewer.")
@click.option("--force", is_flag=True, help="Replace a file already at PATH.")
@pass_ctx
def attachment(
    ctx: Context, submission_id: int, number: int, save: Path | None, open_: bool, force: bool
) -> None:
    """Save, open or pipe file N of a submission.

    N as `intake show` numbers the attachments.

    \b
      intake attachment 12 2 --save ~/photos/     under its safe name
      intake attachment 12 2 --open               xdg-open (or $INTAKE_OPENER)
      intake attachment 12 1 > article.docx
    """
    if save is not None and open_:
        raise UsageError("give --save or --open, not both")
    app = ctx.app
    app.ready()
    with store.reading(app.engine) as conn:
        row = queue_store.attachment_file(conn, submission_id, number)
    if not row.blob_path:
        raise NotFound(f"submission {submission_id}: attachment {number} was not stored")
    payload = app.blobs.get(row.blob_path)
    if save is not None:
        target = save_attachment(payload, row.safe_name, save, force=force)
        click.echo(f"#{submission_id} attachment {number} saved to {shown(str(target))}")
        return
    if open_:
        target = open_attachment(payload, row.safe_name)
        click.echo(f"#{submission_id} attachment {number} opened ({shown(str(target))})")
        return
    if is_terminal():
        raise UsageError(
            f"attachment {number} is {shown(row.filename)} ({_size(row.size)}): "
            "use --save PATH or --open, or redirect the output to a file"
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(payload)
    sys.stdout.buffer.flush()


def save_attachment(payload: bytes, safe_name: str, where: Path, *, force: bool = False) -> Path:
    """Write an attachment to ``where`` (a folder: under its safe name); never over a file
    unless ``force``. The name is the one intake made safe, not the sender's."""
    where = where.expanduser()
    target = where / safe_name if where.is_dir() or str(where).endswith(os.sep) else where
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb" if force else "xb") as fh:
            fh.write(payload)
    except FileExistsError:
        raise UsageError(f"{target} exists: choose another PATH or add --force") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    return target


def open_attachment(payload: bytes, safe_name: str) -> Path:
    """Hand the file to the desktop's viewer (``$INTAKE_OPENER``, else xdg-open, else open):
    written first to a private folder of its own, under its safe name."""
    folder = Path(tempfile.mkdtemp(prefix="intake-"))  # mode 0700: the file stays private
    target = folder / safe_name
    target.write_bytes(payload)
    opener = os.environ.get("INTAKE_OPENER") or shutil.which("xdg-open") or shutil.which("open")
    if not opener:
        raise UsageError(f"no viewer to open it with (install xdg-open); it is at {target}")
    # Through a shell that starts the viewer in the background and returns at once: the viewer
    # outlives the command, is nobody's child, and must not scribble on the terminal (or on
    # intake triage's screen). $0 is split on purpose: INTAKE_OPENER may carry arguments.
    launcher = '$0 "$1" </dev/null >/dev/null 2>&1 &'
    try:
        subprocess.run(["/bin/sh", "-c", launcher, opener, str(target)], check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        raise UsageError(f"cannot run {opener}: {exc}; the file is {target}") from None
    return target


# --------------------------------------------------------------------------- stats

BLOCKS = " ▏▎▍▌▋▊▉█"
SPARKS = "▁▂▃▄▅▆▇█"


def bar(value: int, top: int, width: int = 40) -> str:
    """A horizontal bar of unicode blocks, ``width`` cells for ``top``, eighths in between."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


def sparkline(values: Sequence[int]) -> str:
    """One cell per value, eight heights; a day with none is a space (zeros stand out)."""
    top = max(values, default=0)
    if top <= 0:
        return "·" * len(values)
    return "".join(" " if v <= 0 else SPARKS[min(7, max(0, round(v / top * 7)))] for v in values)


def stats_data(stats: queue_store.QueueStats) -> dict[str, Any]:
    """The fields of ``intake stats --json`` (a contract: see docs/cli.md)."""
    rate = acceptance_rate(stats.by_status)
    median = stats.median_decision_seconds
    return {
        "since": _iso(stats.since),
        "total": stats.total,
        "by_status": stats.by_status,
        "by_copyright_status": stats.by_copyright,
        "per_day": [{"date": d.isoformat(), "count": n} for d, n in stats.per_day],
        "decided": stats.decided,
        "median_days_to_decision": round(median / 86400, 2) if median is not None else None,
        "overdue": stats.overdue,
        "acceptance_rate": round(rate, 4) if rate is not None else None,
        "open_claims": stats.open_claims,
    }


@cli.command()
@click.option(
    "--since",
    type=DATE,
    metavar="YYYY-MM-DD",
    help="Count only submissions received on or after this day.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@pass_ctx
def stats(ctx: Context, since: datetime | None, as_json: bool) -> None:
    """The summary, then counts and the last 30 days on one line."""
    app = ctx.app
    app.ready()
    now = app.clock()
    offset = now.astimezone().utcoffset() or timedelta(0)
    with store.reading(app.engine) as conn:
        result = queue_store.queue_stats(
            conn, now=now, since=day_start(since) if since else None, utc_offset=offset
        )
    data = stats_data(result)
    if as_json:
        emit_json(data)
        return
    emit_parts(*stats_parts(data, since))


def stats_parts(data: dict[str, Any], since: datetime | None) -> list[Part]:
    title = f"since {since:%Y-%m-%d}" if since else "all time"
    median = data["median_days_to_decision"]
    rate = data["acceptance_rate"]
    summary = [
        ["submissions", f"{data['total']:,}"],
        ["open (in the queue)", f"{sum(data['by_status'].get(s, 0) for s in QUEUE_STATUSES):,}"],
        ["overdue", f"{data['overdue']:,}"],
        ["decided", f"{data['decided']:,}"],
        ["median time to decision", f"{median:.1f} days" if median is not None else "-"],
        ["acceptance rate", f"{rate:.0%}" if rate is not None else "-"],
    ]
    if data["open_claims"] is not None:
        summary.append(["open claims", f"{data['open_claims']:,}"])
    counts = [d["count"] for d in data["per_day"]]
    parts: list[Part] = [grid(["", title], summary), ""]
    if counts:
        first, last = data["per_day"][0]["date"], data["per_day"][-1]["date"]
        top = max(counts)
        busiest = next(d["date"] for d in data["per_day"] if d["count"] == top)
        parts += [
            f"last {len(counts)} days  {first[5:]} {sparkline(counts)} {last[5:]}",
            f"  {sum(counts):,} received, {top:,} on the busiest day"
            + (f" ({busiest})" if top else "")
            + f", {sum(1 for c in counts if c == 0)} days with none",
            "",
        ]
    by_status = " ".join(f"{k} {v:,}" for k, v in data["by_status"].items() if v)
    by_copyright = " ".join(f"{k} {v:,}" for k, v in sorted(data["by_copyright_status"].items()))
    parts += [f"status     {by_status or '-'}", f"copyright  {by_copyright or '-'}"]
    return parts
