"""The desk's dialogs: one line of input, a letter before it is queued, the help."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static

from intake.cli.output import rich_group, rich_text
from intake.replies.letters import Change

HELP = """\
Tab switches between the open queue and the open copyright claims.

both lists
  j ↓ / k ↑    next / previous              PgDn PgUp   scroll the right pane
  a            assign (to a name on the desk's staff list, "-" unassigns)
  n            add a note (written in $EDITOR)
  i            ask for more information (letter shown first)
  o / s        open an attachment (xdg-open) / save it to a folder
  /            search (empty: everything)   g  reload   z  right pane full width
  q            quit                          ?   this help

the queue (submissions)
  r            reply to the contributor in your own words ($EDITOR)
  y / d        accept / decline (letter shown first)
  c            ask for the copyright licence (letter shown first)
  u            not a duplicate after all     f   clear the flag
  marks: ⚑ flagged  ! past its decision date  ✉ mail since the desk last acted

the claims
  v            investigate (no letter)
  x            resolve: removed, paid, licensed or rejected (letter shown first)
  m            the matched article of ours, and back

Before a letter is queued it is shown: Enter sends it, e edits it in $EDITOR,
w does the action without a letter, Esc changes nothing."""


class Ask(ModalScreen[str | None]):
    """One line of input; Enter answers, Escape cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, prompt: str, value: str = "", choices: list[str] | None = None) -> None:
        super().__init__()
        self.prompt = prompt
        self.value = value
        self.choices = choices or []

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Static(rich_text(self.prompt))
            suggester = SuggestFromList(self.choices) if self.choices else None
            yield Input(value=self.value, suggester=suggester, id="answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class LetterView(ModalScreen[str]):
    """A letter before it is queued: send, edit, act without it, or cancel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,y", "choose('send')", "send"),
        Binding("e", "choose('edit')", "edit"),
        Binding("w", "choose('plain')", "without letter"),
        Binding("escape,q", "choose('cancel')", "cancel"),
    ]

    def __init__(self, title: str, change: Change, *, plain_allowed: bool) -> None:
        super().__init__()
        self.title_text = title
        self.change = change
        self.plain_allowed = plain_allowed

    def compose(self) -> ComposeResult:
        reply = self.change.reply
        head = rich_text(self.title_text, style="bold")
        if reply is None:
            body = rich_group([head, rich_text("(no letter would be sent)")])
        else:
            keys = "Enter send · e edit · " + ("w without letter · " if self.plain_allowed else "")
            body = rich_group(
                [
                    head,
                    rich_text(f"To: {reply.to}"),
                    rich_text(f"Subject: {reply.subject}"),
                    rich_text(""),
                    rich_text(reply.text.rstrip("\n"), multiline=True),
                    rich_text(""),
                    rich_text(keys + "Esc cancel", style="dim"),
                ]
            )
        with VerticalScroll(id="letter"):
            yield Static(body)

    def action_choose(self, choice: str) -> None:
        if choice == "plain" and not self.plain_allowed:
            return
        self.dismiss(choice)


class HelpView(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "close", "close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="letter"):
            yield Static(rich_text(HELP, multiline=True))

    def action_close(self) -> None:
        self.dismiss(None)
