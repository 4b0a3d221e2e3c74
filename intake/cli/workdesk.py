"""What ``intake triage`` does, without the screen: read the queue, the claims and one of
either, and act on them through the same use cases as the one-shot commands (``Editorial``,
``clear_duplicate``, ``Rights``, the attachment helpers), so the same checks, history and
letters apply. The screen (:mod:`intake.cli.triage`) only asks and shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake import store
from intake.cli.claim_views import claim_detail, claim_parts, claim_summary
from intake.cli.output import Part, fit, shown
from intake.cli.show_cmds import open_attachment, save_attachment, show_parts
from intake.cli.views import submission_detail, submission_summary
from intake.core.errors import NotFound
from intake.store import claims as claim_store
from intake.store import conversations as conversation_store
from intake.store import queue as queue_store
from intake.workflow.cases import SYSTEM_ACTOR
from intake.workflow.claim import OPEN_STATUSES as OPEN_CLAIMS
from intake.workflow.claim import Outcome
from intake.workflow.submission import QUEUE_STATUSES, Action

if TYPE_CHECKING:
    from intake.app import App
    from intake.replies.letters import Change
    from intake.rights.actions import Rights
    from intake.submissions.editorial import Editorial

#: The letter an editor saw and perhaps changed: None sends it as the template renders it.
Edited = str | None

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
    # claims
    "investigating": "looking",
    "resolved_removed": "removed",
    "resolved_paid": "paid",
    "resolved_licensed": "licensed",
    "rejected": "rejected",
}
#: What nearly every subject starts with says nothing in a narrow column.
SUBJECT_NOISE = re.compile(
    r"^\s*(?:[【\[(（]\s*)?(?:投稿|来稿|投稿稿件|稿件)(?:\s*[】\])）])?\s*[:：\-—]*\s*"
)
OUTCOMES = tuple(str(o) for o in Outcome)


def queue_cells(row: dict[str, Any], room: int, *, claim: bool = False) -> tuple[str, str, str]:
    """One line of the desk's left pane (id, status, subject in ``room`` cells), made safe:
    a submission of ``intake list --json`` or a claim of ``intake claims --json``.

    Marks before the subject: ⚑ flagged, ! overdue, ✉ the contributor wrote since the desk
    last acted."""
    status = STATUS_WORDS.get(row["status"], row["status"])
    if claim:
        subject = row["work_title"] or row["subject"] or "(no subject)"
        marks = "!" if row["overdue"] else ""
    else:
        subject = SUBJECT_NOISE.sub("", row["subject"]) or row["subject"] or "(no subject)"
        marks = (
            ("⚑" if row["flagged"] else "")
            + ("!" if row["overdue"] else "")
            + ("✉" if row.get("unanswered") else "")
        )
    return str(row["id"]), status, fit((marks + " " if marks else "") + shown(subject), room)


@dataclass
class Desk:
    """One editor's session at the desk: the queue as filtered, and the actions."""

    app: App
    actor: str
    all_statuses: bool = False
    mine: bool = False
    search: str = ""
    _editorial: Editorial | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ reading

    @property
    def staff(self) -> list[str]:
        return list(self.app.settings.desk.staff)

    def queue(self, limit: int = 500) -> list[dict[str, Any]]:
        """The queue as ``intake list --json`` gives it (the open queue unless all_statuses)."""
        filters = self._filters()
        now = self.app.clock()
        with store.reading(self.app.engine) as conn:
            rows = queue_store.list_queue(conn, filters, now=now, limit=limit)
            waiting = conversation_store.unanswered(conn, [r.id for r in rows], SYSTEM_ACTOR)
        # ``unanswered``: the contributor (or someone) wrote since the desk last acted.
        return [
            {**submission_summary(r, r.attachment_count, now), "unanswered": r.id in waiting}
            for r in rows
        ]

    def _filters(self) -> queue_store.QueueFilter:
        return queue_store.QueueFilter(
            statuses=() if self.all_statuses else tuple(QUEUE_STATUSES),
            assignee=self.actor if self.mine else None,
            search=self.search,
        )

    def queue_count(self) -> int:
        """How many :meth:`queue` would list (without its limit)."""
        with store.reading(self.app.engine) as conn:
            return queue_store.count_queue(conn, self._filters(), now=self.app.clock())

    def open_claims(self) -> int:
        with store.reading(self.app.engine) as conn:
            return queue_store.open_claims(conn)

    def detail(self, submission_id: int) -> dict[str, Any]:
        with store.reading(self.app.engine) as conn:
            return submission_detail(conn, submission_id, self.app.clock())

    def parts(self, submission_id: int) -> list[Part]:
        return show_parts(self.detail(submission_id), wide=False)

    def claims(self, limit: int = 500) -> list[dict[str, Any]]:
        """The claims as ``intake claims --json`` gives them, without their history: the open
        ones (unless all_statuses), the nearest deadline first; mine and the search apply."""
        now = self.app.clock()
        with self.app.sessions() as session, session.begin():
            rows = claim_store.list_claims(
                session,
                statuses=() if self.all_statuses else sorted(OPEN_CLAIMS),
                assignee=self.actor if self.mine else None,
                limit=limit,
            )
            found = [claim_summary(c, [], now) for c in rows]
        words = self.search.casefold().split()
        if not words:
            return found
        fields = ("claimant", "claimant_name", "subject", "work_title", "demand", "assignee")
        return [
            c for c in found
            if all(any(w in str(c[f]).casefold() for f in fields) for w in words)
        ]  # fmt: skip

    def claim_detail(self, claim_id: int) -> dict[str, Any]:
        with self.app.sessions() as session, session.begin():
            claim = claim_store.get_claim(session, claim_id)
            return claim_detail(session, claim, self.app.clock())

    def claim_parts(self, claim_id: int) -> list[Part]:
        return claim_parts(self.claim_detail(claim_id), wide=False)

    # ------------------------------------------------------------------ acting

    @property
    def editorial(self) -> Editorial:
        if self._editorial is None:
            from intake.submissions.editorial import Editorial

            app = self.app
            self._editorial = Editorial(app.settings, app.sessions, app.letters, app.clock)
        return self._editorial

    def assign(self, submission_id: int, name: str) -> Change:
        assignee = "" if name.strip() == "-" else name.strip()
        return self.editorial.assign(submission_id, assignee, actor=self.actor)

    def note(self, submission_id: int, text: str) -> Change:
        return self.editorial.note(submission_id, text, actor=self.actor)

    def decide(
        self,
        submission_id: int,
        action: Action,
        *,
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edited: Edited = None,
    ) -> Change:
        """``accept``, ``decline`` or ``request-info`` as the command does it; ``dry_run``
        renders the letter for the editor to read first, ``edited`` is their version of it."""
        return self.editorial.decide(
            submission_id,
            action,
            actor=self.actor,
            message=message,
            notify=notify,
            dry_run=dry_run,
            edit=_fixed(edited),
        )

    def request_copyright(
        self, submission_id: int, *, message: str = "", dry_run: bool = False, edited: Edited = None
    ) -> Change:
        return self.editorial.request_copyright(
            submission_id, actor=self.actor, message=message, dry_run=dry_run, edit=_fixed(edited)
        )

    def reply(
        self, submission_id: int, text: str, *, dry_run: bool = False, edited: Edited = None
    ) -> Change:
        return self.editorial.reply(
            submission_id, text, actor=self.actor, dry_run=dry_run, edit=_fixed(edited)
        )

    def clear_flag(self, submission_id: int) -> Change:
        return self.editorial.clear_flag(submission_id, actor=self.actor)

    def not_duplicate(self, submission_id: int, note: str = "") -> str:
        from intake.submissions.duplicates import clear_duplicate

        app = self.app
        with app.sessions() as session, session.begin():
            done = clear_duplicate(
                session, submission_id, actor=self.actor, now=app.clock(), note=note
            )
        was = f"#{done.was_duplicate_of}" if done.was_duplicate_of else "an earlier submission"
        return f"#{done.submission_id} is no longer a duplicate of {was}"

    # ------------------------------------------------------------------ claims

    @property
    def rights(self) -> Rights:
        from intake.rights.actions import Rights

        app = self.app
        return Rights(app.settings, app.sessions, app.letters, app.clock)

    def assign_claim(self, claim_id: int, name: str) -> Change:
        assignee = "" if name.strip() == "-" else name.strip()
        return self.rights.assign(claim_id, assignee, actor=self.actor)

    def note_claim(self, claim_id: int, text: str) -> Change:
        return self.rights.note(claim_id, text, actor=self.actor)

    def investigate(self, claim_id: int) -> Change:
        return self.rights.investigate(claim_id, actor=self.actor)

    def claim_request_info(
        self,
        claim_id: int,
        *,
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edited: Edited = None,
    ) -> Change:
        """``intake claim request-info``: ask the claimant for evidence."""
        return self.rights.request_info(
            claim_id, actor=self.actor, message=message, notify=notify, dry_run=dry_run,
            edit=_fixed(edited),
        )  # fmt: skip

    def resolve(
        self,
        claim_id: int,
        outcome: str,
        *,
        amount: str = "",
        message: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edited: Edited = None,
    ) -> Change:
        """``intake claim resolve``: removed, paid (an amount), licensed or rejected (why)."""
        return self.rights.resolve(
            claim_id, Outcome(outcome), actor=self.actor, amount=amount, message=message,
            notify=notify, dry_run=dry_run, edit=_fixed(edited),
        )  # fmt: skip

    # ------------------------------------------------------------------ attachments

    def _file(self, case_id: int, number: int, *, claim: bool) -> tuple[bytes, str]:
        if claim:
            with self.app.sessions() as session, session.begin():
                found = claim_store.get_claim(session, case_id)
                row = claim_store.attachment_file(session, found, number)
                blob_path, safe_name = row.blob_path, row.safe_name
        else:
            with store.reading(self.app.engine) as conn:
                record = queue_store.attachment_file(conn, case_id, number)
                blob_path, safe_name = record.blob_path, str(record.safe_name)
        if not blob_path:
            what = "claim" if claim else "submission"
            raise NotFound(f"{what} {case_id}: attachment {number} was not stored")
        return self.app.blobs.get(blob_path), safe_name

    def open_attachment(self, case_id: int, number: int, *, claim: bool = False) -> Path:
        """File ``number`` of a submission (or a claim) handed to the desktop's viewer."""
        payload, name = self._file(case_id, number, claim=claim)
        return open_attachment(payload, name)

    def save_attachment(
        self, case_id: int, number: int, folder: Path, *, claim: bool = False
    ) -> Path:
        payload, name = self._file(case_id, number, claim=claim)
        folder = folder.expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        return save_attachment(payload, name, folder)


def _fixed(edited: Edited) -> Callable[[str], str | None] | None:
    """An editor that gives back the text the editor already wrote (None: no editing)."""
    if edited is None:
        return None
    return lambda _rendered: edited
