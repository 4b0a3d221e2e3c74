"""The claim keys of the desk: investigate, ask the claimant for evidence, resolve, and the
matched article of ours; each through :class:`intake.rights.actions.Rights`, as ``intake claim
...`` does it, the letter shown first."""

from __future__ import annotations

from textual import work

from intake.cli.triage.base import DeskBase
from intake.cli.triage.screens import Ask
from intake.cli.workdesk import OUTCOMES, Edited
from intake.replies.letters import Change


class ClaimKeys(DeskBase):
    """What only a claim has: the keys of ``intake claim investigate|request-info|resolve``."""

    def action_investigate(self) -> None:
        cid = self.current
        if cid is None:
            return
        change = self._run("investigate", lambda: self.desk.investigate(cid))
        if change is not None:
            self._done(change, "under investigation")

    async def claim_request_info(self, cid: int) -> None:
        note = await self.push_screen_wait(
            Ask(
                f"ask claim #{cid}'s claimant for evidence: your request (Enter: the standard "
                "list, Esc: cancel):"
            )
        )
        if note is None:
            return

        def make(*, dry_run: bool, edited: Edited, notify: bool = True) -> Change:
            return self.desk.claim_request_info(
                cid, message=note, notify=notify, dry_run=dry_run, edited=edited
            )

        title = f"ask claim #{cid} for evidence"
        choice, edited = await self.letter_round(title, make, plain_allowed=True)
        if choice == "cancel":
            self.say("nothing changed")
            return
        notify = choice == "send"
        change = self._run(
            "request info", lambda: make(dry_run=False, edited=edited, notify=notify)
        )
        if change is not None:
            self._done(change, "evidence asked for")

    @work(exclusive=True)
    async def action_resolve(self) -> None:
        cid = self.current
        if cid is None:
            return
        outcome = await self.push_screen_wait(
            Ask(f"resolve claim #{cid} as ({', '.join(OUTCOMES)}):", choices=list(OUTCOMES))
        )
        if not outcome or not outcome.strip():
            return
        outcome = outcome.strip().lower()
        if outcome not in OUTCOMES:
            self.say(f"not an outcome: {outcome!r} (one of {', '.join(OUTCOMES)})", error=True)
            return
        amount = ""
        if outcome == "paid":
            paid = await self.push_screen_wait(Ask(f"claim #{cid}: what was paid?"))
            amount = (paid or "").strip()
            if not amount:
                self.say("nothing changed: paid needs the amount")
                return
        why = "the reason (required)" if outcome == "rejected" else "a note for the letter"
        message = await self.push_screen_wait(
            Ask(f"resolve claim #{cid} as {outcome}: {why} (Enter: none, Esc: cancel):")
        )
        if message is None:
            return

        def make(*, dry_run: bool, edited: Edited, notify: bool = True) -> Change:
            return self.desk.resolve(
                cid, outcome, amount=amount, message=message, notify=notify, dry_run=dry_run,
                edited=edited,
            )  # fmt: skip

        choice, edited = await self.letter_round(
            f"resolve claim #{cid} as {outcome}", make, plain_allowed=True
        )
        if choice == "cancel":
            self.say("nothing changed")
            return
        notify = choice == "send"
        change = self._run("resolve", lambda: make(dry_run=False, edited=edited, notify=notify))
        if change is not None:
            self._done(change, f"resolved ({outcome})")

    def action_matched(self) -> None:
        """The article of ours the claim names, full; again: back to the claim."""
        cid = self.current
        if cid is None:
            return
        if self.matched is not None:
            self.show_piece(cid)
            self.say(f"claim #{cid}")
            return
        detail = self._run("matched article", lambda: self.desk.claim_detail(cid))
        if detail is None:
            return
        linked = detail["linked_submission"]
        if linked is None:
            self.say(f"claim #{cid} names none of our articles (see its links)")
            return
        parts = self._run("matched article", lambda: self.desk.parts(linked["id"]))
        if parts is None:
            return
        self.draw(parts)
        self.matched = linked["id"]
        self.say(f"claim #{cid} names #{linked['id']}; m: back to the claim")
