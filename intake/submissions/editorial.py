"""Editorial use case: apply one staff action on a submission (a decision, an assignment, a note,
a rights request) in one transaction: the move (:func:`intake.workflow.cases.move`), and the
letter to the contributor (:class:`intake.replies.letters.Letters`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from intake.core.config import Settings
from intake.core.errors import UsageError
from intake.replies.letters import (
    Change,
    Editor,
    Letter,
    Prepared,
    StaffActions,
    change_of,
    dry_change,
    recipient,
)
from intake.store import editorial as editorial_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.workflow import cases
from intake.workflow import submission as workflow
from intake.workflow.submission import Action, CopyrightStatus, Role, Status

if TYPE_CHECKING:
    from intake.store import Session


class Editorial(StaffActions):
    """Staff actions on submissions; each public method is one unit of work."""

    # ------------------------------------------------------------------ decisions

    def decide(
        self,
        submission_id: int,
        action: Action,
        *,
        actor: str,
        message: str = "",
        url: str = "",
        notify: bool = True,
        dry_run: bool = False,
        edit: Editor | None = None,
        role: Role = Role.STAFF,
    ) -> Change:
        """Move a submission as ``action`` says and (unless ``notify`` is off) tell the
        contributor with the action's template, ``message`` added as the editor's note."""
        target = workflow.ACTION_TARGET[action]
        template = workflow.ACTION_TEMPLATE[action] if notify else None
        url = url.strip()
        if action is Action.PUBLISH:
            # A print-only piece has no address: the editor's note says where it ran.
            if url and not url.startswith(("https://", "http://")):
                raise UsageError(f"publish: --url must be an http(s) address, not {url!r}")
            if not url and not message.strip():
                raise UsageError(
                    "publish needs --url with the article's address, or for a piece that "
                    "appeared in print only, --note saying where (-m)"
                )
        if template is not None:
            self.letters.require()

        def check(session: Session, submission: Submission) -> None:
            workflow.check_move(submission.id, submission.status, target, role)
            if target is Status.PUBLISHED:
                waived = submission.copyright_status == CopyrightStatus.WAIVED
                workflow.check_rights(
                    submission.id,
                    submission.copyright_status,
                    waiver_noted=waived and editorial_store.waiver_noted(session, submission.id),
                )

        def letter(_session: Session, submission: Submission) -> Letter | None:
            if template is None:
                return None
            context: dict[str, object] = {"note": message.strip()}
            if action is Action.PUBLISH:
                context["url"] = url
            return Letter(template, recipient(submission), context)

        prepared = self._prepare(submission_id, check, letter, dry_run, edit)
        if dry_run:
            return self._dry(submission_id, action.value, target, check, prepared)
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            check(session, submission)
            note = f"{url} {message.strip()}".strip() if action is Action.PUBLISH else message
            moved = cases.move(
                session, submission, target, actor=actor, role=role, action=action.value,
                now=now, note=note.strip(),
            )  # fmt: skip
            if action is Action.PUBLISH and url:
                editorial_store.set_published_url(submission, url, now=now)
            change = change_of(submission, action.value, moved.before, moved.after)
            wanted = letter(session, submission)
            if wanted is not None:
                sent = self.letters.send(
                    session, submission, wanted, actor=actor, now=now,
                    edited=prepared.edited if prepared else None,
                )  # fmt: skip
                change = change.with_letter(sent)
            if action is Action.ACCEPT and self.settings.replies.copyright_request == "on-accept":
                self._request_on_accept(session, submission, now=now)
        return change

    def request_copyright(
        self,
        submission_id: int,
        *,
        actor: str,
        message: str = "",
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> Change:
        """Send (or send again) the copyright request and mark the rights as requested."""
        self.letters.require()

        def check(_session: Session, submission: Submission) -> None:
            workflow.check_copyright_request(submission.id, submission.copyright_status)

        def letter(_session: Session, submission: Submission) -> Letter:
            return Letter("copyright_request", recipient(submission), {"note": message.strip()})

        prepared = self._prepare(submission_id, check, letter, dry_run, edit)
        if dry_run:
            return self._dry(submission_id, "copyright_request", None, check, prepared)
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            check(session, submission)
            # The event's from/to are copyright statuses here: its action says so.
            cases.move(
                session, submission, CopyrightStatus.REQUESTED, actor=actor, role=Role.STAFF,
                action="copyright_request", now=now, note=message.strip(),
            )  # fmt: skip
            same = submission.status
            sent = self.letters.send(
                session, submission, letter(session, submission), actor=actor, now=now,
                edited=prepared.edited if prepared else None,
            )  # fmt: skip
            return change_of(submission, "copyright_request", same, same).with_letter(sent)

    def _request_on_accept(
        self, session: Session, submission: Submission, *, now: datetime
    ) -> None:
        """``replies.copyright_request = "on-accept"``: an accepted piece's rights are asked for
        now, unless they were asked for (or settled) already."""
        if submission.copyright_status != CopyrightStatus.NOT_REQUESTED:
            return
        cases.move(
            session, submission, CopyrightStatus.REQUESTED, actor=cases.SYSTEM_ACTOR,
            role=Role.SYSTEM, action="copyright_request", now=now, note="on acceptance",
        )  # fmt: skip
        self.letters.send(
            session, submission, Letter("copyright_request", recipient(submission)),
            actor=cases.SYSTEM_ACTOR, now=now,
        )  # fmt: skip

    # ------------------------------------------------------------------ assignment and notes

    def assign(self, submission_id: int, assignee: str, *, actor: str) -> Change:
        """Give a submission to an editor ("" unassigns); the first one starts the review.

        With ``[desk] staff`` set, only those names may be given work.
        """
        assignee = assignee.strip()
        check_staff(self.settings, assignee)
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            moved = cases.assign(session, submission, assignee, actor=actor, now=now)
            return change_of(submission, "assign", moved.before, moved.after)

    def note(self, submission_id: int, text: str, *, actor: str) -> Change:
        """Add a staff note to the history; the first one starts the review."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            moved = cases.note(session, submission, text, actor=actor, now=now)
            return change_of(submission, "note", moved.before, moved.after)

    def clear_flag(self, submission_id: int, *, actor: str, note: str = "") -> Change:
        """Take the flag off a submission staff have looked at (the history keeps why it was
        raised and who cleared it)."""
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            if not submission.flagged:
                raise UsageError(f"submission {submission_id} is not flagged")
            cases.unflag(session, submission, actor=actor, now=now, note=note.strip())
            same = submission.status
            return change_of(submission, "unflag", same, same)

    # ------------------------------------------------------------------ answering

    def reply(
        self,
        submission_id: int,
        text: str,
        *,
        actor: str,
        dry_run: bool = False,
        edit: Editor | None = None,
    ) -> Change:
        """Write to the contributor in the editor's own words, threaded under their latest
        message, without changing the submission's status (RT's correspond)."""
        text = text.strip()
        if not text and edit is None:
            raise UsageError("an empty answer says nothing: give -m TEXT or --edit")
        self.letters.require()

        def check(_session: Session, _submission: Submission) -> None:
            return None  # a contributor may be answered whatever the status

        def letter(session: Session, submission: Submission) -> Letter:
            parent = editorial_store.latest_from_contributor(session, submission)
            return Letter("reply", recipient(submission), {"note": text}, in_reply_to_pk=parent)

        prepared = self._prepare(submission_id, check, letter, dry_run, edit)
        if not text and (prepared is None or _unchanged(prepared)):
            raise UsageError("nothing was written: no answer sent")
        if dry_run:
            return self._dry(submission_id, "reply", None, check, prepared)
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            same = submission.status
            sent = self.letters.send(
                session, submission, letter(session, submission), actor=actor, now=now,
                edited=prepared.edited if prepared else None,
            )  # fmt: skip
            submission.updated_at = now
            return change_of(submission, "reply", same, same).with_letter(sent)

    # ------------------------------------------------------------------ helpers

    def _prepare(
        self,
        submission_id: int,
        check: Callable[[Session, Submission], None],
        letter: Callable[[Session, Submission], Letter | None],
        dry_run: bool,
        edit: Editor | None,
    ) -> Prepared | None:
        def load(session: Session) -> tuple[Submission, Letter | None]:
            submission = submission_store.get_submission(session, submission_id)
            check(session, submission)
            return submission, letter(session, submission)

        return self.letters.prepare(self.sessions, load, dry_run=dry_run, edit=edit)

    def _dry(
        self,
        submission_id: int,
        action: str,
        target: Status | None,
        check: Callable[[Session, Submission], None],
        prepared: Prepared | None,
    ) -> Change:
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id)
            check(session, submission)
            return dry_change(submission, action, target, prepared)


def check_staff(settings: Settings, assignee: str) -> None:
    """``[desk] staff`` names who may be given work; any name when it is empty."""
    staff = settings.desk.staff
    if assignee and staff and assignee not in staff:
        raise UsageError(f"{assignee!r} is not on the desk's staff list ({', '.join(staff)})")


def _unchanged(prepared: Prepared) -> bool:
    edited = prepared.edited
    return edited is None or edited.text.strip() == prepared.preview.text.strip()
