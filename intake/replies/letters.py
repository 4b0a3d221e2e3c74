"""Letters to contributors and claimants, one way for every use case: prepare (render for a
preview or for the editor's changes), queue through the outbox, and record in the case's history.

Staff letters are prepared in a short read-only transaction and edited after it (a write lock
must never wait on a person), then queued in the action's own transaction; automatic letters
(acknowledgments, receipts, reminders) are queued inside the transaction that caused them.
Every outcome, queued or not and why, goes into the history of the case it concerns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import TYPE_CHECKING, Literal, Protocol

from intake.core.config import Settings
from intake.core.errors import UsageError
from intake.core.mail import Address
from intake.replies.render import CODE_PLACEHOLDER
from intake.store import editorial as editorial_store
from intake.store.models import Claim, Submission
from intake.text.mailbody import body_text
from intake.workflow.cases import Case, record

if TYPE_CHECKING:
    from intake.store import Session, sessionmaker

log = logging.getLogger(__name__)

#: Called with a letter's rendered text; returns the text to send, or None to keep it as is.
Editor = Callable[[str], str | None]


class Queued(Protocol):
    """What :meth:`ReplyQueue.queue` answers (``intake.replies.queue.Queued``)."""

    @property
    def outbox_id(self) -> int | None: ...

    @property
    def skipped(self) -> str: ...

    @property
    def raw(self) -> bytes: ...


class ReplyQueue(Protocol):
    """The outbox's queue (``intake.replies.queue.Replier``): renders and stores a letter."""

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

    def code_for(self, session: Session, outbox_id: int) -> str: ...


@dataclass(frozen=True, slots=True)
class Letter:
    """One letter to write: its template, recipient and what this occasion adds to the common
    template variables (the queue fills in site, number, title, name and the terms)."""

    template: str
    to: Address
    context: Mapping[str, object] = field(default_factory=dict)
    in_reply_to_pk: int | None = None  # default: the case's original message
    automatic: bool = False  # automatic letters obey the per-recipient limits too


@dataclass(frozen=True, slots=True)
class Reply:
    """A letter as its reader will see it: recipient, subject, plain text."""

    template: str
    to: str
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class Sent:
    """What queueing a letter did: the outbox row and the letter, or why there is none."""

    outbox_id: int | None
    skipped: str = ""
    raw: bytes = b""  # the letter as queued
    template: str = ""

    @property
    def reply(self) -> Reply | None:
        """The letter as its reader sees it (read from its bytes when asked: the ingest
        hooks queue many letters and never ask)."""
        return reply_of(self.template, self.raw) if self.raw else None


@dataclass(frozen=True, slots=True)
class Prepared:
    """A staff letter rendered before its action: for a dry run, or changed by the editor."""

    preview: Reply
    edited: Reply | None = None  # None: send as rendered


@dataclass(frozen=True, slots=True)
class Change:
    """What one staff action on a case did (or, for a dry run, would do)."""

    case: Literal["submission", "claim"]
    id: int
    action: str
    from_status: str
    to_status: str  # the same as from_status when the status did not move
    reply: Reply | None = None  # the letter queued or, for a dry run, the one that would be
    outbox_id: int | None = None
    skipped: str = ""  # why no letter was queued although one was asked for
    dry_run: bool = False

    @property
    def moved(self) -> bool:
        return self.from_status != self.to_status

    def with_letter(self, sent: Sent) -> Change:
        return replace(
            self,
            reply=sent.reply,
            outbox_id=sent.outbox_id,
            skipped="" if sent.outbox_id is not None else (sent.skipped or "refused"),
        )


def change_of(case: Case, action: str, before: str, after: str) -> Change:
    """The change an action made to ``case``, before any letter."""
    kind: Literal["submission", "claim"] = "claim" if isinstance(case, Claim) else "submission"
    return Change(kind, case.id, action, before, after)


def dry_change(case: Case, action: str, after: str | None, prepared: Prepared | None) -> Change:
    """What an action would do to ``case`` (a dry run): the move to ``after`` (None: no move)
    and the letter it would send, as the editor left it."""
    before = case.status
    reply = (prepared.edited or prepared.preview) if prepared is not None else None
    return replace(change_of(case, action, before, after or before), reply=reply, dry_run=True)


