"""CLI commands for the background service: run (the daemon), status (its health), and
db copy (moving the database, e.g. from SQLite to PostgreSQL)."""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

import click

from intake import store
from intake.cli import Context, cli, pass_ctx
from intake.cli.ingest_cmds import db
from intake.cli.output import echo_text, emit_fields, emit_json, emit_table, iso
from intake.core import configfile, credentials, logs

# The daemon (APScheduler, IMAP, the whole pipeline) loads for `intake run` alone.
if TYPE_CHECKING:
    from intake.service import health as service


@cli.command()
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Log lines as text or JSON objects (default: daemon.log_format).",
)
@click.option(
    "--metrics-address",
    metavar="HOST:PORT",
    default=None,
    help="Serve Prometheus metrics at http://HOST:PORT/metrics (default: daemon.metrics_address).",
)
@pass_ctx
def run(ctx: Context, log_format: str | None, metrics_address: str | None) -> None:
    """Run the background service until SIGTERM or SIGINT (for systemd: Type=notify).

    Polls every mailbox, listens with IMAP IDLE, sends the outbox and runs maintenance.
    Several copies may run against one database: a lease lets one poll each mailbox.
    """
    app = ctx.app
    app.log_refusals = True  # the journal gets one line per refused login
    settings = app.settings
    credentials.check_credentials(settings)
    address = metrics_address if metrics_address is not None else settings.daemon.metrics_address
    if address:
        configfile.parse_address(address, "--metrics-address")
    verbose = click.get_current_context().find_root().params.get("verbose") or 0
    chosen = log_format or settings.daemon.log_format
    secrets = logs.secrets_of(settings)
    secrets.append(app.reply_secret.decode("utf-8", "replace"))
    logs.configure(
        "json" if chosen == "json" else "text",
        level=logging.DEBUG if verbose >= 2 else logging.INFO,
        secrets=secrets,
    )
    from intake.service import daemon

    metrics = None
    if address:
        from intake.service.metrics import Metrics

        metrics = Metrics(app.sessions, settings, app.clock)
        app.logins.listen(metrics.login_event)
        metrics.serve(address)
    try:
        result = daemon.serve(app, observer=metrics)
    finally:
        if metrics is not None:
            metrics.close()
    if result.forced:
        # A job is stuck in I/O past the grace period; interpreter exit would wait for its
        # thread. Everything committed is safe, and the rest is redone by the next daemon.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(result.exit_code)
    sys.exit(result.exit_code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def status(ctx: Context, as_json: bool) -> None:
    """Health of the service: mailboxes, outbox, quarantine, claims, leases.

    Exits 0 when healthy, 1 when not (every problem is listed).
    """
    app = ctx.app
    app.ready()
    from intake.service import health as service

    report = service.status(app.sessions, app.settings, app.clock())
    if as_json:
        emit_json(_as_json(report))
    else:
        _show(report)
    if not report.healthy:
        sys.exit(1)


def _as_json(report: service.Status) -> dict[str, object]:
    return {
        "healthy": report.healthy,
        "problems": list(report.problems),
        "now": iso(report.now),
        "mailboxes": [
            {
                "name": m.name,
                "folder": m.folder,
                "last_poll_at": iso(m.last_poll_at),
                "last_success_at": iso(m.last_success_at),
                "idle_state": m.idle_state,
                "last_error": m.last_error,
                "last_error_at": iso(m.last_error_at),
                "backlog": m.backlog,
                "lease_holder": m.lease_holder,
                "lease_expires_at": iso(m.lease_expires_at),
                "problem": m.problem,
                "unmoved": m.unmoved,
            }
            for m in report.mailboxes
        ],
        "logins": [
            {
                "account": login.account,
                "service": login.service,
                "host": login.host,
                "failures": login.failures,
                "last_error": login.last_error,
                "failed_at": iso(login.failed_at),
                "retry_at": iso(login.retry_at),
            }
            for login in report.logins
        ],
        "backlog": report.backlog,
        "outbox": {
            "by_state": dict(sorted(report.outbox.by_state.items())),
            "pending": report.outbox.pending,
            "failed": report.outbox.failed,
            "failed_last_day": report.outbox.failed_last_day,
            "stuck": report.outbox.stuck,
            "held": report.outbox.held,
            "capped": report.outbox.capped,
        },
        "quarantined": report.quarantined,
        "overdue_claims": report.overdue_claims,
        "leases": [
            {
                "name": lease.name,
                "holder": lease.holder,
                "acquired_at": iso(lease.acquired_at),
                "expires_at": iso(lease.expires_at),
                "expired": lease.expired,
            }
            for lease in report.leases
        ],
    }


def _show(report: service.Status) -> None:
    click.echo("healthy" if report.healthy else "NOT HEALTHY")
    for problem in report.problems:
        echo_text(f"  - {problem}", multiline=False)
    click.echo()
    emit_table(
        ["mailbox", "last success", "IDLE", "backlog", "polled by", "last error"],
        (
            [m.name, m.last_success_at, m.idle_state or "-", m.backlog, m.lease_holder,
             m.last_error or "-"]
            for m in report.mailboxes
        ),
    )  # fmt: skip
    click.echo()
    emit_fields(
        {
            "outbox pending": report.outbox.pending,
            "outbox failed": f"{report.outbox.failed} ({report.outbox.failed_last_day} last day)",
            "outbox held": report.outbox.held,
            "quarantined": report.quarantined,
            "overdue claims": report.overdue_claims,
        }
    )
    if report.leases:
        click.echo()
        emit_table(
            ["lease", "holder", "since", "expires"],
            (
                [lease.name, lease.holder, lease.acquired_at,
                 "expired" if lease.expired else lease.expires_at.strftime("%H:%M:%S")]
                for lease in report.leases
            ),
        )  # fmt: skip


@db.command("copy")
@click.option("--to", "url", required=True, metavar="URL", help="The database to copy into.")
@pass_ctx
def db_copy(ctx: Context, url: str) -> None:
    """Copy every row of the configured database into an empty one at URL.

    Stop the service first. The target's schema is created (or brought up to date) first;
    it must hold no rows. Afterwards point database.url at URL. The store is not copied:
    a file store stays where storage.path says; a database store is copied with the rows.
    """
    app = ctx.app
    app.ready()
    target = store.make_engine(url)
    try:
        store.upgrade(target)
        from intake.store.transfer import copy_database

        counts = copy_database(app.engine, target)
    finally:
        target.dispose()
    for table, count in counts.items():
        click.echo(f"{table}: {count}")
    click.echo(f"copied {sum(counts.values())} rows to {target.url.render_as_string()}")
