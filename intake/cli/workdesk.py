"""What ``intake triage`` does, without the screen: read the queue and one submission, and act
on it through the same use cases as the one-shot commands (``Editorial``, ``clear_duplicate``,
the attachment helpers), so the same checks, history and letters apply. The screen
(:mod:`intake.cli.triage`) only asks and shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from intake import store
from intake.cli.output import Part
from intake.cli.show_cmds import open_attachment, save_attachment, show_parts
from intake.cli.views import submission_detail, submission_summary
from intake.core.errors import NotFound
from intake.store import queue as queue_store
from intake.workflow.submission import QUEUE_STATUSES, Action

if TYPE_CHECKING:
    from intake.app import App
    from intake.replies.letters import Change
    from intake.submissions.editorial import Editorial

#: The letter an editor saw and perhaps changed: None sends it as the template renders it.
Edited = str | None


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
        filters = queue_store.QueueFilter(
            statuses=() if self.all_statuses else tuple(QUEUE_STATUSES),
            assignee=self.actor if self.mine else None,
            search=self.search,
        )
        now = self.app.clock()
        with store.reading(self.app.engine) as conn:
            rows = queue_store.list_queue(conn, filters, now=now, limit=limit)
        return [submission_summary(r, r.attachment_count, now) for r in rows]

    def open_claims(self) -> int:
        with store.reading(self.app.engine) as conn:
            return queue_store.open_claims(conn)

    def detail(self, submission_id: int) -> dict[str, Any]:
        with store.reading(self.app.engine) as conn:
            return submission_detail(conn, submission_id, self.app.clock())

    def parts(self, submission_id: int) -> list[Part]:
        return show_parts(self.detail(submission_id), wide=False)

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

    # ------------------------------------------------------------------ attachments

    def _file(self, submission_id: int, number: int) -> tuple[bytes, str]:
        with store.reading(self.app.engine) as conn:
            row = queue_store.attachment_file(conn, submission_id, number)
        if not row.blob_path:
            raise NotFound(f"submission {submission_id}: attachment {number} was not stored")
        return self.app.blobs.get(row.blob_path), str(row.safe_name)

    def open_attachment(self, submission_id: int, number: int) -> Path:
        payload, name = self._file(submission_id, number)
        return open_attachment(payload, name)

    def save_attachment(self, submission_id: int, number: int, folder: Path) -> Path:
        payload, name = self._file(submission_id, number)
        folder = folder.expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        return save_attachment(payload, name, folder)


def _fixed(edited: Edited) -> Callable[[str], str | None] | None:
    """An editor that gives back the text the editor already wrote (None: no editing)."""
    if edited is None:
        return None
    return lambda _rendered: edited
