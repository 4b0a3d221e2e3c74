"""CLI commands for rights holders' claims: the claims queue, one claim, the staff actions on
claims (investigate, request-info, resolve, note, assign) and reclassify."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.claim_views import claim_detail, claim_line, claim_parts, claim_summary
from intake.cli.output import (
    change_json,
    echo_change,
    echo_text,
    emit_json,
    emit_table,
    page_parts,
)
from intake.cli.show_cmds import attachment_options, deliver_attachment
from intake.core.errors import NotFound, UsageError
from intake.store import claims as claim_store
from intake.workflow.claim import ClaimStatus, Outcome

# The use case (and the parser, templates and ingest it brings) loads for the commands that
# act; `intake --help` and the listings do without it.
if TYPE_CHECKING:
    from intake.replies.letters import Change
    from intake.rights.actions import Rights
    from intake.rights.reclassify import Reclassified, Reclassifier

F = TypeVar("F", bound=Callable[..., Any])
STATUSES = tuple(str(s) for s in ClaimStatus)
OUTCOMES = tuple(str(o) for o in Outcome)


def _rights(ctx: Context, *, replies: bool = True) -> Rights:
    from intake.replies.letters import Letters
    from intake.rights.actions import Rights

    app = ctx.app
    app.ready()
    # The Replier renders templates (jinja2): built only when a letter is wanted.
    return Rights(app.settings, app.sessions, app.letters if replies else Letters(None), app.clock)


def _reclassifier(ctx: Context, *, replies: bool) -> Reclassifier:
    from intake.replies.letters import Letters
    from intake.rights.reclassify import Reclassifier

    app = ctx.app
    app.ready()
    letters = app.letters if replies else Letters(None)
    from intake.ingest.parsing import parse

    return Reclassifier(app.settings, app.sessions, letters, app.clock, app.blobs, parse)


def _editor(text: str) -> str | None:
    # None when the editor quits without saving: the letter is sent as rendered.
    return click.edit(text, extension=".txt", require_save=True)


def _as_option(func: F) -> F:
    return click.option(
        "--as",
        "as_",
        metavar="NAME",
        help="Who is acting (default: $INTAKE_USER, else the OS user).",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def report(change: Change, as_json: bool) -> None:
    if as_json:
        emit_json(change_json(change))
        return
    echo_change(f"claim #{change.id}", change, "letter")


# --------------------------------------------------------------------------- the queue


@cli.command("claims")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only this status (repeat for several).",
)
@click.option(
    "--overdue", is_flag=True, help="Only claims still waiting for our answer past their deadline."
)
@click.option(
    "--submission",
    "submission_id",
    type=int,
    metavar="N",
    help="Only claims linked to submission N.",
)
@click.option("--assignee", metavar="NAME", help='Only assigned to NAME ("-": unassigned).')
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(min=0), default=0)
@_json_option
@pass_ctx
def claims_(
    ctx: Context,
    statuses: tuple[str, ...],
    overdue: bool,
    submission_id: int | None,
    assignee: str | None,
    limit: int,
    offset: int,
    as_json: bool,
) -> None:
    """Rights holders' copyright claims: open ones first, the nearest deadline first."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with app.sessions() as session, session.begin():
        rows = claim_store.list_claims(
            session,
            statuses=statuses,
            overdue_at=now if overdue else None,
            submission_id=submission_id,
            assignee=("" if assignee == "-" else assignee) if assignee is not None else None,
            limit=limit,
            offset=offset,
        )
        events = claim_store.events_for_many(session, [c.id for c in rows])
        data = [claim_summary(c, events[c.id], now) for c in rows]
    if as_json:
        emit_json(data)
        return
    emit_table(
        ["id", "status", "deadline", "demand", "assignee", "claimant", "work", "links"],
        (claim_line(d) for d in data),
    )
    if len(data) == limit:
        click.echo(f"(first {limit} from {offset}; --offset {offset + limit} for more)", err=True)


@cli.group("claim")
def claim_group() -> None:
    """One rights holder's claim: show it, investigate, ask for evidence, resolve, note, assign.

    Statuses: received -> investigating -> resolved_removed | resolved_paid |
    resolved_licensed | rejected, with needs_info while waiting for the claimant's evidence.
    The claimant's answer puts a needs_info (or rejected) claim back into investigating.
    """


