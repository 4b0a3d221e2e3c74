"""CLI commands for reading the queue: list (filters, full-text search), show and stats."""

from __future__ import annotations

import io
import shutil
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import click
from sqlalchemy import Connection

from intake import store
from intake.cli import Context, cli, pass_ctx
from intake.cli.output import display_width, emit_json, iso, plain_table, short
from intake.core.clock import as_utc
from intake.core.errors import NotFound
from intake.store import queue as queue_store
from intake.submissions import authors
from intake.submissions.covernote import cover_note
from intake.text.display import visible
from intake.workflow.submission import CopyrightStatus, Status, acceptance_rate, is_overdue

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
            "flagged": submission.flagged,
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
    return {
        "status": submission.copyright_status,
        "terms_version": submission.terms_version,
        "requested_at": _iso(submission.copyright_requested_at),
        "evidence": [
            {
                "id": c.id,
                "decision": c.decision,
                "at": _iso(c.at),
                "actor": c.actor,
                "note": c.note,
                "terms_version": c.terms_version,
                "phrase": c.phrase,
                "message_pk": c.message_pk,
                "message_id": c.message_id,
                "in_reply_to": c.in_reply_to,
                "sender": c.sender,
                "sha256": c.sha256,
                "raw_path": c.raw_path,
                "auth_results": c.auth_results,
                "dkim": c.dkim,
            }
            for c in queue_store.consents_for(conn, submission_id)
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


def local(value: datetime | str | None, *, seconds: bool = False) -> str:
    """A time for people: this machine's time zone, to the minute."""
    if value is None:
        return "-"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).astimezone().strftime("%Y-%m-%d %H:%M" + (":%S" if seconds else ""))


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
    help="Only this status (repeat for several).",
)
@click.option(
    "--copyright",
    "copyright_",
    multiple=True,
    type=click.Choice(COPYRIGHT_STATUSES),
    help="Only this copyright status (repeat for several).",
)
@click.option("--assignee", metavar="NAME", help='Only assigned to NAME ("-": unassigned).')
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
    copyright_: tuple[str, ...],
    assignee: str | None,
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
    """Submissions, newest first, filtered."""
    app = ctx.app
    app.ready()
    filters = queue_store.QueueFilter(
        statuses=statuses,
        copyright=copyright_,
        assignee=("" if assignee == "-" else assignee) if assignee is not None else None,
        sender=sender or "",
        since=day_start(since) if since else None,
        until=day_start(until) + timedelta(days=1) if until else None,
        overdue=overdue,
        search=search or "",
    )
    now = app.clock()
    with store.reading(app.engine) as conn:
        rows = queue_store.list_queue(conn, filters, now=now, sort=sort, limit=limit, offset=offset)
    data = [submission_summary(r, r.attachment_count, now) for r in rows]
    if as_json:
        emit_json(data)
        return
    _print(
        _table(
            ["id", "status", "copyright", "received", "due", "assignee", "att", "from", "subject"],
            (
                [
                    d["id"],
                    d["status"],
                    d["copyright_status"],
                    local(d["received_at"]),
                    local(d["decision_due"])[:10] + (" !" if d["overdue"] else ""),
                    d["assignee"] or "-",
                    d["attachment_count"],
                    short(d["sender_name"] or d["sender"], 24),
                    short(d["subject"], 40),
                ]
                for d in data
            ),
        )
    )
    if len(data) == limit:
        click.echo(f"({limit} shown; --offset {offset + limit} for the next page)", err=True)


# --------------------------------------------------------------------------- show


