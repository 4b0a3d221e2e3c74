"""Editorial use case: apply one staff action (a decision, an assignment, a note, a rights
request) in one transaction: the move, its audit event, and the reply to the contributor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from intake.core.config import Settings
from intake.core.errors import UsageError
from intake.core.mail import Address
from intake.store import editorial as editorial_store
from intake.store import submissions as submission_store
from intake.store.models import Submission
from intake.workflow import submission as workflow
from intake.workflow.submission import Action, CopyrightStatus, Role, Status

#: Called with the rendered reply text; returns the text to send, or None to keep it as is.
Editor = Callable[[str], str | None]


class Queued(Protocol):
    """What :meth:`ReplyQueue.queue` answers (``intake.replies.outbox.Queued``)."""

    @property
    def outbox_id(self) -> int | None: ...

    @property
    def skipped(self) -> str: ...


class ReplyQueue(Protocol):
    """The part of ``intake.replies.outbox.Replier`` this use case needs."""

    def queue(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
        in_reply_to_pk: int | None = None,
        automatic: bool = True,
    ) -> Queued: ...

    def render_preview(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
    ) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Reply:
    """A reply as the contributor will read it: recipient, subject, plain text."""

    template: str
    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    """What one staff action did (or, for a dry run, would do)."""

    submission_id: int
    action: str
    from_status: str
    to_status: str  # the same as from_status when the status did not move
    reply: Reply | None = None  # the reply queued or, for a dry run, the one that would be
    outbox_id: int | None = None
    skipped: str = ""  # why no reply was queued although one was asked for
    dry_run: bool = False

    @property
    def moved(self) -> bool:
        return self.from_status != self.to_status


class Editorial:
    """Staff actions on submissions; each public method is one unit of work."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        replier: ReplyQueue | None,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.replier = replier
        self.clock = clock

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
        if action is Action.PUBLISH and not url.startswith(("https://", "http://")):
            raise UsageError("publish needs --url with the article's http(s) address")
        extra: dict[str, object] = {"url": url} if action is Action.PUBLISH else {}

        def check(session: Session, submission: Submission) -> None:
            workflow.check_move(submission.id, submission.status, target, role)
            if target is Status.PUBLISHED:
                waived = submission.copyright_status == CopyrightStatus.WAIVED
                workflow.check_rights(
                    submission.id,
                    submission.copyright_status,
                    waiver_noted=waived and editorial_store.waiver_noted(session, submission.id),
                )

        preview, edited = self._prepare(
            submission_id, check, template, message, extra, dry_run, edit
        )
        if dry_run:
            return self._dry(submission_id, action.value, target, check, preview, edited)

        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            check(session, submission)
            before = submission.status
            editorial_store.move(
                submission,
                target,
                now=now,
                decided_at=workflow.decided_at_after(target, submission.decided_at, now),
                clear_duplicate=target is Status.IN_REVIEW and before == Status.DUPLICATE,
            )
            if action is Action.PUBLISH:
                editorial_store.set_published_url(submission, url, now=now)
            note = message.strip()
            if action is Action.PUBLISH:
                note = f"{url} {note}".strip()
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action=action.value,
                submission_id=submission.id,
                from_status=before,
                to_status=target,
                note=note,
            )
            change = Change(submission.id, action.value, before, target)
            if template is not None:
                change = self._queue(
                    session,
                    submission,
                    change,
                    template,
                    message,
                    extra,
                    edited,
                    actor=actor,
                    now=now,
                )
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
        template = "copyright_request"
        now = self.clock()

        def check(_session: Session, submission: Submission) -> None:
            workflow.check_copyright_request(submission.id, submission.copyright_status)

        extra: dict[str, object] = {}
        preview, edited = self._prepare(
            submission_id, check, template, message, extra, dry_run, edit
        )
        if dry_run:
            return self._dry(submission_id, "copyright_request", None, check, preview, edited)
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            check(session, submission)
            before = submission.copyright_status
            editorial_store.mark_copyright_requested(submission, CopyrightStatus.REQUESTED, now=now)
            # The event's from/to are copyright statuses here: its action says so.
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="copyright_request",
                submission_id=submission.id,
                from_status=before,
                to_status=CopyrightStatus.REQUESTED,
                note=message.strip(),
            )
            same = submission.status
            change = Change(submission.id, "copyright_request", same, same)
            change = self._queue(
                session, submission, change, template, message, extra, edited, actor=actor, now=now
            )
        return change

    # ------------------------------------------------------------------ assignment and notes

    def assign(self, submission_id: int, assignee: str, *, actor: str) -> Change:
        """Give a submission to an editor ("" unassigns); the first one starts the review."""
        assignee = assignee.strip()
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            before = submission.status
            if assignee == submission.assignee:
                raise UsageError(
                    f"submission {submission_id} is already "
                    + (f"assigned to {assignee}" if assignee else "unassigned")
                )
            after = self._touch(submission, now) if assignee else before
            previous = submission.assignee
            editorial_store.set_assignee(submission, assignee, now=now)
            if assignee:
                note = f"assigned to {assignee}" + (f" (was {previous})" if previous else "")
            else:
                note = f"unassigned (was {previous})"
            self._event(session, submission, "assign", before, after, note, actor, now)
            return Change(submission.id, "assign", before, after)

    def note(self, submission_id: int, text: str, *, actor: str) -> Change:
        """Add a staff note to the history; the first one starts the review."""
        text = text.strip()
        if not text:
            raise UsageError("an empty note says nothing: give the note's text")
        now = self.clock()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id, for_update=True)
            before = submission.status
            after = self._touch(submission, now)
            self._event(session, submission, "note", before, after, text, actor, now)
            return Change(submission.id, "note", before, after)

    # ------------------------------------------------------------------ helpers

    def _touch(self, submission: Submission, now: datetime) -> str:
        target = workflow.first_touch(submission.status)
        if target is None:
            return submission.status
        editorial_store.move(
            submission,
            target,
            now=now,
            decided_at=workflow.decided_at_after(target, submission.decided_at, now),
        )
        return target

    @staticmethod
    def _event(
        session: Session,
        submission: Submission,
        action: str,
        before: str,
        after: str,
        note: str,
        actor: str,
        now: datetime,
    ) -> None:
        moved = before != after
        submission_store.add_event(
            session,
            at=now,
            actor=actor,
            action=action,
            submission_id=submission.id,
            from_status=before if moved else "",
            to_status=after if moved else "",
            note=note,
        )

    @staticmethod
    def _context(message: str, extra: Mapping[str, object]) -> dict[str, object]:
        # Only what this action adds: the Replier fills in the rest (site, number, title,
        # recipient's name, the copyright terms), the same for every reply.
        return {"note": message.strip(), **extra}

    def _require_replier(self) -> ReplyQueue:
        if self.replier is None:
            raise UsageError("replies are not available: configure [smtp] or use --no-notify")
        return self.replier

    def _prepare(
        self,
        submission_id: int,
        check: Callable[[Session, Submission], None],
        template: str | None,
        message: str,
        extra: Mapping[str, object],
        dry_run: bool,
        edit: Editor | None,
    ) -> tuple[Reply | None, str | None]:
        """The reply as rendered (for a dry run or the editor) and the text the editor made of
        it (None: not edited), rendered in a short read-only transaction.

        The editor runs after that transaction: a write lock must not wait on a person.
        """
        if template is None or not (dry_run or edit):
            return None, None
        replier = self._require_replier()
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id)
            check(session, submission)
            raw = replier.render_preview(
                session,
                template=template,
                to=_recipient(submission),
                context=self._context(message, extra),
                submission_id=submission.id,
            )
        preview = reply_of(template, raw)
        edited = edit(preview.text) if edit is not None else None
        if edited is not None and not edited.strip():
            raise UsageError("the edited reply is empty: nothing was changed or sent")
        return preview, (edited.strip() + "\n" if edited is not None else None)

    def _dry(
        self,
        submission_id: int,
        action: str,
        target: Status | None,
        check: Callable[[Session, Submission], None],
        preview: Reply | None,
        edited: str | None,
    ) -> Change:
        with self.sessions() as session, session.begin():
            submission = submission_store.get_submission(session, submission_id)
            check(session, submission)
            before = submission.status
        if preview is not None and edited is not None:
            preview = Reply(preview.template, preview.to, preview.subject, edited)
        return Change(submission_id, action, before, target or before, reply=preview, dry_run=True)

    def _queue(
        self,
        session: Session,
        submission: Submission,
        change: Change,
        template: str,
        message: str,
        extra: Mapping[str, object],
        edited: str | None,
        *,
        actor: str,
        now: datetime,
    ) -> Change:
        queued = self._require_replier().queue(
            session,
            template=template,
            to=_recipient(submission),
            context=self._context(message, extra),
            submission_id=submission.id,
            automatic=False,
        )
        reply: Reply | None = None
        if queued.outbox_id is not None:
            raw = editorial_store.outbox_raw(session, queued.outbox_id)
            if edited is not None:
                raw = with_text(raw, edited)
                editorial_store.replace_outbox_raw(session, queued.outbox_id, raw)
            reply = reply_of(template, raw)
            note = f"{template} queued as outbox #{queued.outbox_id}" + (
                " (edited)" if edited is not None else ""
            )
        else:
            note = f"{template} not sent: {queued.skipped or 'refused by the outbox'}"
        submission_store.add_event(
            session,
            at=now,
            actor=actor,
            action="reply",
            submission_id=submission.id,
            note=note,
        )
        return Change(
            change.submission_id,
            change.action,
            change.from_status,
            change.to_status,
            reply=reply,
            outbox_id=queued.outbox_id,
            skipped="" if queued.outbox_id is not None else (queued.skipped or "refused"),
        )


def _recipient(submission: Submission) -> Address:
    return Address(name=submission.sender_name, addr=submission.sender)


# --------------------------------------------------------------------------- reply bytes


def reply_of(template: str, raw: bytes) -> Reply:
    """The recipient, subject and plain text of a rendered reply."""
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    body = msg.get_body(preferencelist=("plain",))
    text = body.get_content() if isinstance(body, EmailMessage) else ""
    text = str(text).replace("\r\n", "\n")
    return Reply(template, str(msg.get("To", "")), str(msg.get("Subject", "")), text)


def with_text(raw: bytes, text: str) -> bytes:
    """``raw`` with its body replaced by ``text`` alone; every header (Message-ID, threading,
    loop headers) stays. The HTML alternative goes: it would still say the unedited words."""
    policy = email_policy.SMTP.clone(refold_source="none")
    msg = message_from_bytes(raw, policy=policy)
    assert isinstance(msg, EmailMessage)
    msg.clear_content()
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    return msg.as_bytes()
