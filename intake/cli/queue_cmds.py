"""CLI commands for reading the queue: list (the open queue, filters, full-text search) and
stats."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import click

from intake import store
from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import (
    Part,
    display_width,
    emit_json,
    emit_parts,
    fit,
    grid,
    is_terminal,
    short,
)

# No ORM here (models, sessions): list, show and stats read Core tables through
from intake.cli.views import (
    COPYRIGHT_STATUSES,
    DATE,
    STATUSES,
    _iso,
    day_start,
    local,
    submission_summary,
)
from intake.core.errors import UsageError
from intake.store import queue as queue_store
from intake.workflow.submission import (
    QUEUE_STATUSES,
    acceptance_rate,
)

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
