"""``intake triage``: the morning round on one screen (Textual; the only module importing it).

The open queue on the left, the selected piece on the right (drawn from the same parts as
``intake show``, so every contributor string passes :func:`intake.cli.output.shown`), one key
per action. Actions are :class:`intake.cli.workdesk.Desk`'s, the one-shot commands' use cases;
a letter is rendered as a dry run and shown before it is queued, and may be changed in
``$EDITOR`` first. Works at 80x24 and without a mouse.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, ClassVar

import click
from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Input, Static

from intake.cli.output import fit, rich_group, rich_part, rich_text, shown
from intake.cli.workdesk import Desk, Edited
from intake.core.errors import ConfigError, IntakeError
from intake.replies.letters import Change
from intake.workflow.submission import Action

#: Short status words for the narrow queue pane (the detail pane spells them out).
STATUS_WORDS = {
    "received": "new",
    "in_review": "review",
    "needs_info": "asked",
    "accepted": "accepted",
    "declined": "declined",
    "published": "published",
    "withdrawn": "withdrawn",
    "duplicate": "dup",
}
#: What nearly every subject starts with says nothing in a narrow column.
SUBJECT_NOISE = re.compile(
    r"^\s*(?:[【\[(（]\s*)?(?:投稿|来稿|投稿稿件|稿件)(?:\s*[】\])）])?\s*[:：\-—]?\s*"
)
DECISIONS = {
    Action.ACCEPT: "accept",
    Action.DECLINE: "decline",
    Action.REQUEST_INFO: "ask for information on",
}
HELP = """\
keys
  j ↓ / k ↑    next / previous piece        PgDn PgUp   scroll the piece
  a            assign (to a name on the desk's staff list, "-" unassigns)
  n            add a note (written in $EDITOR)
  r            reply to the contributor in your own words ($EDITOR)
  y / d / i    accept / decline / ask for more information (letter shown first)
  c            ask for the copyright licence (letter shown first)
  o / s        open an attachment (xdg-open) / save it to a folder
  u            not a duplicate after all     f   clear the flag
  /            search (empty: the whole queue)   g  reload   z  piece full width
  q            quit                          ?   this help

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


class Triage(App[None]):
    """The desk: queue left, piece right, status line and keys at the bottom."""

    TITLE = "intake triage"
    CSS = """
    #queue { width: 40%; min-width: 30; max-width: 60; border-right: solid $primary; }
    #queue.hidden { display: none; }
    #piece { width: 1fr; padding: 0 1; }
    #desk { height: 1fr; }
    #status { height: 1; background: $boost; }
    Ask { align: center middle; }
    #ask { width: 90%; max-width: 90; height: auto; border: round $accent; padding: 0 1; }
    LetterView, HelpView { align: center middle; }
    #letter { width: 96%; max-width: 100; height: 90%; border: round $accent; padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "next", show=False),
        Binding("k,up", "move(-1)", "previous", show=False),
        # Priority: the queue table would take PgDn/PgUp to move its cursor instead.
        Binding("pagedown,space", "scroll(1)", "scroll", show=False, priority=True),
        Binding("pageup", "scroll(-1)", "scroll up", show=False, priority=True),
        Binding("a", "assign", "assign"),
        Binding("n", "note", "note"),
        Binding("r", "reply", "reply"),
        Binding("y", "decide('accept')", "accept"),
        Binding("d", "decide('decline')", "decline"),
        Binding("i", "decide('request_info')", "info?"),
        Binding("c", "copyright", "rights"),
        Binding("o", "attachment('open')", "open"),
        Binding("s", "attachment('save')", "save", show=False),
        Binding("u", "not_duplicate", "not dup", show=False),
        Binding("f", "clear_flag", "unflag", show=False),
        Binding("slash", "search", "search"),
        Binding("g", "reload", "reload", show=False),
        Binding("z", "zoom", "zoom", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.rows: list[dict[str, Any]] = []
        self.current: int | None = None
        self.save_folder = Path.cwd()
        self.said = False  # the status line has said something since the start

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="desk"):
            table: DataTable[Any] = DataTable(id="queue", cursor_type="row", zebra_stripes=True)
            yield table
            with VerticalScroll(id="piece"):
                yield Static(id="detail")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#queue", DataTable)
        table.add_column("id", key="id")
        table.add_column("status", key="status")
        table.add_column("subject", key="subject")
        table.focus()
        # After the first layout, so the queue pane knows its width.
        self.call_after_refresh(self.reload)

    def on_resize(self) -> None:
        # The subject column's room depends on the width.
        self.call_after_refresh(self.reload)

    # ------------------------------------------------------------------ the queue

    def reload(self, keep: int | None = None) -> None:
        """Read the queue again; stay on ``keep`` (else the current piece) if still there,
        else on the piece that took its place."""
        keep = keep if keep is not None else self.current
        table = self.query_one("#queue", DataTable)
        index = table.cursor_row
        self.rows = self.desk.queue()
        table.clear()
        # The subject column takes what the pane has left after the id and the status.
        widest_id = max((len(str(row["id"])) for row in self.rows), default=2)
        widest_status = max(
            (len(STATUS_WORDS.get(row["status"], row["status"])) for row in self.rows), default=6
        )
        # As the CSS lays the pane out; each column pads a cell on either side.
        pane = min(max(30, self.size.width * 2 // 5), 60) - 1
        room = max(12, pane - max(2, widest_id) - widest_status - 9)
        for row in self.rows:
            subject = SUBJECT_NOISE.sub("", row["subject"]) or row["subject"] or "(no subject)"
            marks = ("⚑" if row["flagged"] else "") + ("!" if row["overdue"] else "")
            table.add_row(
                rich_text(row["id"]),
                rich_text(STATUS_WORDS.get(row["status"], row["status"])),
                rich_text(fit((marks + " " if marks else "") + shown(subject), room)),
                key=str(row["id"]),
            )
        claims = self.desk.open_claims()
        scope = "every status" if self.desk.all_statuses else "open queue"
        if self.desk.search:
            scope += f", search {self.desk.search!r}"
        self.sub_title = f"{len(self.rows)} in the {scope}" + (
            f"; {claims} open claim{'s' if claims != 1 else ''} (intake claims)" if claims else ""
        )
        if not self.said:
            self.say(f"{self.sub_title}.  ? for help")
        if not self.rows:
            self.current = None
            self.query_one("#detail", Static).update(
                rich_text("Nothing here. / to search, g to reload, q to quit.")
            )
            return
        ids = [row["id"] for row in self.rows]
        position = ids.index(keep) if keep in ids else min(max(index, 0), len(ids) - 1)
        table.move_cursor(row=position)
        self.show_piece(ids[position])

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and int(event.row_key.value) != self.current:
            self.show_piece(int(event.row_key.value))

    def show_piece(self, submission_id: int) -> None:
        self.current = submission_id
        try:
            parts = self.desk.parts(submission_id)
        except IntakeError as exc:
            self.query_one("#detail", Static).update(rich_text(exc))
            return
        self.query_one("#detail", Static).update(rich_group(rich_part(p) for p in parts))
        self.query_one("#piece", VerticalScroll).scroll_home(animate=False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.said = True
        self.query_one("#status", Static).update(rich_text(text, style="bold red" if error else ""))

    # ------------------------------------------------------------------ moving

    def action_move(self, step: int) -> None:
        table = self.query_one("#queue", DataTable)
        if self.rows:
            table.move_cursor(row=min(max(table.cursor_row + step, 0), len(self.rows) - 1))

    def action_scroll(self, pages: int) -> None:
        piece = self.query_one("#piece", VerticalScroll)
        if pages > 0:
            piece.scroll_page_down(animate=False)
        else:
            piece.scroll_page_up(animate=False)

    def action_zoom(self) -> None:
        self.query_one("#queue", DataTable).toggle_class("hidden")

    def action_reload(self) -> None:
        self.reload()
        self.say("reloaded")

    def action_help(self) -> None:
        self.push_screen(HelpView())

    # ------------------------------------------------------------------ acting

    def _run(self, what: str, act: Any) -> Any:
        """Run one use case; its refusal (a wrong move, an unknown name) is the status line."""
        try:
            return act()
        except ConfigError as exc:
            self.say(f"{what}: {exc}", error=True)
        except IntakeError as exc:
            self.say(f"{what}: {exc}", error=True)
        return None

    def _done(self, change: Change, done: str) -> None:
        line = f"#{change.id} {done}"
        if change.moved:
            line += f": {change.from_status} -> {change.to_status}"
        if change.outbox_id is not None and change.reply is not None:
            line += f"; letter {change.reply.template} queued (outbox #{change.outbox_id})"
        elif change.skipped:
            line += f"; no letter: {change.skipped}"
        self.say(line)
        self.reload(change.id)

    def edit_text(self, text: str) -> str | None:
        """``text`` in $EDITOR; None when the editor quits without saving."""
        try:
            with self.suspend():
                return click.edit(text, extension=".txt", require_save=True)
        except SuspendNotSupported:  # no terminal to give away (a test's headless screen)
            return click.edit(text, extension=".txt", require_save=True)

    @work(exclusive=True)
    async def action_assign(self) -> None:
        sid = self.current
        if sid is None:
            return
        staff = self.desk.staff
        hint = f" ({', '.join(staff)}; - unassigns)" if staff else " (- unassigns)"
        name = await self.push_screen_wait(Ask(f"assign #{sid} to{hint}:", choices=staff))
        if not name or not name.strip():
            return
        change = self._run("assign", lambda: self.desk.assign(sid, name))
        if change is not None:
            self._done(
                change, f"assigned to {name.strip()}" if name.strip() != "-" else "unassigned"
            )

    @work(exclusive=True)
    async def action_note(self) -> None:
        sid = self.current
        if sid is None:
            return
        text = (self.edit_text("") or "").strip()
        if not text:
            self.say("no note written: nothing added")
            return
        change = self._run("note", lambda: self.desk.note(sid, text))
        if change is not None:
            self._done(change, "note added")

    async def _letter_round(
        self, title: str, make: Any, *, plain_allowed: bool = False
    ) -> tuple[str, Edited]:
        """Show the letter ``make(dry_run=True, edited=…)`` renders until the editor sends,
        changes it in $EDITOR, acts without it, or cancels: (choice, their text)."""
        edited: Edited = None
        while True:
            preview = self._run(title, lambda text=edited: make(dry_run=True, edited=text))
            if preview is None:
                return "cancel", None
            choice = await self.push_screen_wait(
                LetterView(title, preview, plain_allowed=plain_allowed)
            )
            if choice != "edit":
                return choice, edited
            rendered = preview.reply.text if preview.reply is not None else ""
            changed = self.edit_text(rendered)
            if changed is not None and changed.strip():
                edited = changed.strip() + "\n"

    @work(exclusive=True)
    async def action_decide(self, action_name: str) -> None:
        sid = self.current
        if sid is None:
            return
        action = Action(action_name)
        verb = DECISIONS[action]
        note = await self.push_screen_wait(
            Ask(f"{verb} #{sid}: a note for the letter (Enter: none, Esc: cancel):")
        )
        if note is None:
            return

        def make(*, dry_run: bool, edited: Edited, notify: bool = True) -> Change:
            return self.desk.decide(
                sid, action, message=note, notify=notify, dry_run=dry_run, edited=edited
            )

        choice, edited = await self._letter_round(f"{verb} #{sid}", make, plain_allowed=True)
        if choice == "cancel":
            self.say("nothing changed")
            return
        notify = choice == "send"
        change = self._run(verb, lambda: make(dry_run=False, edited=edited, notify=notify))
        if change is not None:
            self._done(change, action.value.replace("_", " "))

    @work(exclusive=True)
    async def action_copyright(self) -> None:
        sid = self.current
        if sid is None:
            return
        note = await self.push_screen_wait(
            Ask(f"ask #{sid} for the copyright licence: a note (Enter: none, Esc: cancel):")
        )
        if note is None:
            return

        def make(*, dry_run: bool, edited: Edited) -> Change:
            return self.desk.request_copyright(sid, message=note, dry_run=dry_run, edited=edited)

        choice, edited = await self._letter_round(f"copyright request to #{sid}", make)
        if choice != "send":
            self.say("nothing changed")
            return
        change = self._run("copyright", lambda: make(dry_run=False, edited=edited))
        if change is not None:
            self._done(change, "copyright requested")

    @work(exclusive=True)
    async def action_reply(self) -> None:
        sid = self.current
        if sid is None:
            return
        words = (self.edit_text("") or "").strip()
        if not words:
            self.say("nothing written: no reply sent")
            return

        def make(*, dry_run: bool, edited: Edited) -> Change:
            return self.desk.reply(sid, words, dry_run=dry_run, edited=edited)

        choice, edited = await self._letter_round(f"reply to #{sid}", make)
        if choice != "send":
            self.say("no reply sent")
            return
        change = self._run("reply", lambda: make(dry_run=False, edited=edited))
        if change is not None:
            self._done(change, "answered")

    @work(exclusive=True)
    async def action_attachment(self, how: str) -> None:
        sid = self.current
        if sid is None:
            return
        count = next((r["attachment_count"] for r in self.rows if r["id"] == sid), 0)
        if not count:
            self.say(f"#{sid} has no attachments")
            return
        number = "1"
        if count > 1:
            answer = await self.push_screen_wait(
                Ask(f"{how} which attachment of #{sid} (1-{count})?")
            )
            if answer is None:
                return
            number = answer.strip()
        if not number.isdigit():
            self.say(f"not an attachment number: {number!r}", error=True)
            return
        if how == "open":
            done = self._run("open", lambda: self.desk.open_attachment(sid, int(number)))
            if done is not None:
                self.say(f"#{sid} attachment {number} opened ({done})")
            return
        folder = await self.push_screen_wait(
            Ask(f"save attachment {number} of #{sid} in folder:", value=str(self.save_folder))
        )
        if not folder:
            return
        self.save_folder = Path(folder).expanduser()
        saved = self._run(
            "save", lambda: self.desk.save_attachment(sid, int(number), self.save_folder)
        )
        if saved is not None:
            self.say(f"#{sid} attachment {number} saved to {saved}")

    @work(exclusive=True)
    async def action_not_duplicate(self) -> None:
        sid = self.current
        if sid is None:
            return
        why = await self.push_screen_wait(Ask(f"#{sid} is not a duplicate: why (Enter: no note)?"))
        if why is None:
            return
        done = self._run("not a duplicate", lambda: self.desk.not_duplicate(sid, why.strip()))
        if done is not None:
            self.say(done)
            self.reload(sid)

    def action_clear_flag(self) -> None:
        sid = self.current
        if sid is None:
            return
        change = self._run("flag", lambda: self.desk.clear_flag(sid))
        if change is not None:
            self._done(change, "flag cleared")

    @work(exclusive=True)
    async def action_search(self) -> None:
        words = await self.push_screen_wait(
            Ask("search subject, sender and text (empty: the whole queue):", self.desk.search)
        )
        if words is None:
            return
        self.desk.search = words.strip()
        self.reload()
        self.say(f"{len(self.rows)} found" if self.desk.search else "the whole queue")


def run_triage(app: Any, *, actor: str, all_statuses: bool, mine: bool, search: str) -> None:
    """Run the desk on this terminal until the editor quits."""
    os.environ.setdefault("ESCDELAY", "25")
    desk = Desk(app, actor, all_statuses=all_statuses, mine=mine, search=search)
    Triage(desk).run()
