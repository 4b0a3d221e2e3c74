"""CLI commands for replies: send the outbox, list it, retry a failed reply, and the
suppression list (suppressions, suppress, unsuppress)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import echo_text, emit_json, emit_table, iso, short
from intake.core import credentials
from intake.core.clock import as_utc
from intake.store import outbox as outbox_store

# The outbox use case (templates, SMTP) loads for the commands that change something.
if TYPE_CHECKING:
    from intake.store.models import Outbox, Suppression


def outbox_row(row: Outbox) -> dict[str, Any]:
    """The fields of one row of ``intake outbox --json`` (a contract: see docs/cli.md)."""
    return {
        "id": row.id,
        "submission_id": row.submission_id,
        "claim_id": row.claim_id,
        "to": row.to_addr,
        "subject": row.subject,
        "template": row.template,
        "state": row.state,
        "automatic": row.automatic,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "message_id": row.message_id,
        "created_at": iso(as_utc(row.created_at)),
        "next_attempt_at": iso(as_utc(row.next_attempt_at)),
        "sent_at": iso(as_utc(row.sent_at) if row.sent_at else None),
        "in_sent_folder": row.in_sent_folder,
        "handed_at": iso(as_utc(row.handed_at) if row.handed_at else None),
    }


def suppression_row(row: Suppression) -> dict[str, Any]:
    return {
        "address": row.address,
        "reason": row.reason,
        "created_at": iso(as_utc(row.created_at)),
        "until": iso(as_utc(row.until)),
    }


@cli.command()
@click.option("--json", "as_json", is_flag=True, help='Print {"sent", "retried", "failed"}.')
@pass_ctx
def send(ctx: Context, as_json: bool) -> None:
    """Send the replies that are due now, once (the daemon does this every outbox_interval)."""
    app = ctx.app
    credentials.check_credentials(app.settings)
    app.ready()
    result = app.deliver_outbox(strict=True)
    if as_json:
        emit_json(result.as_json())
    else:
        click.echo(f"{result.sent} sent, {result.retried} to retry, {result.failed} failed")


@cli.group("outbox", invoke_without_command=True)
@click.option(
    "--state", type=click.Choice(outbox_store.STATES), default=None, help="Only rows in STATE."
)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def outbox_group(click_ctx: click.Context, state: str | None, limit: int, as_json: bool) -> None:
    """List replies, newest first: pending, sending, sent, failed (with the server's reason)
    and held (kept back by a rule: a suppressed address, the daily limit, a send that cannot
    be confirmed). Pending rows the hourly cap keeps back say so in "last error".

    `intake outbox retry ID` queues a failed or held reply again.
    """
    if click_ctx.invoked_subcommand is not None:
        return
    ctx = click_ctx.find_object(Context)
    assert ctx is not None
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        rows = [outbox_row(r) for r in outbox_store.rows(session, state=state, limit=limit)]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["id", "state", "template", "#", "to", "subject", "tries", "when", "last error"],
        (
            [
                r["id"],
                r["state"],
                r["template"],
                r["submission_id"] or (f"claim {r['claim_id']}" if r["claim_id"] else None),
                r["to"],
                short(r["subject"], 30),
                r["attempts"],
                _when(r),
                short(r["last_error"], 40) if r["last_error"] else "",
            ]
            for r in rows
        ),
    )


def _when(row: dict[str, Any]) -> str:
    stamp = row["sent_at"] if row["state"] == "sent" else row["next_attempt_at"]
    return str(stamp or "")[:16].replace("T", " ")


@outbox_group.command("retry")
@click.argument("outbox_id", metavar="ID", type=int)
@click.option("--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER).")
@pass_ctx
def outbox_retry(ctx: Context, outbox_id: int, as_: str | None) -> None:
    """Queue a failed or held reply again, its attempts reset (a held one whose address is
    still suppressed is refused: `intake unsuppress` it first)."""
    app = ctx.app
    app.ready()
    from intake.replies import staff as outbox

    outbox.retry_failed(app.sessions, outbox_id, actor=actor_name(as_), now=app.clock())
    click.echo(f"outbox #{outbox_id} queued again")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def suppressions(ctx: Context, as_json: bool) -> None:
    """Addresses that get no mail from intake (permanent bounces, staff decisions)."""
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        rows = [suppression_row(r) for r in outbox_store.suppressions(session)]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["address", "until", "reason"],
        ([r["address"], r["until"][:10], short(r["reason"], 60)] for r in rows),
    )


@cli.command()
@click.argument("address")
@click.option("--days", type=click.FloatRange(min=0, min_open=True), default=60.0,
              show_default=True, help="How long to send it nothing.")  # fmt: skip
@click.option("--reason", default="", help="Why (shown in `intake suppressions`).")
@click.option("--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER).")
@pass_ctx
def suppress(ctx: Context, address: str, days: float, reason: str, as_: str | None) -> None:
    """Send ADDRESS no mail (automatic or staff replies) for --days days."""
    app = ctx.app
    app.ready()
    why = reason.strip() or f"suppressed by {actor_name(as_)}"
    from intake.replies import staff as outbox

    stored, until = outbox.suppress(app.sessions, address, days=days, reason=why, now=app.clock())
    echo_text(f"{stored} suppressed until {until:%Y-%m-%d %H:%M} UTC (any spelling of it)")


@cli.command()
@click.argument("address")
@pass_ctx
def unsuppress(ctx: Context, address: str) -> None:
    """Take ADDRESS (any spelling of it) off the suppression list."""
    app = ctx.app
    app.ready()
    from intake.replies import staff as outbox

    lifted = outbox.unsuppress(app.sessions, address)
    echo_text(f"{', '.join(lifted.addresses)} may get mail again")
    if lifted.held:
        ids = " ".join(str(pk) for pk in lifted.held)
        echo_text(f"held letters to it stay held: outbox {ids}; `intake outbox retry ID` sends one")