@claim_group.command("show")
@click.argument("claim_id", type=int)
@_json_option
@pass_ctx
def show(ctx: Context, claim_id: int, as_json: bool) -> None:
    """A claim: who, what, the site's pages it names, its letter, attachments and history."""
    app = ctx.app
    app.ready()
    now = app.clock()
    with app.sessions() as session, session.begin():
        data = claim_detail(session, claim_store.get_claim(session, claim_id), now)
    if as_json:
        emit_json(data)
        return
    page_parts(claim_parts(data))


@claim_group.command("attachment")
@click.argument("claim_id", type=int)
@attachment_options
@pass_ctx
def attachment(
    ctx: Context, claim_id: int, number: int, save: Path | None, open_: bool, force: bool
) -> None:
    """Save, open or pipe file N of a claim (its evidence).

    N as `intake claim show` numbers the attachments.

    \b
      intake claim attachment 3 1 --save ~/claims/    under its safe name
      intake claim attachment 3 1 --open              xdg-open (or $INTAKE_OPENER)
      intake claim attachment 3 1 > letter.pdf
    """
    if save is not None and open_:
        raise UsageError("give --save or --open, not both")
    app = ctx.app
    app.ready()
    with app.sessions() as session, session.begin():
        claim = claim_store.get_claim(session, claim_id)
        row = claim_store.attachment_file(session, claim, number)
        blob_path, safe_name, filename, size = row.blob_path, row.safe_name, row.filename, row.size
    if not blob_path:
        raise NotFound(f"claim {claim_id}: attachment {number} was not stored")
    deliver_attachment(
        f"claim #{claim_id} attachment {number}",
        app.blobs.get(blob_path),
        safe_name=safe_name,
        filename=filename,
        size=size,
        save=save,
        open_=open_,
        force=force,
    )


# --------------------------------------------------------------------------- staff actions


def _letter_options(func: F) -> F:
    for option in (
        click.option("-m", "--message", metavar="TEXT", default="",
                     help="Staff words for the letter (and the history)."),
        click.option("--edit", is_flag=True, help="Edit the letter in $EDITOR before sending."),
        click.option("--no-notify", is_flag=True, help="Do not write to the claimant."),
        click.option("--dry-run", is_flag=True, help="Print the letter; change nothing."),
        _as_option,
        _json_option,
    ):  # fmt: skip
        func = option(func)
    return func


