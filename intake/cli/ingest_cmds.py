"""CLI commands for the database, checks and ingest: db upgrade, check, poll, messages,
quarantine, reprocess."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import click

from intake import store
from intake.app import App
from intake.cli import Context, cli, pass_ctx
from intake.cli.output import echo_text, emit_json, emit_table, iso, short
from intake.core import config as config_mod
from intake.core import credentials
from intake.core.config import MailboxConfig
from intake.core.errors import IntakeError, MailboxError
from intake.core.mail import Kind
from intake.store import messages as message_store

# Ingest (the parser) and the IMAP client load for the commands that use them.
if TYPE_CHECKING:
    from intake.ingest.results import PollResult


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """Create or migrate the database schema to the current version."""
    app = ctx.app
    store.upgrade(app.engine)
    click.echo(f"database at revision {store.current_revision(app.engine)}")
    _share_sqlite_file(app.settings.database.url)


def _share_sqlite_file(url: str) -> None:
    """Give an SQLite database its mode (``store.sqlite_file_mode``: 0660 in a directory
    shared with the service's group, else 0600), whatever the umask it was made under.

    Editors in group ``intake`` write to it (accept, note, ...); SQLite gives its -wal and
    -shm files the database file's mode, so this one chmod covers them too.
    """
    import os
    import stat
    from pathlib import Path

    path = config_mod.sqlite_path(url)
    if not path or path == ":memory:":
        return
    try:
        st = os.stat(path)
        mode = store.sqlite_file_mode(Path(path))
        if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != mode:
            os.chmod(path, mode)
    except OSError as exc:
        click.echo(f"intake: note: cannot set the mode of {path}: {exc.strerror}", err=True)


@cli.command()
@pass_ctx
def check(ctx: Context) -> None:
    """Check the configuration, the database and IMAP/SMTP logins (one line each).

    Creates the processed folder when the server lacks it, and names the Sent folder found.
    """
    app = ctx.app
    settings = app.settings
    credentials.check_credentials(settings)
    failed = False
    click.echo(f"config: ok ({len(settings.mailboxes)} mailbox(es))")
    try:
        app.ready()
        click.echo(f"database: ok (revision {store.current_revision(app.engine)})")
    except IntakeError as exc:
        failed = True
        echo_text(f"database: FAILED: {exc}", multiline=False)
    for box in settings.mailboxes:
        try:
            click.echo(f"imap {box.name}: ok ({_imap_check(app, box)})")
        except IntakeError as exc:
            failed = True
            echo_text(f"imap {box.name}: FAILED: {exc}", multiline=False)
    if settings.smtp is None:
        click.echo("smtp: not configured (replies stay in the outbox)")
    else:
        try:
            with app.smtp_sender() as smtp:
                offered = smtp.extensions
            how = " with OAuth2" if settings.smtp.auth == "oauth2" else ""
            # Whether letters to non-ASCII addresses (张三@qq.com) can be queued at all.
            utf8 = "SMTPUTF8" if "smtputf8" in offered else "no SMTPUTF8: no letters to 张三@…"
            if not failed:
                app.note_smtp_extensions(offered)
            click.echo(f"smtp: ok ({settings.smtp.host}:{settings.smtp.port}{how}; {utf8})")
        except IntakeError as exc:
            failed = True
            echo_text(f"smtp: FAILED: {exc}", multiline=False)
    click.echo(f"documents: {_fonts_line()}")
    if failed:
        sys.exit(1)


def _fonts_line() -> str:
    from intake.documents import fonts

    found = fonts.has_cjk_font()
    if found:
        return "ok (a CJK font for PDFs that do not embed theirs)"
    why = "no CJK font installed" if found is False else "cannot tell (no fc-list)"
    # A note, not a failure: most PDFs embed their fonts.
    return (
        f"note: {why}; PDFs naming an unembedded Chinese or Japanese font lose text:"
        f" install {fonts.PACKAGE}"
    )


def _imap_check(app: App, box: MailboxConfig) -> str:
    from intake.adapters import imap

    with app.mailbox(box) as conn:
        report = imap.check(conn)
    caps = report.capabilities
    parts = [f"{report.folder.exists} messages in {report.folder.name}"]
    if box.processed_folder:
        verb = "created" if report.processed_created else "found"
        parts.append(f"{verb} folder {box.processed_folder}")
    if box.sent_folder:
        parts.append(f"Sent folder {report.sent_folder}")
    parts.append("ID sent" if report.identified else "no ID")
    parts.append("IDLE" if "IDLE" in caps else "no IDLE: polling")
    moves = "MOVE" if "MOVE" in caps else "COPY+EXPUNGE"
    parts.append(moves if box.processed_folder else "flagging")
    return "; ".join(parts)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print counts as JSON.")
@click.option("--mailbox", "only", metavar="NAME", help="Poll only this mailbox.")
@pass_ctx
def poll(ctx: Context, as_json: bool, only: str | None) -> None:
    """One pass over every mailbox: ingest new mail, then exit."""
    app = ctx.app
    credentials.check_credentials(app.settings)
    app.ready()
    boxes = [app.settings.mailbox(only)] if only else app.settings.mailboxes
    from intake.ingest.results import PollResult

    total = PollResult()
    errors: list[str] = []
    show_progress = sys.stderr.isatty() and not as_json
    for box in boxes:
        try:
            if show_progress:
                total += _poll_with_progress(ctx, box.name)
            else:
                total += app.poll_mailbox(box)
        except MailboxError as exc:
            app.ingestor.record_poll_error(box, str(exc))
            errors.append(str(exc))
    if as_json:
        emit_json(total.as_json())
    else:
        click.echo(
            f"fetched {total.fetched}: {total.new} new, {total.duplicates} duplicates, "
            f"{total.quarantined} quarantined, {total.ignored} ignored"
        )
    for error in errors:
        echo_text(f"intake: {error}", multiline=False, err=True)
    if errors:
        sys.exit(1)


def _poll_with_progress(ctx: Context, name: str) -> PollResult:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    app = ctx.app
    box = app.settings.mailbox(name)
    bar: Progress | None = None
    task = None
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        nonlocal bar, task
        # Only a real backlog gets a bar; a handful of messages is over before it would show.
        if bar is None and total >= 50 and time.monotonic() - started > 0.5:
            bar = Progress(
                TextColumn(f"{name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("messages"),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
                transient=True,
            )
            bar.start()
            task = bar.add_task(name, total=total)
        if bar is not None and task is not None:
            bar.update(task, completed=done, total=total)

    try:
        return app.poll_mailbox(box, progress)
    finally:
        if bar is not None:
            bar.stop()


@cli.command()
@click.option(
    "--kind", type=click.Choice([k.value for k in Kind]), help="Only messages of this kind."
)
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def messages(ctx: Context, kind: str | None, limit: int | None, as_json: bool) -> None:
    """Every incoming message with its server identity and kind."""
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        rows = []
        for message in message_store.list_messages(session, kind=kind, limit=limit):
            loc = message.locations[0] if message.locations else None
            rows.append(
                {
                    "id": message.id,
                    "mailbox": loc.mailbox if loc else None,
                    "folder": loc.folder if loc else None,
                    "uidvalidity": loc.uidvalidity if loc else None,
                    "uid": loc.uid if loc else None,
                    "message_id": message.message_id,
                    "sha256": message.sha256,
                    "kind": message.kind,
                    "reason": message.reason,
                    "submission_id": message.submission_id,
                    "claim_id": message.claim_id,
                    "sender": message.sender,
                    "subject": message.subject,
                    "received_at": iso(message.received_at),
                    "size": message.size,
                    "locations": len(message.locations),
                }
            )
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["id", "kind", "from", "subject", "uid", "reason"],
        (
            [
                r["id"],
                r["kind"],
                r["sender"],
                short(str(r["subject"] or ""), 30),
                r["uid"],
                short(str(r["reason"] or ""), 50),
            ]
            for r in rows
        ),
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def quarantine(ctx: Context, as_json: bool) -> None:
    """Messages that could not be processed, with the reason."""
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        rows = [
            {
                "id": m.id,
                "sha256": m.sha256,
                "message_id": m.message_id,
                "received_at": iso(m.received_at),
                "reason": m.reason,
                "attempts": m.attempts,
                "raw_path": m.raw_path,
            }
            for m in message_store.quarantined(session)
        ]
    if as_json:
        emit_json(rows)
        return
    emit_table(
        ["id", "received", "attempts", "reason"],
        ([r["id"], r["received_at"], r["attempts"], short(str(r["reason"]), 70)] for r in rows),
    )


@cli.command()
@click.argument("message_id", type=int)
@pass_ctx
def reprocess(ctx: Context, message_id: int) -> None:
    """Run a quarantined message through the pipeline again."""
    app = ctx.app
    app.ready()
    outcome = app.ingestor.reprocess(message_id)
    with app.sessions() as session, session.begin():
        message = message_store.get_message(session, message_id)
        click.echo(
            f"message {message_id}: {outcome.value} ({message.kind}: {short(message.reason, 80)})"
        )
    if outcome.value == "quarantined":
        sys.exit(1)
