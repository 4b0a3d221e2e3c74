"""CLI commands for the editorial workflow: assign, note, accept, decline, request-info,
publish, withdraw, reopen and request-copyright."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from intake.cli import Context, actor_name, cli, pass_ctx
from intake.cli.output import echo_change, emit_json
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


def change_data(change: Change) -> dict[str, Any]:
    """The fields of an action's ``--json`` output (see docs/cli.md)."""
    reply = change.reply
    return {
        "id": change.id,
        "action": change.action,
        "from": change.from_status,
        "to": change.to_status,
        "dry_run": change.dry_run,
        "outbox_id": change.outbox_id,
        "skipped": change.skipped,
        "reply": (
            {
                "template": reply.template,
                "to": reply.to,
                "subject": reply.subject,
                "text": reply.text,
            }
            if reply is not None
            else None
        ),
    }


def report(change: Change, as_json: bool, done: str = "") -> None:
    """The change as JSON, else one line; ``done`` says what an action without a move did."""
    if as_json:
        emit_json(change_data(change))
        return
    echo_change(f"#{change.id}" + (f" {done};" if done else ""), change, "reply")


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
        submission_id: int,
        message: str,
        dry_run: bool,
        as_: str | None,
        as_json: bool,
        edit: bool = False,
        no_notify: bool = False,
        url: str = "",
    ) -> None:
        notify = template is not None and not no_notify
        change = _editorial(ctx, replies=notify).decide(
            submission_id,
            action,
            actor=actor_name(as_),
            message=message,
            url=url,
            notify=notify,
            dry_run=dry_run,
            edit=_editor if edit else None,
        )
        report(change, as_json)

    options = [
        click.argument("submission_id", type=int),
        click.option(
            "-m",
            "--message",
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
            click.option("--url", required=True, metavar="URL", help="Where it is published.")
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
@click.argument("submission_id", type=int)
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
    submission_id: int,
    message: str,
    edit: bool,
    dry_run: bool,
    as_: str | None,
    as_json: bool,
) -> None:
    """Send (or resend) the copyright request and mark copyright requested.

    For replies.copyright_request = "manual", or when the first request went unanswered.
    """
    change = _editorial(ctx).request_copyright(
        submission_id,
        actor=actor_name(as_),
        message=message,
        dry_run=dry_run,
        edit=_editor if edit else None,
    )
    report(change, as_json)


@cli.command()
@click.argument("submission_id", type=int)
@click.argument("name")
@_as_option
@_json_option
@pass_ctx
def assign(ctx: Context, submission_id: int, name: str, as_: str | None, as_json: bool) -> None:
    """Assign a submission to NAME ("-" unassigns). A received one goes into review."""
    change = _editorial(ctx, replies=False).assign(
        submission_id, "" if name == "-" else name, actor=actor_name(as_)
    )
    report(change, as_json, f"assigned to {name}" if name != "-" else "unassigned")


@cli.command()
@click.argument("submission_id", type=int)
@click.argument("text")
@_as_option
@_json_option
@pass_ctx
def note(ctx: Context, submission_id: int, text: str, as_: str | None, as_json: bool) -> None:
    """Add a note to a submission's history. A received one goes into review."""
    change = _editorial(ctx, replies=False).note(submission_id, text, actor=actor_name(as_))
    report(change, as_json, "note added")
