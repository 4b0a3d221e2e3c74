"""CLI commands for conversations and consent: consent (show, record, confirm or reject a
pending decision), contributor (the addresses that speak for a contributor), remind,
not-duplicate, versions. The consent and versions blocks of ``show --json`` are in
:mod:`views`."""

from __future__ import annotations

from typing import Any

import click

from intake import store
from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import emit_fields, emit_json, emit_table, short
from intake.cli.views import consent_json, contributor_json, pending_line, versions_json
from intake.core.errors import UsageError
from intake.store import queue as queue_store
from intake.workflow.submission import STAFF_DECISIONS

# intake.conversations (parser, templates, dedupe) is imported by the commands that change
# something.


#: ``intake consent confirm|reject ID``: the editor's answer to a pending decision.
PENDING_ACTIONS = ("confirm", "reject")


@cli.command("consent")
@click.argument("first", metavar="[confirm|reject] ID")
@click.argument("second", required=False, metavar="[DECISION]")
@click.option("--note", default="", help="Why, or how consent was given (needed to waive).")
@click.option(
    "--consent",
    "consent_id",
    type=int,
    metavar="N",
    help="confirm/reject: act only if the pending decision is consent #N.",
)
@click.option("--no-notify", is_flag=True, help="confirm: do not send the receipt.")
@click.option(
    "--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER, else the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def consent_cmd(
    ctx: Context,
    first: str,
    second: str | None,
    note: str,
    consent_id: int | None,
    no_notify: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """A submission's copyright consent and its evidence.

    \b
    intake consent ID                 show it (and a pending decision)
    intake consent ID DECISION        record consent received another way: grant, refuse,
                                      waive (needs --note) or revoke
    intake consent confirm ID         confirm the pending decision of submission ID: the
                                      rights move and the receipt goes out
    intake consent reject ID          reject it: the rights stay as they are

    ID is the submission's id (as `intake list` shows it). A decision is pending when the
    contributor's answer was bound to our request by its confirmation code only.
    """
    app = ctx.app
    if first in PENDING_ACTIONS:
        submission_id = _submission_id(second, f"consent {first}")
        _pending_action(ctx, first, submission_id, note, consent_id, no_notify, as_, as_json)
        return
    submission_id = _submission_id(first, "consent")
    if second is not None and second not in STAFF_DECISIONS:
        raise click.BadParameter(
            f"{second!r} is not one of {', '.join(sorted(STAFF_DECISIONS))}",
            param_hint="DECISION",
        )
    if consent_id is not None or no_notify:
        raise UsageError("--consent and --no-notify go with consent confirm|reject")
    app.ready()
    if second is None:
        with store.reading(app.engine) as conn:
            data = consent_json(conn, submission_id)
        if as_json:
            emit_json(data)
            return
        pending = data["pending"]
        emit_fields(
            {
                "copyright": data["status"],
                "terms": data["terms_version"] or "-",
                "requested": data["requested_at"] or "-",
                **(
                    {"pending": pending_line(submission_id, pending)} if pending is not None else {}
                ),
            }
        )
        emit_table(
            ["id", "at", "decision", "state", "by", "phrase", "bound", "dkim", "message", "note"],
            (
                [e["id"], e["at"][:16].replace("T", " "), e["decision"], e["state"] or "-",
                 e["actor"], e["phrase"], e["authenticity"] or "-", e["dkim"] or "-",
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
            second,
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


def _submission_id(value: str | None, command: str) -> int:
    if value is None:
        raise click.UsageError(f"intake {command} needs the submission's ID")
    try:
        return int(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a submission id", param_hint="ID") from None


def _pending_action(
    ctx: Context,
    action: str,
    submission_id: int,
    note: str,
    consent_id: int | None,
    no_notify: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    from intake.conversations.copyright import confirm_pending, reject_pending

    app = ctx.app
    app.ready()
    actor, now = actor_name(as_), app.clock()
    with app.sessions() as session, session.begin():
        if action == "confirm":
            change = confirm_pending(
                session, app.letters, submission_id, actor=actor, now=now, note=note,
                consent_id=consent_id, notify=not no_notify,
            )  # fmt: skip
        else:
            if no_notify:
                raise UsageError(
                    "--no-notify goes with consent confirm (a rejection sends nothing)"
                )
            change = reject_pending(
                session, submission_id, actor=actor, now=now, note=note, consent_id=consent_id
            )
    if as_json:
        emit_json(
            {
                "id": change.submission_id,
                "consent_id": change.consent_id,
                "decision": change.decision,
                "state": change.state,
                "from": change.from_status,
                "to": change.to_status,
                "outbox_id": change.outbox_id,
                "skipped": change.skipped,
            }
        )
        return
    if action == "confirm":
        letter = (
            f"; receipt queued as outbox #{change.outbox_id}"
            if change.outbox_id is not None
            else f"; no receipt: {change.skipped}"
            if change.skipped
            else "; no receipt (--no-notify)"
        )
        click.echo(
            f"#{change.submission_id} copyright {change.from_status} -> {change.to_status} "
            f"(confirmed consent #{change.consent_id}: {change.decision}{letter})"
        )
        return
    click.echo(
        f"#{change.submission_id} rejected pending consent #{change.consent_id} "
        f"({change.decision}); copyright stays {change.to_status}"
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


@cli.group("contributor")
def contributor_group() -> None:
    """Addresses that speak for a submission's contributor besides the one it came from.

    A reply decides consent, brings a new version or answers a request for information only
    when it comes from the contributor: from the submission's own address, or from one added
    here (a second mailbox of theirs). Replies from any other address are kept and flagged.
    """


@contributor_group.command("add-address")
@click.argument("submission_id", type=int)
@click.argument("address")
@click.option("--note", default="", help="Why (how you know the address is theirs).")
@click.option(
    "--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER, else the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def add_address(
    ctx: Context, submission_id: int, address: str, note: str, as_: str | None, as_json: bool
) -> None:
    """Let replies from ADDRESS count as the contributor's for submission ID."""
    from intake.conversations.binding import add_address as add

    _address_change(ctx, add, submission_id, address, note, as_, as_json)


@contributor_group.command("remove-address")
@click.argument("submission_id", type=int)
@click.argument("address")
@click.option("--note", default="", help="Why.")
@click.option(
    "--as", "as_", metavar="NAME", help="Who is acting (default: $INTAKE_USER, else the OS user)."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def remove_address(
    ctx: Context, submission_id: int, address: str, note: str, as_: str | None, as_json: bool
) -> None:
    """Stop counting ADDRESS as the contributor's for submission ID."""
    from intake.conversations.binding import remove_address as remove

    _address_change(ctx, remove, submission_id, address, note, as_, as_json)


@contributor_group.command("addresses")
@click.argument("submission_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_ctx
def addresses(ctx: Context, submission_id: int, as_json: bool) -> None:
    """The addresses that speak for submission ID's contributor: its own, then those added."""
    app = ctx.app
    app.ready()
    with store.reading(app.engine) as conn:
        data = contributor_json(conn, submission_id)
    if as_json:
        emit_json(data)
        return
    rows = [[data["sender"], "the submission's sender", "", ""]]
    rows += [
        [a["address"], "added", a["added_by"], a["added_at"][:16].replace("T", " ")]
        for a in data["added"]
    ]
    emit_table(["address", "how", "by", "at"], rows)


def _address_change(
    ctx: Context,
    change: Any,
    submission_id: int,
    address: str,
    note: str,
    as_: str | None,
    as_json: bool,
) -> None:
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        done = change(
            session, submission_id, address, actor=actor_name(as_), now=app.clock(), note=note
        )
    if as_json:
        emit_json({"id": done.submission_id, "address": done.address, "added": done.added})
        return
    if done.added:
        click.echo(f"#{done.submission_id}: replies from {done.address} count as the contributor's")
    else:
        click.echo(f"#{done.submission_id}: {done.address} no longer counts as the contributor's")
