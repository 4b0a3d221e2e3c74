"""The ``intake triage`` command: the editor's desk, full screen (see :mod:`intake.cli.triage`).

Textual loads when the command runs: ``intake --help`` and every other command never import it.
"""

from __future__ import annotations

import click

from intake.cli import Context, actor_name, cli, pass_ctx


@cli.command()
@click.option("--all", "all_", is_flag=True, help="Every status, not only the open queue.")
@click.option("--mine", is_flag=True, help="Only what is assigned to me.")
@click.option("--search", metavar="TEXT", default="", help="Start with this search.")
@click.option(
    "--as",
    "as_",
    metavar="NAME",
    help="Who is acting (default: $INTAKE_USER, else the OS user).",
)
@pass_ctx
def triage(ctx: Context, all_: bool, mine: bool, search: str, as_: str | None) -> None:
    """Work the queue full screen, one key per action.

    The open queue on the left, the selected piece on the right.

    \b
      a assign   n note ($EDITOR)   r reply   y accept   d decline   i request info
      c request copyright   o open attachment   s save attachment   u not a duplicate
      f clear flag   j/k or ↓/↑ next/previous   / search   g refresh   ? help   q quit

    Every action is the one-shot command's (the same checks, history and letters); a
    letter is shown before it is queued.
    """
    from intake.cli.triage import run_triage

    app = ctx.app
    app.ready()
    run_triage(app, actor=actor_name(as_), all_statuses=all_, mine=mine, search=search)
