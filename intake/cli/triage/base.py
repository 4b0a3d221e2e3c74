"""The desk's screen and what its two lists share: the layout, reading the queue or the claims,
the right pane, the status line, moving, searching, attachments, and the round a letter makes
(shown, perhaps edited, then sent or not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import click
from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Footer, Static

from intake.cli.output import Part, rich_group, rich_part, rich_text
from intake.cli.triage.screens import Ask, HelpView, LetterView
from intake.cli.workdesk import STATUS_WORDS, Desk, Edited, queue_cells
from intake.core.errors import ConfigError, IntakeError
from intake.replies.letters import Change

View = Literal["queue", "claims"]


class DeskBase(App[None]):
    """The desk: a list left (the queue or the claims), the selected one right, a status line
    and the keys at the bottom."""

    TITLE = "intake triage"
    # Every command has its key (? lists them): the footer's room is for the keys.
    ENABLE_COMMAND_PALETTE = False
    CSS = """
    #queue {
        width: 40%; min-width: 30; max-width: 60; height: 100%; border-right: solid $primary;
    }
    #queue.hidden { display: none; }
    #piece { width: 1fr; padding: 0 1; }
    #desk { height: 1fr; }
    #status { height: 1; background: $boost; }
    Ask { align: center middle; }
    #ask { width: 90%; max-width: 90; height: auto; border: round $accent; padding: 0 1; }
    LetterView, HelpView { align: center middle; }
    #letter { width: 96%; max-width: 100; height: 90%; border: round $accent; padding: 0 1; }
    """

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self.view: View = "queue"
        self.rows: list[dict[str, Any]] = []
        self.current: int | None = None  # the selected submission's or claim's id
        self.matched: int | None = None  # the claim's article shown instead of the claim (m)
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
        yield Footer(compact=True)

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

    @property
    def claims(self) -> bool:
        return self.view == "claims"

    @property
    def label(self) -> str:
        """How the status line names the selected one: "#12" or "claim #3"."""
        return f"claim #{self.current}" if self.claims else f"#{self.current}"

    # ------------------------------------------------------------------ the list

    def reload(self, keep: int | None = None) -> None:
        """Read the list again; stay on ``keep`` (else the current one) if still there, else on
        the one that took its place."""
        keep = keep if keep is not None else self.current
        table = self.query_one("#queue", DataTable)
        index = table.cursor_row
        self.rows = self.desk.claims() if self.claims else self.desk.queue()
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
            cells = queue_cells(row, room, claim=self.claims)
            table.add_row(*(rich_text(c) for c in cells), key=str(row["id"]))
        self.sub_title = self._scope()
        if not self.said:
            self.say(f"{self.sub_title}.  / search  ? help")
        if not self.rows:
            self.current = None
            nothing = "No open claims." if self.claims else "Nothing here."
            self.query_one("#detail", Static).update(
                rich_text(f"{nothing} Tab: the other list, / search, g reload, q quit.")
            )
            return
        ids = [row["id"] for row in self.rows]
        position = ids.index(keep) if keep in ids else min(max(index, 0), len(ids) - 1)
        table.move_cursor(row=position)
        self.show_piece(ids[position])

    def _scope(self) -> str:
        """What the list holds, and how many are in the other one."""
        every = self.desk.all_statuses
        search = f", search {self.desk.search!r}" if self.desk.search else ""
        if self.claims:
            what = ("claim" if every else "open claim") + ("s" if len(self.rows) != 1 else "")
            return f"{len(self.rows)} {what}{search}; Tab: the queue ({self.desk.queue_count()})"
        claims = self.desk.open_claims()
        scope = "every status" if every else "open queue"
        other = f"; Tab: {claims} open claim{'s' if claims != 1 else ''}" if claims else ""
        return f"{len(self.rows)} in the {scope}{search}{other}"

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None and int(event.row_key.value) != self.current:
            self.show_piece(int(event.row_key.value))

    def show_piece(self, case_id: int) -> None:
        self.current = case_id
        self.matched = None
        try:
            parts = self.desk.claim_parts(case_id) if self.claims else self.desk.parts(case_id)
        except IntakeError as exc:
            self.query_one("#detail", Static).update(rich_text(exc))
            return
        self.draw(parts)

    def draw(self, parts: list[Part]) -> None:
        self.query_one("#detail", Static).update(rich_group(rich_part(p) for p in parts))
        self.query_one("#piece", VerticalScroll).scroll_home(animate=False)

    def say(self, text: str, *, error: bool = False) -> None:
        self.said = True
        self.query_one("#status", Static).update(rich_text(text, style="bold red" if error else ""))

    # ------------------------------------------------------------------ moving

    def action_switch(self) -> None:
        """Tab: from the queue to the claims and back."""
        self.view = "queue" if self.claims else "claims"
        self.current = None
        self.query_one("#queue", DataTable).move_cursor(row=0)
        self.reload()
        self.refresh_bindings()
        self.say(self.sub_title)

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

    @work(exclusive=True)
    async def action_search(self) -> None:
        what = "claimant, subject and work" if self.claims else "subject, sender and text"
        words = await self.push_screen_wait(
            Ask(f"search {what} (empty: everything):", self.desk.search)
        )
        if words is None:
            return
        self.desk.search = words.strip()
        self.reload()
        self.say(f"{len(self.rows)} found" if self.desk.search else self.sub_title)

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
        line = f"{'claim ' if change.case == 'claim' else ''}#{change.id} {done}"
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

    async def letter_round(
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
    async def action_assign(self) -> None:
        cid = self.current
        if cid is None:
            return
        staff = self.desk.staff
        hint = f" ({', '.join(staff)}; - unassigns)" if staff else " (- unassigns)"
        name = await self.push_screen_wait(Ask(f"assign {self.label} to{hint}:", choices=staff))
        if not name or not name.strip():
            return
        assign = self.desk.assign_claim if self.claims else self.desk.assign
        change = self._run("assign", lambda: assign(cid, name))
        if change is not None:
            self._done(
                change, f"assigned to {name.strip()}" if name.strip() != "-" else "unassigned"
            )

    @work(exclusive=True)
    async def action_note(self) -> None:
        cid = self.current
        if cid is None:
            return
        text = (self.edit_text("") or "").strip()
        if not text:
            self.say("no note written: nothing added")
            return
        note = self.desk.note_claim if self.claims else self.desk.note
        change = self._run("note", lambda: note(cid, text))
        if change is not None:
            self._done(change, "note added")

    @work(exclusive=True)
    async def action_attachment(self, how: str) -> None:
        cid = self.current
        if cid is None:
            return
        claim = self.claims
        count = self._attachment_count(cid)
        if not count:
            self.say(f"{self.label} has no attachments")
            return
        number = "1"
        if count > 1:
            answer = await self.push_screen_wait(
                Ask(f"{how} which attachment of {self.label} (1-{count})?")
            )
            if answer is None:
                return
            number = answer.strip()
        if not number.isdigit():
            self.say(f"not an attachment number: {number!r}", error=True)
            return
        n = int(number)
        if how == "open":
            done = self._run("open", lambda: self.desk.open_attachment(cid, n, claim=claim))
            if done is not None:
                self.say(f"{self.label} attachment {number} opened ({done})")
            return
        folder = await self.push_screen_wait(
            Ask(f"save attachment {number} of {self.label} in folder:", value=str(self.save_folder))
        )
        if not folder:
            return
        self.save_folder = Path(folder).expanduser()
        saved = self._run(
            "save", lambda: self.desk.save_attachment(cid, n, self.save_folder, claim=claim)
        )
        if saved is not None:
            self.say(f"{self.label} attachment {number} saved to {saved}")

    def _attachment_count(self, case_id: int) -> int:
        if self.claims:
            return len(self.desk.claim_detail(case_id)["attachments"])
        return int(next((r["attachment_count"] for r in self.rows if r["id"] == case_id), 0))