@claim_group.command("investigate")
@click.argument("claim_id", type=int)
@click.option("-m", "--message", metavar="TEXT", default="", help="A note for the history.")
@click.option("--no-notify", is_flag=True, help="Accepted for symmetry: investigating sends none.")
@click.option("--dry-run", is_flag=True, help="Check the move; change nothing.")
@_as_option
@_json_option
@pass_ctx
def investigate(
    ctx: Context,
    claim_id: int,
    message: str,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Start looking into a claim, or reopen a resolved one. Sends no letter."""
    change = _rights(ctx, replies=False).investigate(
        claim_id, actor=actor_name(as_), message=message, dry_run=dry_run
    )
    report(change, as_json)


@claim_group.command("request-info")
@click.argument("claim_id", type=int)
@_letter_options
@pass_ctx
def request_info(
    ctx: Context,
    claim_id: int,
    message: str,
    edit: bool,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Ask the claimant for evidence (claim_needs_info; --message replaces the standard list)."""
    change = _rights(ctx, replies=not no_notify).request_info(
        claim_id,
        actor=actor_name(as_),
        message=message,
        notify=not no_notify,
        dry_run=dry_run,
        edit=_editor if edit else None,
    )
    report(change, as_json)


@claim_group.command("resolve")
@click.argument("claim_id", type=int)
@click.argument("outcome", type=click.Choice(OUTCOMES))
@click.option("--amount", metavar="X", default="", help="What was paid (required for paid).")
@_letter_options
@pass_ctx
def resolve(
    ctx: Context,
    claim_id: int,
    outcome: str,
    amount: str,
    message: str,
    edit: bool,
    no_notify: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Close a claim: removed, paid (--amount), licensed or rejected (--message: the reason).

    Sends the claimant claim_removed, claim_paid, claim_licensed or claim_rejected unless
    --no-notify.
    """
    change = _rights(ctx, replies=not no_notify).resolve(
        claim_id,
        Outcome(outcome),
        actor=actor_name(as_),
        amount=amount,
        message=message,
        notify=not no_notify,
        dry_run=dry_run,
        edit=_editor if edit else None,
    )
    report(change, as_json)


@claim_group.command("note")
@click.argument("claim_id", type=int)
@click.argument("text")
@_as_option
@_json_option
@pass_ctx
def note(ctx: Context, claim_id: int, text: str, as_: str | None, as_json: bool) -> None:
    """Add a note to a claim's history. A received claim goes into investigating."""
    change = _rights(ctx, replies=False).note(claim_id, text, actor=actor_name(as_))
    report(change, as_json)


@claim_group.command("assign")
@click.argument("claim_id", type=int)
@click.argument("name")
@_as_option
@_json_option
@pass_ctx
def assign(ctx: Context, claim_id: int, name: str, as_: str | None, as_json: bool) -> None:
    """Assign a claim to NAME ("-" unassigns). A received claim goes into investigating."""
    change = _rights(ctx, replies=False).assign(
        claim_id, "" if name == "-" else name, actor=actor_name(as_)
    )
    report(change, as_json)


# --------------------------------------------------------------------------- reclassify


@cli.command("reclassify")
@click.argument("ident", metavar="ID", type=int)
@click.argument("kind", type=click.Choice(["claim", "submission"]))
@click.option(
    "--message",
    "by",
    flag_value="message",
    help="ID is a message id (as in `intake messages`): spam, list or auto-reply mail too.",
)
@click.option(
    "--submission",
    "by",
    flag_value="submission",
    help="ID is a submission id (the default for `ID claim`).",
)
@click.option(
    "--claim", "by", flag_value="claim", help="ID is a claim id (the default for `ID submission`)."
)
@click.option("-m", "--note", "note", metavar="TEXT", default="", help="Why, for the history.")
@click.option(
    "--notify",
    is_flag=True,
    help="Send the new claim's or submission's acknowledgement (default: none).",
)
@_as_option
@_json_option
@pass_ctx
def reclassify(
    ctx: Context,
    ident: int,
    kind: str,
    by: str | None,
    note: str,
    notify: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Make a submission a claim, a claim a submission, or any message either.

    \b
      intake reclassify 7 claim                submission #7 (as in `intake list`) is a claim
      intake reclassify 3 submission           claim #3 (as in `intake claims`) is a submission
      intake reclassify 42 claim --message     message 42 (as in `intake messages`) is a claim

    ID is the id the listing of what it is now shows: a submission's for `claim`, a
    claim's for `submission`; --message takes a message id, for mail that is neither (spam,
    lists, auto-replies). A submission that becomes a claim is kept (withdrawn if it was
    still open); a claim that becomes a submission is rejected. Both get an event saying so.
    Nothing is sent unless --notify.
    """
    default = "submission" if kind == "claim" else "claim"
    done = _reclassifier(ctx, replies=notify).reclassify(
        ident,
        "claim" if kind == "claim" else "submission",
        by="message"
        if by == "message"
        else "submission"
        if (by or default) == "submission"
        else "claim",
        actor=actor_name(as_),
        message=note,
        notify=notify,
    )
    _reclassified(done, as_json)


def _reclassified(done: Reclassified, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "message_id": done.message_pk,
                "kind": done.kind,
                "claim_id": done.claim_id,
                "submission_id": done.submission_id,
                "closed": done.closed,
                "outbox_id": done.outbox_id,
                "skipped": done.skipped,
            }
        )
        return
    made = f"claim #{done.claim_id}" if done.claim_id else f"submission #{done.submission_id}"
    line = f"message {done.message_pk} is now {done.kind}: {made}"
    if done.closed:
        line += f"; {done.closed}"
    if done.outbox_id is not None:
        line += f"; acknowledgement queued (outbox #{done.outbox_id})"
    elif done.skipped:
        line += f"; no acknowledgement: {done.skipped}"
    echo_text(line, multiline=False)
