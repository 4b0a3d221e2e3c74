"""CLI commands for the store of raw mail and attachments: storage verify (is everything there, as
named?) and storage migrate (move it between the file system and the database)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from intake.cli import Context, cli, pass_ctx
from intake.cli.output import echo_text, emit_fields, emit_json
from intake.core.errors import UsageError

if TYPE_CHECKING:
    from intake.service.storage import Problem

BACKENDS = ("filesystem", "database")


@cli.group()
def storage() -> None:
    """The store of raw mail and attachments: check it, or move it to the other backend."""


@storage.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def verify(ctx: Context, as_json: bool) -> None:
    """Check every raw message and attachment a row names, in the configured store.

    Each is read back and hashed: it must be there and its sha256 must be the one its name
    carries. Exits 0 when all are, 1 otherwise, listing each missing or damaged object with
    the rows that name it. Reads only; safe while the service runs.
    """
    app = ctx.app
    app.ready()
    from intake.service import storage as service

    backend = app.settings.storage.backend
    report = service.verify(app.engine, app.blobs, backend, progress=_progress(as_json))
    if as_json:
        emit_json(
            {
                "backend": report.backend,
                "ok": report.ok,
                "objects": report.objects,
                "bytes": report.bytes,
                "problems": _problems(report.problems),
            }
        )
    else:
        emit_fields(
            {
                "backend": report.backend,
                "objects": f"{report.objects:,} ({_size(report.bytes)})",
                "problems": len(report.problems),
            }
        )
        _show(report.problems)
        click.echo("ok" if report.ok else "NOT OK")
    if not report.ok:
        sys.exit(1)


@storage.command("migrate")
@click.option(
    "--to",
    "target",
    type=click.Choice(BACKENDS),
    required=True,
    help="The store to fill: the database's blob tables or the files under storage.path.",
)
@click.option(
    "--delete-source",
    is_flag=True,
    help="Remove each object from the other store once its copy checked out (only after "
    "[storage] backend names the target).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def migrate(ctx: Context, target: str, delete_source: bool, as_json: bool) -> None:
    """Copy every raw message and attachment into the other store, each copy checked.

    Every object a row names is copied from the other backend, read back and checked by its
    sha256; what the target holds already, intact, is left alone, so an interrupted run is
    simply run again. Then set [storage] backend to the target, restart the service, and run
    this once more for what arrived meanwhile. Exits 1 if any object could not be moved
    (each is listed with the rows naming it). Run it as the service user.
    """
    app = ctx.app
    app.ready()
    configured = app.settings.storage.backend
    if delete_source and configured != target:
        raise UsageError(
            f'--delete-source: [storage] backend is "{configured}", so that store is still the '
            f'one in use; set backend = "{target}" and restart the service first'
        )
    source = next(b for b in BACKENDS if b != target)
    from intake.service import storage as service

    report = service.migrate(
        app.engine,
        app.blob_store(source),
        app.blob_store(target),
        names=(source, target),
        delete_source=delete_source,
        progress=_progress(as_json),
    )
    if as_json:
        emit_json(
            {
                "from": report.source,
                "to": report.target,
                "ok": report.ok,
                "objects": report.objects,
                "copied": report.copied,
                "bytes_copied": report.bytes_copied,
                "present": report.present,
                "deleted": report.deleted,
                "problems": _problems(report.problems),
            }
        )
    else:
        emit_fields(
            {
                "from": report.source,
                "to": report.target,
                "objects": f"{report.objects:,}",
                "copied": f"{report.copied:,} ({_size(report.bytes_copied)})",
                "already there": f"{report.present:,}",
                "deleted from source": f"{report.deleted:,}",
                "problems": len(report.problems),
            }
        )
        _show(report.problems)
        click.echo("ok" if report.ok else "NOT OK")
        if report.ok and configured != target:
            click.echo(f'now set [storage] backend = "{target}" and restart the service')
    if not report.ok:
        sys.exit(1)


def _progress(quiet: bool) -> Any:
    if quiet or not sys.stderr.isatty():
        return None
    return lambda done: click.echo(f"... {done:,} objects", err=True)


def _problems(problems: tuple[Problem, ...]) -> list[dict[str, object]]:
    return [{"path": p.path, "problem": p.problem, "named_by": list(p.named_by)} for p in problems]


def _show(problems: tuple[Problem, ...]) -> None:
    for p in problems:
        named = f" ({', '.join(p.named_by)})" if p.named_by else " (no row names it any more)"
        echo_text(f"  {p.path}: {p.problem}{named}", multiline=False)


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    if size < 1024**3:
        return f"{size / 1024 / 1024:,.1f} MB"
    return f"{size / 1024**3:,.2f} GB"
