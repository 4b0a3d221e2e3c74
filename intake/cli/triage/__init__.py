"""``intake triage``: the morning round on one screen, on Textual (this package is the only
place that imports it).

The open queue, or the open copyright claims (Tab switches), on the left; the selected piece
or claim on the right, drawn from the same parts as ``intake show`` and ``intake claim show``
(so every contributor string passes :func:`intake.cli.output.shown`); one key per action.
Actions are :class:`intake.cli.workdesk.Desk`'s, the one-shot commands' use cases; a letter is
rendered as a dry run and shown before it is queued, and may be changed in ``$EDITOR`` first.
Works at 80x24 and without a mouse.

``screens`` holds the dialogs, ``base`` the layout and what both lists share, ``claims`` the
claim keys, ``app`` the submission keys and the key table.
"""

from __future__ import annotations

import os
from typing import Any

from intake.cli.triage.app import Triage
from intake.cli.workdesk import Desk

__all__ = ["Triage", "run_triage"]


def run_triage(app: Any, *, actor: str, all_statuses: bool, mine: bool, search: str) -> None:
    """Run the desk on this terminal until the editor quits."""
    os.environ.setdefault("ESCDELAY", "25")
    desk = Desk(app, actor, all_statuses=all_statuses, mine=mine, search=search)
    Triage(desk).run()