@cli.command()
@click.argument("submission_id", type=int)
@click.option("--raw", is_flag=True, help="Print the original message bytes, exactly as received.")
@click.option(
    "--reveal", is_flag=True, help="Show the author's phone, ID and account numbers in full."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (see docs/cli.md).")
@pass_ctx
def show(ctx: Context, submission_id: int, raw: bool, reveal: bool, as_json: bool) -> None:
    """One submission: header, article, attachments, conversation, replies and history."""
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
        data_raw = app.blobs.get(raw_path)
        if _terminal():
            # On a terminal the bytes would act (escape sequences in a hostile message):
            # show them escaped; redirected or piped, they are written exactly.
            text = data_raw.decode("utf-8", errors="backslashreplace")
            click.echo(visible(text, multiline=True))
            return
        sys.stdout.flush()
        sys.stdout.buffer.write(data_raw)
        sys.stdout.buffer.flush()
        return
    if as_json:
        emit_json(data)
        return
    _page(_render_show(data))


def _render_show(data: dict[str, Any]) -> list[Part]:
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
    if data["flagged"]:
        fields["flagged"] = data["flagged"]
    width = max(len(k) for k in fields)
    parts: list[Part] = ["\n".join(f"{k.ljust(width)}  {_flat(v)}" for k, v in fields.items())]
    author = _author_lines(data["author"])
    if author:
        parts += ["", Heading("author"), author]
    if data["cover_note"]:
        parts += ["", Heading("cover note"), data["cover_note"]]
    parts += ["", Heading("article"), data["text"] or "(no article text)"]
    if data["attachments"]:
        parts += ["", Heading("attachments")]
        parts.append(
            _table(
                ["file", "type", "size", "text"],
                (
                    [a["filename"], a["content_type"], _size(a["size"]), _extracted(a)]
                    for a in data["attachments"]
                ),
            )
        )
    mail = _conversation(data)
    if mail:
        parts += ["", Heading("conversation")]
        parts.append(_table(["at", "", "who", "what", "subject"], mail))
    for title, columns, rows in consent_sections(data):
        parts += ["", Heading(title), _table(columns, rows)]
    if data["claims"]:
        parts += ["", Heading("copyright claims naming this article")]
        parts.append(
            _table(
                ["claim", "status", "claimant", "received"],
                (
                    [f"#{c['id']}", c["status"], c["claimant"], local(c["received_at"])]
                    for c in data["claims"]
                ),
            )
        )
    parts += ["", Heading("history")]
    parts.append(
        _table(
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


_AUTHOR_LABELS = {
    "name": "name", "pen_name": "pen name", "phone": "phone", "address": "address",
    "postcode": "postcode", "organisation": "organisation", "id_number": "ID number",
    "bank": "bank", "account": "account",
}  # fmt: skip


def _author_lines(author: dict[str, str]) -> str:
    shown = {_AUTHOR_LABELS[k]: v for k, v in author.items() if v and k in _AUTHOR_LABELS}
    if not shown:
        return ""
    width = max(len(k) for k in shown)
    return "\n".join(f"{k.ljust(width)}  {_flat(v)}" for k, v in shown.items())


def consent_sections(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[object]]]]:
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
        rows = [
            [_minute(e["at"]), e["decision"], e["actor"], e["phrase"], e["dkim"] or "-",
             e["terms_version"], short(e["message_id"] or e["note"], 40)]
            for e in evidence
        ]  # fmt: skip
        columns = ["at", "decision", "by", "phrase", "dkim", "terms", "message / note"]
        sections.append(("consent", columns, rows))
    return sections


def _minute(value: str | None) -> str:
    return (value or "")[:16].replace("T", " ")


def _extracted(attachment: dict[str, Any]) -> str:
    if attachment["extract_error"]:
        return str(attachment["extract_error"])
    chars = attachment["text_chars"]
    return f"{chars:,} chars" if chars else "-"


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


def _size(size: int) -> str:
    if size < 1024:
        return f"{size:,} B"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"


def _flat(value: object) -> str:
    return visible(value)


# --------------------------------------------------------------------------- stats

BLOCKS = " ▏▎▍▌▋▊▉█"


def bar(value: int, top: int, width: int = 40) -> str:
    """A horizontal bar of unicode blocks, ``width`` cells for ``top``, eighths in between."""
    if top <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (BLOCKS[rest] if rest else "")


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
    """Counts by status and copyright, the last 30 days, time to decision, overdue."""
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
    parts: list[Part] = []
    title = f"since {since:%Y-%m-%d}" if since else "all time"
    median = data["median_days_to_decision"]
    rate = data["acceptance_rate"]
    summary = [
        ["submissions", f"{data['total']:,}"],
        ["overdue", f"{data['overdue']:,}"],
        ["decided", f"{data['decided']:,}"],
        ["median time to decision", f"{median:.1f} days" if median is not None else "-"],
        ["acceptance rate", f"{rate:.0%}" if rate is not None else "-"],
    ]
    if data["open_claims"] is not None:
        summary.append(["open claims", f"{data['open_claims']:,}"])
    top = max((d["count"] for d in data["per_day"]), default=0)
    by_copyright = sorted(data["by_copyright_status"].items())
    parts += [
        _table(["", title], summary),
        "",
        _table(["status", "count"], ([k, f"{v:,}"] for k, v in data["by_status"].items())),
        "",
        _table(["copyright", "count"], ([k, f"{v:,}"] for k, v in by_copyright)),
        "",
        _table(
            ["day", "received", ""],
            ([d["date"], d["count"], bar(d["count"], top)] for d in data["per_day"]),
        ),
    ]
    _print(*parts)


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class Grid:
    """A table to draw: with rich on a terminal, as aligned plain text when piped."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Heading:
    title: str


#: What a command prints, in order: blocks of text, headings and tables.
Part = str | Heading | Grid


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> Grid:
    return Grid(
        tuple(columns), tuple(tuple(_flat(v) if v is not None else "-" for v in r) for r in rows)
    )


def _terminal() -> bool:
    return sys.stdout.isatty()


def _print(*parts: Part) -> None:
    if not _terminal():
        # Piped: plain text, never wrapped or cut, and no rich to import (start-up time).
        click.echo("\n".join(_plain(part) for part in parts))
        return
    out = _console()
    for part in parts:
        out.print(_rich(part), overflow="ellipsis", crop=True)


def _page(parts: list[Part]) -> None:
    """Print, through the pager when on a terminal and taller than it."""
    if not _terminal():
        _print(*parts)
        return
    buffer = io.StringIO()
    capture = _console(buffer)
    for part in parts:
        capture.print(_rich(part))
    text = buffer.getvalue()
    if text.count("\n") > shutil.get_terminal_size().lines - 2:
        click.echo_via_pager(text)
    else:
        click.echo(text, nl=False)


def _heading_text(title: str) -> str:
    return f"── {title} " + "─" * max(4, 60 - len(title))


def _plain(part: Part) -> str:
    if isinstance(part, str):
        return visible(part, multiline=True)
    if isinstance(part, Heading):
        return _heading_text(visible(part.title))
    if not part.rows:
        return "(none)"
    return plain_table(part.columns, part.rows)


#: Columns that give up width when a table is wider than the terminal.
SHRINKABLE = frozenset({"from", "subject", "note", "who", "what", "file", "type", "text", ""})


def _rich(part: Part) -> Any:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Text, not str: subjects and names are the contributors', never rich markup.
    if isinstance(part, str):
        return Text(visible(part, multiline=True))
    if isinstance(part, Heading):
        return Text(_heading_text(visible(part.title)), style="bold")
    if not part.rows:
        return Text("(none)")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    rows = [part.columns, *part.rows]
    for i, column in enumerate(part.columns):
        # One line per row: on a narrow terminal the free-text columns are shortened (…);
        # ids, statuses and dates keep their width.
        fixed = column not in SHRINKABLE
        width = max(display_width(row[i]) for row in rows) if fixed else None
        table.add_column(column, no_wrap=True, overflow="ellipsis", min_width=width)
    for row in part.rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _console(file: io.StringIO | None = None) -> Any:
    from rich.console import Console

    # rich honours NO_COLOR. Rendering for the pager: as the terminal would show it.
    if file is None:
        return Console(highlight=False, soft_wrap=False)
    width = shutil.get_terminal_size().columns
    return Console(file=file, highlight=False, soft_wrap=False, force_terminal=True, width=width)
