"""The desk's key table and the submission keys: reply, accept, decline, ask for information,
ask for the copyright licence, not a duplicate, clear the flag; each through the one-shot
command's use case, the letter shown first."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.binding import Binding, BindingType

from intake.cli.triage.claims import ClaimKeys
from intake.cli.triage.screens import Ask
from intake.cli.workdesk import Edited
from intake.replies.letters import Change
from intake.workflow.submission import Action

DECISIONS = {
    Action.ACCEPT: "accept",
    Action.DECLINE: "decline",
    Action.REQUEST_INFO: "ask for information on",
}
#: Keys that only act on a submission, and those that only act on a claim.
QUEUE_ONLY = frozenset({"reply", "decide", "copyright", "not_duplicate", "clear_flag"})
CLAIMS_ONLY = frozenset({"investigate", "resolve", "matched"})


class Triage(ClaimKeys):
    """The desk: the queue or the claims left, the selected one right, one key per action."""

    # At 80 columns the footer holds about ten keys: Tab and / are named on the status line,
    # the rest in the help (?).
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "move(1)", "next", show=False),
        Binding("k,up", "move(-1)", "previous", show=False),
        # Priority: the table would take PgDn/PgUp to move its cursor, Tab to move the focus.
        Binding("pagedown,space", "scroll(1)", "scroll", show=False, priority=True),
        Binding("pageup", "scroll(-1)", "scroll up", show=False, priority=True),
        Binding("tab", "switch", "queue/claims", show=False, priority=True),
        Binding("a", "assign", "assign"),
        Binding("n", "note", "note"),
        Binding("r", "reply", "reply"),
        Binding("y", "decide('accept')", "accept"),
        Binding("d", "decide('decline')", "decline"),
        Binding("i", "ask_info", "ask"),
        Binding("c", "copyright", "rights"),
        Binding("v", "investigate", "investigate"),
        Binding("x", "resolve", "resolve"),
        Binding("m", "matched", "article"),
        Binding("o", "attachment('open')", "open"),
        Binding("s", "attachment('save')", "save", show=False),
        Binding("u", "not_duplicate", "not dup", show=False),
        Binding("f", "clear_flag", "unflag", show=False),
        Binding("slash", "search", "search", show=False),
        Binding("g", "reload", "reload", show=False),
        Binding("z", "zoom", "zoom", show=False),
        Binding("question_mark", "help", "help"),
        Binding("q", "quit", "quit"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A submission's keys do nothing on a claim and the other way round; the footer
        shows only the keys of the list on screen."""
        if action in QUEUE_ONLY:
            return not self.claims
        if action in CLAIMS_ONLY:
            return self.claims
        return True

    @work(exclusive=True)
    async def action_ask_info(self) -> None:
        """i: ask the contributor (or the claimant) for more."""
        cid = self.current
        if cid is None:
            return
        if self.claims:
            await self.claim_request_info(cid)
        else:
            await self.decide(cid, Action.REQUEST_INFO)

    @work(exclusive=True)
    async def action_decide(self, action_name: str) -> None:
        cid = self.current
        if cid is not None:
            await self.decide(cid, Action(action_name))

    async def decide(self, sid: int, action: Action) -> None:
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

        choice, edited = await self.letter_round(f"{verb} #{sid}", make, plain_allowed=True)
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

        choice, edited = await self.letter_round(f"copyright request to #{sid}", make)
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

        choice, edited = await self.letter_round(f"reply to #{sid}", make)
        if choice != "send":
            self.say("no reply sent")
            return
        change = self._run("reply", lambda: make(dry_run=False, edited=edited))
        if change is not None:
            self._done(change, "answered")

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
