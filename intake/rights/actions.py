"""Staff actions on rights holders' claims, one transaction each: the move
(:func:`intake.workflow.cases.move`) and the letter to the claimant
(:class:`intake.replies.letters.Letters`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from intake.replies.letters import (
    Change,
    Editor,
    Letter,
    Prepared,
    StaffActions,
    change_of,
    dry_change,
)
from intake.rights.opening import claim_letter
from intake.store import claims as claim_store
from intake.store.models import Claim
from intake.workflow import cases
from intake.workflow import claim as claimflow
from intake.workflow.claim import ClaimStatus, Outcome, Role

if TYPE_CHECKING:
    from intake.store import Session


class Rights(StaffActions):
    """Claims from the desk's side; each public method is one unit of work."""

    def investigate(
        self, claim_id: int, *, actor: str, message: str = "", dry_run: bool = False
    ) -> Change:
        """Start (or reopen) the investigation of a claim; sends no letter."""
        return self._move(
            claim_id, "investigate", ClaimStatus.INVESTIGATING, None, actor=actor,
            message=message, dry_run=dry_run,
        )  # fmt: skip

    def request_info(
        self,
        claim_id: int,
        *,
        actor: str,
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> Change:
        """Ask the claimant for evidence (``message``, if given, is the request itself)."""
        template = claimflow.NEEDS_INFO_TEMPLATE if notify else None
        return self._move(
            claim_id, "request_info", ClaimStatus.NEEDS_INFO, template, actor=actor,
            message=message, dry_run=dry_run, edit=edit,
        )  # fmt: skip

    def resolve(
        self,
        claim_id: int,
        outcome: Outcome,
        *,
        actor: str,
        amount: str = "",
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> Change:
        """Close a claim as removed, paid (``amount``), licensed or rejected (``message`` is
        the reason), and tell the claimant with the outcome's letter."""
        amount = claimflow.check_amount(outcome, amount)
        claimflow.check_reason(outcome, message)
        template = claimflow.OUTCOME_TEMPLATE[outcome] if notify else None
        return self._move(
            claim_id, f"resolve_{outcome}", claimflow.OUTCOME_STATUS[outcome], template,
            actor=actor, message=message, dry_run=dry_run, edit=edit, amount=amount,
        )  # fmt: skip

    def assign(self, claim_id: int, assignee: str, *, actor: str) -> Change:
        """Give a claim to someone ("" unassigns); the first one starts the investigation."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            moved = cases.assign(session, claim, assignee.strip(), actor=actor, now=now)
            return change_of(claim, "assign", moved.before, moved.after)

    def note(self, claim_id: int, text: str, *, actor: str) -> Change:
        """Add a note to a claim's history; the first one starts the investigation."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            moved = cases.note(session, claim, text, actor=actor, now=now)
            return change_of(claim, "note", moved.before, moved.after)

    def _move(
        self,
        claim_id: int,
        action: str,
        target: ClaimStatus,
        template: str | None,
        *,
        actor: str,
        message: str,
        dry_run: bool,
        edit: Editor | None = None,
        amount: str = "",
    ) -> Change:
        """One move of the table with its event and (when ``template``) its letter."""
        if template is not None:
            self.letters.require()
        prepared = self._prepare(claim_id, target, template, message, amount, dry_run, edit)
        if dry_run:
            with self.sessions() as session, session.begin():
                claim = claim_store.get_claim(session, claim_id)
                claimflow.check_move(claim.id, claim.status, target)
                return dry_change(claim, action, target, prepared)
        now = self.clock()
        with self.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id, for_update=True)
            if amount:
                claim.amount = amount
            note = message.strip()
            if amount:
                note = f"amount {amount}" + (f": {note}" if note else "")
            moved = cases.move(
                session, claim, target, actor=actor, role=Role.STAFF, action=action, now=now,
                note=note,
            )  # fmt: skip
            change = change_of(claim, action, moved.before, moved.after)
            if template is None:
                return change
            letter = claim_letter(self.settings, claim, template, message, amount=amount)
            sent = self.letters.send(
                session, claim, letter, actor=actor, now=now,
                edited=prepared.edited if prepared is not None else None,
            )  # fmt: skip
            return change.with_letter(sent)

    def _prepare(
        self,
        claim_id: int,
        target: ClaimStatus,
        template: str | None,
        message: str,
        amount: str,
        dry_run: bool,
        edit: Editor | None,
    ) -> Prepared | None:
        def load(session: Session) -> tuple[Claim, Letter | None]:
            claim = claim_store.get_claim(session, claim_id)
            claimflow.check_move(claim.id, claim.status, target)
            if template is None:
                return claim, None
            return claim, claim_letter(self.settings, claim, template, message, amount=amount)

        return self.letters.prepare(self.sessions, load, dry_run=dry_run, edit=edit)