class StaffActions:
    """What the staff use cases on cases are built from: the settings, the sessions, the
    letters and the clock. Each public method of a subclass is one unit of work."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        letters: Letters,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.letters = letters
        self.clock = clock


class Letters:
    """The one place that turns a :class:`Letter` into an outbox row and a history entry."""

    def __init__(self, replier: ReplyQueue | None) -> None:
        self.replier = replier

    @property
    def available(self) -> bool:
        return self.replier is not None

    def require(self) -> ReplyQueue:
        if self.replier is None:
            raise UsageError("replies are not available: configure [smtp] or use --no-notify")
        return self.replier

    def preview(self, session: Session, case: Case, letter: Letter) -> Reply:
        """The letter as it would be queued now, without queueing it."""
        raw = self.require().render_preview(
            session,
            template=letter.template,
            to=letter.to,
            context=letter.context,
            **_owner(case),
        )
        return reply_of(letter.template, raw)

    def prepare(
        self,
        sessions: sessionmaker[Session],
        load: Callable[[Session], tuple[Case, Letter | None]],
        *,
        dry_run: bool,
        edit: Editor | None,
    ) -> Prepared | None:
        """Render a staff letter for a dry run or for ``edit``, in a short read transaction.

        ``load`` reads the case, checks that the action may go ahead (raising if not) and
        says which letter it sends (None: none). The editor runs after that transaction.
        """
        if not (dry_run or edit):
            return None
        with sessions() as session, session.begin():
            case, letter = load(session)
            if letter is None:
                return None
            preview = self.preview(session, case, letter)
        if edit is None:
            return Prepared(preview)
        text = edit(preview.text)
        if text is None:
            return Prepared(preview)
        if not text.strip():
            raise UsageError("the edited letter is empty: nothing was changed or sent")
        return Prepared(preview, replace(preview, text=text.strip() + "\n"))

    def send(
        self,
        session: Session,
        case: Case | None,
        letter: Letter,
        *,
        actor: str,
        now: datetime,
        edited: Reply | None = None,
        history: Case | None = None,
    ) -> Sent:
        """Queue ``letter`` about ``case`` and record the outcome in the history of ``history``
        (default: ``case``; None for a letter about no case, such as the oversize notice).
        Without replies configured nothing is queued, and that is recorded.
        """
        history = history or case

        def note(text: str, level: int = logging.INFO) -> None:
            log.log(level, "%s", text)
            if history is not None:
                record(session, history, "reply", actor=actor, now=now, note=text)

        if self.replier is None:
            skipped = "replies are not configured"
            note(f"{letter.template} not sent: {skipped}")
            return Sent(None, skipped)
        queued = self.replier.queue(
            session,
            template=letter.template,
            to=letter.to,
            context=letter.context,
            in_reply_to_pk=letter.in_reply_to_pk,
            automatic=letter.automatic,
            **_owner(case),
        )
        if queued.outbox_id is None:
            skipped = queued.skipped or "refused by the outbox"
            # The outbox has logged why, with the address: one line in the journal is enough.
            note(f"{letter.template} not sent: {skipped}", logging.DEBUG)
            return Sent(None, skipped)
        raw = queued.raw or editorial_store.outbox_raw(session, queued.outbox_id)
        if edited is not None:
            text = edited.text
            if CODE_PLACEHOLDER in text:
                # The preview the editor changed could not know the code; the letter has it now.
                text = text.replace(
                    CODE_PLACEHOLDER, self.replier.code_for(session, queued.outbox_id)
                )
            raw = with_text(raw, text)
            editorial_store.replace_outbox_raw(session, queued.outbox_id, raw)
        note(
            f"{letter.template} queued as outbox #{queued.outbox_id}"
            + (" (edited)" if edited is not None else ""),
            logging.DEBUG,  # the outbox logged "queued ... to ADDR as outbox #N" already
        )
        return Sent(queued.outbox_id, raw=raw, template=letter.template)


def recipient(case: Case) -> Address:
    """Who a case's letters go to: the contributor, or the claimant."""
    if isinstance(case, Claim):
        return Address(name=case.claimant_name, addr=case.claimant)
    return Address(name=case.sender_name, addr=case.sender)


def _owner(case: Case | None) -> dict[str, int]:
    if case is None:
        return {}
    if isinstance(case, Submission):
        return {"submission_id": case.id}
    return {"claim_id": case.id}


# --------------------------------------------------------------------------- letter bytes


def reply_of(template: str, raw: bytes) -> Reply:
    """The recipient, subject and plain text of a rendered letter."""
    msg = message_from_bytes(raw, policy=email_policy.default)
    assert isinstance(msg, EmailMessage)
    return Reply(template, str(msg.get("To", "")), str(msg.get("Subject", "")), body_text(msg))


def with_text(raw: bytes, text: str) -> bytes:
    """``raw`` with its body replaced by ``text`` alone; every header (Message-ID, threading,
    loop headers) stays. The HTML alternative goes: it would still say the unedited words."""
    policy = email_policy.SMTP.clone(refold_source="none")
    msg = message_from_bytes(raw, policy=policy)
    assert isinstance(msg, EmailMessage)
    msg.clear_content()
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    return msg.as_bytes()
