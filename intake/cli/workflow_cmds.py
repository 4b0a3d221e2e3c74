"""CLI commands for the editorial workflow: assign, note, accept, decline, request-info,
publish, withdraw, reopen, request-copyright, reply and flag clear.

Every command takes one or several submission ids (``assign 12 13 14 li``): each id is done in
its own transaction and gets its own line; when any fails the others are still done and the
command exits 1."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import click

from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import change_json, echo_change, emit_json, shown
from intake.core.errors import ConfigError, IntakeError, UsageError
from intake.workflow.submission import ACTION_TEMPLATE, Action

if TYPE_CHECKING:  # the use case loads when a command acts, not for `intake --help`
    from intake.replies.letters import Change
    from intake.submissions.editorial import Editorial

F = TypeVar("F", bound=Callable[..., Any])


def _editorial(ctx: Context, *, replies: bool = True) -> Editorial:
    from intake.replies.letters import Letters
    from intake.submissions.editorial import Editorial

    app = ctx.app
    app.ready()
    # The Replier renders templates (jinja2): built only when a reply is wanted.
    return Editorial(
        app.settings, app.sessions, app.letters if replies else Letters(None), app.clock
    )


def _editor(text: str) -> str | None:
    # None when the editor quits without saving: the reply is sent as rendered.
    return click.edit(text, extension=".txt", require_save=True)


def each(ids: Sequence[int], act: Callable[[int], Change], as_json: bool, done: str = "") -> None:
    """Run ``act`` for every id, each in its own transaction, one line (or JSON object) per
    id. One id fails as it always did; with several, a failure is one line on stderr naming
    the id, the rest go on, and the exit code is 1."""
    if len(ids) == 1:
        report(act(ids[0]), as_json, done)
        return
    results: list[dict[str, Any]] = []
    failed = 0
    for submission_id in ids:
        try:
            change = act(submission_id)
        except ConfigError:
            raise  # the same for every id: stop at the first
        except IntakeError as exc:
            failed += 1
            if as_json:
                results.append({"id": submission_id, "error": str(exc)})
            else:
                click.echo(f"intake: #{submission_id}: {shown(str(exc))}", err=True)
            continue
        if as_json:
            results.append(change_json(change))
        else:
            report(change, False, done)
    if as_json:
        emit_json(results)
    if failed:
        raise click.exceptions.Exit(1)


def _ids(func: F) -> F:
    return click.argument("submission_ids", metavar="ID...", nargs=-1, required=True, type=int)(
        func
    )


def report(change: Change, as_json: bool, done: str = "") -> None:
    """The change as JSON, else one line; ``done`` says what an action without a move did."""
    if as_json:
        emit_json(change_json(change))
        return
    letter = "letter" if change.action == "reply" else "reply"
    echo_change(f"#{change.id}" + (f" {done};" if done else ""), change, letter)


def _as_option(func: F) -> F:
    return click.option(
        "--as",
        "as_",
        metavar="NAME",
        help="Who is acting (default: $INTAKE_USER, else the OS user).",
    )(func)


def _json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")(func)


def _decision(name: str, action: Action, summary: str, *, url: bool = False) -> None:
    """Register one decision command; they differ only in action, template and --url."""
    template = ACTION_TEMPLATE[action]

    def command(
        ctx: Context,
        submission_ids: tuple[int, ...],
        message: str,
        dry_run: bool,
        as_: str | None,
        as_json: bool,
        edit: bool = False,
        no_notify: bool = False,
        url: str = "",
    ) -> None:
        notify = template is not None and not no_notify
        editorial = _editorial(ctx, replies=notify)
        actor = actor_name(as_)

        def act(submission_id: int) -> Change:
            return editorial.decide(
                submission_id,
                action,
                actor=actor,
                message=message,
                url=url or "",
                notify=notify,
                dry_run=dry_run,
                edit=_editor if edit else None,
            )

        each(submission_ids, act, as_json)

    message_names = ["-m", "--message"] + (["--note"] if url else [])
    options = [
        _ids,
        click.option(
            *message_names,
            "message",
            metavar="TEXT",
            default="",
            help="An editor's note for the reply (and the history)."
            if template
            else "A note for the history.",
        ),
    ]
    if template is not None:
        command.__doc__ = f"{summary}\n\nSends the {template!r} reply unless --no-notify."
        options += [
            click.option("--edit", is_flag=True, help="Edit the reply in $EDITOR before sending."),
            click.option("--no-notify", is_flag=True, help="Do not write to the contributor."),
            click.option("--dry-run", is_flag=True, help="Print the reply; change nothing."),
        ]
    else:
        command.__doc__ = f"{summary}\n\nSends no reply: write to the contributor if needed."
        options.append(click.option("--dry-run", is_flag=True, help="Change nothing."))
    if url:
        options.append(
            click.option(
                "--url",
                metavar="URL",
                default="",
                help="Where it is published (for a piece in print only, leave it out and say "
                "where it ran with --note).",
            )
        )
    options += [_as_option, _json_option]
    decorated: Callable[..., Any] = command
    for option in reversed(options):
        decorated = option(decorated)
    cli.command(name)(pass_ctx(decorated))


_decision("accept", Action.ACCEPT, "Accept a submission.")
_decision("decline", Action.DECLINE, "Decline a submission.")
_decision("request-info", Action.REQUEST_INFO, "Ask the contributor for more information.")
_decision(
    "publish",
    Action.PUBLISH,
    "Mark an accepted submission published (needs copyright granted or waived).",
    url=True,
)
_decision(
    "withdraw", Action.WITHDRAW, "Withdraw a submission (the contributor's wish, or a takedown)."
)
_decision(
    "reopen", Action.REOPEN, "Put a declined, withdrawn or duplicate submission back in review."
)


@cli.command("request-copyright")
@_ids
@click.option(
    "-m", "--message", metavar="TEXT", default="", help="An editor's note for the letter."
)
@click.option("--edit", is_flag=True, help="Edit the letter in $EDITOR before sending.")
@click.option("--dry-run", is_flag=True, help="Print the letter; change nothing.")
@_as_option
@_json_option
@pass_ctx
def request_copyright(
    ctx: Context,
    submission_ids: tuple[int, ...],
    message: str,
    edit: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Send (or resend) the copyright request and mark copyright requested.

    For replies.copyright_request = "manual", or when the first request went unanswered.
    """
    editorial, actor = _editorial(ctx), actor_name(as_)

    def act(submission_id: int) -> Change:
        return editorial.request_copyright(
            submission_id,
            actor=actor,
            message=message,
            dry_run=dry_run,
            edit=_editor if edit else None,
        )

    each(submission_ids, act, as_json)


