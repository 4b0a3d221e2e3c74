"""CLI commands for conversations and consent: consent (show or record), remind, not-duplicate,
versions. The consent and versions blocks of ``show --json`` are in :mod:`views`."""

from __future__ import annotations

import click

from intake import store
from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import emit_fields, emit_json, emit_table, short
from intake.cli.views import consent_json, versions_json
from intake.store import queue as queue_store
from intake.workflow.submission import STAFF_DECISIONS

# intake.conversations (parser, templates, dedupe) is imported by the commands that change
# something.


@cli.command("consent")
@click.argument("submission_id", type=int)
@click.argument("decision", required=False, type=click.Choice(sorted(STAFF_DECISIONS)))
@click.option("--note", default="", help="Why, or how consent was given (needed to waive).")
@click.option(
    "--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER, else the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def consent_cmd(
    ctx: Context,
    submission_id: int,
    decision: str | None,
    note: str,
    as_: str | None,
    as_json: bool,
) -> None:
    """Show a submission's copyright consent and its evidence, or record a DECISION received
    another way (grant, refuse, waive, revoke), kept with the note and who recorded it."""
    app = ctx.app
    app.ready()
    if decision is None:
        with store.reading(app.engine) as conn:
            data = consent_json(conn, submission_id)
        if as_json:
            emit_json(data)
            return
        emit_fields(
            {
                "copyright": data["status"],
                "terms": data["terms_version"] or "-",
                "requested": data["requested_at"] or "-",
            }
        )
        emit_table(
            ["at", "decision", "by", "phrase", "dkim", "message", "note"],
            (
                [e["at"][:16].replace("T", " "), e["decision"], e["actor"], e["phrase"], e["dkim"],
                 short(e["message_id"], 30), short(e["note"], 40)]
                for e in data["evidence"]
            ),
            title="evidence",
        )  # fmt: skip
        return
    from intake.conversations.copyright import record_decision

    with app.sessions() as session, session.begin():
        change = record_decision(
            session,
            app.settings,
            submission_id,
            decision,
            note=note,
            actor=actor_name(as_),
            now=app.clock(),
        )
    if as_json:
        emit_json(
            {
                "id": change.submission_id,
                "decision": change.decision,
                "from": change.from_status,
                "to": change.to_status,
                "consent_id": change.consent_id,
            }
        )
        return
    click.echo(
        f"#{change.submission_id} copyright {change.from_status} -> {change.to_status} "
        f"({change.decision} recorded as consent #{change.consent_id})"
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print counts as JSON.")
@pass_ctx
def remind(ctx: Context, as_json: bool) -> None:
    """Send copyright reminders and expire unanswered requests, once (the daemon does this
    every maintenance interval)."""
    app = ctx.app
    app.ready()
    done = app.remind_copyright()
    if as_json:
        emit_json(done.as_json())
        return
    click.echo(f"reminded {done.reminded}, expired {done.expired}, not sent {done.unsent}")


@cli.command("not-duplicate")
@click.argument("submission_id", type=int)
@click.option("--note", default="", help="Why it is not a duplicate.")
@click.option(
    "--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER, else the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def not_duplicate(
    ctx: Context, submission_id: int, note: str, as_: str | None, as_json: bool
) -> None:
    """Undo duplicate detection: unlink the submission from the earlier one; one marked
    duplicate goes back to received."""
    from intake.submissions.duplicates import clear_duplicate

    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        done = clear_duplicate(
            session, submission_id, actor=actor_name(as_), now=app.clock(), note=note
        )
    if as_json:
        emit_json(
            {
                "id": done.submission_id,
                "was_duplicate_of": done.was_duplicate_of,
                "from": done.from_status,
                "to": done.to_status,
            }
        )
        return
    was = f"#{done.was_duplicate_of}" if done.was_duplicate_of else "an earlier submission"
    click.echo(
        f"#{done.submission_id} is no longer a duplicate of {was} "
        f"({done.from_status} -> {done.to_status})"
    )


@cli.command()
@click.argument("submission_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def versions(ctx: Context, submission_id: int, as_json: bool) -> None:
    """The versions of a submission's article (revisions sent as replies), newest last."""
    app = ctx.app
    app.ready()
    with store.reading(app.engine) as conn:
        queue_store.submission(conn, submission_id)  # NotFound unless it exists
        rows = queue_store.versions_for(conn, submission_id)
        data = [
            {**v, "text": row.article_text}
            for v, row in zip(versions_json(conn, submission_id), rows, strict=True)
        ]
    if as_json:
        emit_json(data)
        return
    emit_table(
        ["version", "received", "message", "chars", "opening"],
        (
            [d["number"], (d["created_at"] or "")[:16].replace("T", " "), d["message_pk"],
             d["char_count"], short(d["text"], 40)]
            for d in data
        ),
    )  # fmt: skip
