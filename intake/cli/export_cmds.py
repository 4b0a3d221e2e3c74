"""CLI command ``intake export``: one submission to a folder, or the fee ledger as CSV/JSON."""

from __future__ import annotations

import os
import sys
import zoneinfo
from datetime import datetime, timedelta
from pathlib import Path

import click

from intake.cli import Context, cli, pass_ctx
from intake.cli.output import echo_text
from intake.cli.views import DATE, STATUSES
from intake.core.errors import UsageError


@cli.command("export")
@click.argument("submission_id", type=int, required=False, metavar="[ID]")
@click.option(
    "--to",
    "directory",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="With ID: the folder to write article.txt, the attachments and metadata.json to.",
)
@click.option("--force", is_flag=True, help="With ID: write into DIR even if it is not empty.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Ledger: only this status (repeat for several; default: all).",
)
@click.option(
    "--since", type=DATE, metavar="YYYY-MM-DD", help="Ledger: received on or after this day."
)
@click.option(
    "--until", type=DATE, metavar="YYYY-MM-DD", help="Ledger: received on or before this day."
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "json"]),
    help="Ledger: CSV (UTF-8 with BOM, for Excel; the default) or JSON.",
)
@click.option(
    "-o",
    "--output",
    metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Ledger: write to FILE instead of standard output.",
)
@pass_ctx
def export(
    ctx: Context,
    submission_id: int | None,
    directory: Path | None,
    force: bool,
    statuses: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    format_: str | None,
    output: Path | None,
) -> None:
    """Export submission ID to a folder, or (without ID) the ledger for fee accounting.

    \b
    intake export 42 --to ~/稿件/42
    intake export --status accepted --since 2026-11-01 -o 2026-11.csv
    """
    ledger_options = bool(statuses or since or until or format_ or output)
    if submission_id is not None:
        if directory is None:
            raise UsageError("export ID needs --to DIR")
        if ledger_options:
            raise UsageError("--status, --since, --until, --format and --output are for the "
                             "ledger (export without ID)")  # fmt: skip
        _export_one(ctx, submission_id, directory, force)
    else:
        if directory is not None or force:
            raise UsageError("--to and --force need a submission ID (export ID --to DIR)")
        _export_ledger(ctx, statuses, since, until, format_ or "csv", output)


def _export_one(ctx: Context, submission_id: int, directory: Path, force: bool) -> None:
    app = ctx.app
    app.ready()
    from intake.submissions import exporting

    done = exporting.export_submission(
        app.sessions, app.blobs, submission_id, directory, now=app.clock(), force=force
    )
    count = len(done.files)
    echo_text(
        f"#{submission_id} exported to {done.directory}: {exporting.ARTICLE_FILE}, "
        f"{exporting.METADATA_FILE} and {count} attachment{'' if count == 1 else 's'}"
    )


def _export_ledger(
    ctx: Context,
    statuses: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
    format_: str,
    output: Path | None,
) -> None:
    app = ctx.app
    app.ready()
    from intake.submissions import exporting

    # The desk's days and times ([replies] timezone), the ones the accountant pays by.
    zone = zoneinfo.ZoneInfo(app.settings.replies.timezone)
    rows = exporting.ledger(
        app.sessions,
        statuses=statuses,
        since=_day_in(since, zone) if since else None,
        until=_day_in(until, zone) + timedelta(days=1) if until else None,
    )
    fees = app.settings.fees
    if format_ == "csv":
        data = exporting.ledger_csv(rows, fees, zone)
    else:
        data = exporting.ledger_json(rows, fees, zone)
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        # The payee's phone, ID and bank numbers are in full: a new file is the editor's alone
        # (0600), whatever their umask. An existing file keeps the mode someone gave it.
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(data)
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    click.echo(f"{len(rows)} submission{'' if len(rows) == 1 else 's'} written to {output}")


def _day_in(day: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """Midnight of ``day`` in ``zone``."""
    return datetime(day.year, day.month, day.day, tzinfo=zone)