@cli.command()
@click.argument("submission_ids", metavar="ID...", nargs=-1, required=True, type=int)
@click.argument("name")
@_as_option
@_json_option
@pass_ctx
def assign(
    ctx: Context, submission_ids: tuple[int, ...], name: str, as_: str | None, as_json: bool
) -> None:
    """Assign submissions to NAME ("-" unassigns). A received one goes into review.

    With [desk] staff set, NAME must be one of them.
    """
    editorial, actor = _editorial(ctx, replies=False), actor_name(as_)
    assignee = "" if name == "-" else name
    done = f"assigned to {name}" if assignee else "unassigned"
    each(submission_ids, lambda sid: editorial.assign(sid, assignee, actor=actor), as_json, done)


@cli.command()
@click.argument("submission_ids", metavar="ID...", nargs=-1, type=int)
@click.argument("text", required=False, default="")
@click.option("--edit", is_flag=True, help="Write the note in $EDITOR (then give no TEXT).")
@_as_option
@_json_option
@pass_ctx
def note(
    ctx: Context,
    submission_ids: tuple[int, ...],
    text: str,
    edit: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Add a note to submissions' history. A received one goes into review.

    \b
      intake note 12 "asked the author about photo 3"
      intake note 12 13 --edit          one note, written in $EDITOR, on both
    """
    ids, text = _ids_and_text(submission_ids, text, edit)
    if edit:
        written = click.edit("", extension=".txt", require_save=True)
        text = (written or "").strip()
        if not text:
            raise UsageError("the note is empty: nothing was added")
    editorial, actor = _editorial(ctx, replies=False), actor_name(as_)
    each(ids, lambda sid: editorial.note(sid, text, actor=actor), as_json, "note added")


def _ids_and_text(ids: tuple[int, ...], text: str, edit: bool) -> tuple[tuple[int, ...], str]:
    """Click gives the last number to TEXT when no text follows (``note 12 13 --edit``)."""
    if edit and text:
        if not text.isdigit():
            raise UsageError("give either TEXT or --edit, not both")
        ids, text = (*ids, int(text)), ""
    if not ids:
        raise UsageError("give the submission ids and the note's TEXT (or --edit)")
    if not edit and not text:
        raise UsageError("give the note's TEXT, or --edit to write it in $EDITOR")
    return ids, text


# --------------------------------------------------------------------------- answering


@cli.command()
@_ids
@click.option("-m", "--message", metavar="TEXT", default="", help="The answer, in your words.")
@click.option("--edit", is_flag=True, help="Write (or finish) the answer in $EDITOR.")
@click.option("--dry-run", is_flag=True, help="Print the letter; send nothing.")
@_as_option
@_json_option
@pass_ctx
def reply(
    ctx: Context,
    submission_ids: tuple[int, ...],
    message: str,
    edit: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Answer the contributor in your own words.

    Nothing else changes: the status stays.

    The letter ("reply" template: your words and the desk's signature) goes through the
    outbox, threaded under the contributor's latest message, and is recorded in the history.

    \b
      intake reply 12 -m "收到，谢谢。请问第三张照片的作者是谁？"
      intake reply 12 --edit
    """
    editorial, actor = _editorial(ctx), actor_name(as_)

    def act(submission_id: int) -> Change:
        return editorial.reply(
            submission_id,
            message,
            actor=actor,
            dry_run=dry_run,
            edit=_editor if edit else None,
        )

    each(submission_ids, act, as_json)


# --------------------------------------------------------------------------- flags


@cli.group("flag")
def flag_group() -> None:
    """Clear the flags intake raised (`intake list --flagged`)."""


@flag_group.command("clear")
@_ids
@click.option("-m", "--message", metavar="TEXT", default="", help="What was done, for the history.")
@_as_option
@_json_option
@pass_ctx
def flag_clear(
    ctx: Context, submission_ids: tuple[int, ...], message: str, as_: str | None, as_json: bool
) -> None:
    """Take the flag off submissions staff have looked at."""
    editorial, actor = _editorial(ctx, replies=False), actor_name(as_)
    each(
        submission_ids,
        lambda sid: editorial.clear_flag(sid, actor=actor, note=message),
        as_json,
        "flag cleared",
    )
