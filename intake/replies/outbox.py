"""Outbox use case: queue templated replies under the loop and flood rules, and deliver due rows
over SMTP exactly once, with retry, crash recovery and a copy in the Sent folder.

Queueing (:class:`Replier`) writes the finished bytes into an outbox row inside the caller's
transaction, so a reply exists if and only if what it answers was recorded. Delivery
(:class:`OutboxSender`) moves a row ``pending -> sending -> sent`` (or ``failed``):

1. claim: one short transaction marks due rows ``sending`` for this sender until a deadline
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional UPDATE under SQLite's write lock),
   so two senders, even on two machines, never take the same row;
2. send over one SMTP connection per batch; just before each message the claim is renewed, and
   a sender that lost it skips the row;
3. right after SMTP accepts a message, ``sent`` is committed; the copy is appended to the Sent
   folder after that (failures there are retried later and never resend).

A row still ``sending`` after its claim ran out belongs to a sender that died. Before sending it
again intake searches the Sent folder for its Message-ID: found means it went out (the sender
died after SMTP, or could not record it), so it is marked sent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import socket
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.core.clock import as_utc
from intake.core.config import Settings, message_id_domain, own_addresses
from intake.core.errors import (
    ConfigError,
    DeliveryError,
    MailboxError,
    NotFound,
    PermanentDeliveryError,
    TemporaryDeliveryError,
    UsageError,
)
from intake.core.events import Ingested, StoredAttachment
from intake.core.mail import Address, Kind, OutgoingMail, ParsedMail
from intake.core.ports import SentMailbox, Transport
from intake.ingest import classify
from intake.replies.render import TEMPLATES, Renderer, build_message, make_message_id
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.store.models import Claim, Message, Submission
from intake.workflow.submission import CopyrightStatus

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "intake"
DAY = timedelta(hours=24)
#: Templates that carry the copyright terms: their rows record the terms version.
RIGHTS_TEMPLATES = frozenset({"copyright_request", "copyright_reminder"})
JITTER = 0.2  # retries spread over +-20% so a backlog does not hit the server all at once


@dataclass(frozen=True, slots=True)
class Queued:
    """The result of asking for a reply: the outbox row id, or why none was queued."""

    outbox_id: int | None
    skipped: str = ""  # "" when queued; else the rule that stopped it


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one delivery run did (``intake send --json``, the daemon's outbox log line)."""

    sent: int = 0  # includes rows a crashed sender had sent (found in the Sent folder)
    retried: int = 0
    failed: int = 0

    def as_json(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed}


def backoff_delay(prior_attempts: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds before the next try: ``base * 2**prior_attempts``, capped, then +-20% jitter."""
    delay = min(cap, base * 2.0 ** min(prior_attempts, 60))
    return max(0.0, delay * (1.0 + JITTER * (2.0 * rand() - 1.0)))


def readable(attachment: StoredAttachment) -> bool:
    """Whether an editor can open the file: read without error, and a document gave text."""
    if attachment.error:
        return False
    return attachment.kind != "document" or bool(attachment.text.strip())


def reply_target(mail: ParsedMail) -> Address | None:
    """Where an automatic reply goes: Reply-To, else From (the address classify checked)."""
    if mail.reply_to:
        first = mail.reply_to[0]
        name = first.name or (mail.sender.name if mail.sender else "")
        return Address(name=name, addr=first.addr)
    return mail.sender


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


# =========================================================================== queueing


class Replier:
    """Renders templates into outbox rows inside the caller's transaction."""

    def __init__(
        self,
        settings: Settings,
        reply_secret: bytes,
        clock: Callable[[], datetime],
        *,
        nonce: Callable[[int], bytes] = os.urandom,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._secret = reply_secret
        self._nonce = nonce
        self._domain = message_id_domain(settings)
        self._own = own_addresses(settings)
        replies = settings.replies
        self.renderer = Renderer(
            replies.templates, replies.language, timezone=zoneinfo.ZoneInfo(replies.timezone)
        )

    # ------------------------------------------------------------------ the contract

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
    ) -> Queued:
        """Render ``template`` and add an outbox row, unless a rule forbids it.

        ``automatic`` replies obey every loop/flood rule (no-reply and own addresses,
        suppression list, per-recipient daily limit); staff-triggered ones (automatic=False)
        skip only the daily limit. Threading headers point at the message ``in_reply_to_pk``
        (default: the submission's or claim's original message). Common template variables
        (site_name, contact, name, number, title, byline, and the terms for copyright
        templates) are filled in when ``context`` does not give them. Queuing a
        ``copyright_request`` marks the submission's rights as requested under the current
        terms version (with an event, unless the caller has marked it already).
        """
        now = as_utc(self.clock())
        refusal = self.refusal(session, to.addr, now=now, automatic=automatic)
        if refusal:
            log.info("no %s to %s: %s", template, to.addr, refusal)
            return Queued(None, refusal)
        mail, parent_pk, ctx = self._build(
            session,
            template=template,
            to=to,
            context=context,
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=in_reply_to_pk,
            automatic=automatic,
            now=now,
        )
        version = str(ctx.get("terms_version", "")) if template in RIGHTS_TEMPLATES else ""
        row = outbox_store.add(
            session,
            mail,
            now=now,
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=parent_pk,
            automatic=automatic,
            terms_version=version,
        )
        if template == "copyright_request" and submission_id is not None:
            submission = submission_store.get_submission(session, submission_id)
            outbox_store.note_copyright_request(
                session, submission, terms_version=version, now=now, outbox_id=row.id
            )
        log.info("queued %s to %s as outbox #%d", template, mail.to.addr, row.id)
        return Queued(row.id)

    def render_preview(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None = None,
        claim_id: int | None = None,
    ) -> bytes:
        """The bytes ``queue`` would store, without storing anything (``--dry-run``)."""
        mail, _parent, _ctx = self._build(
            session,
            template=template,
            to=to,
            context=context,
            submission_id=submission_id,
            claim_id=claim_id,
            in_reply_to_pk=None,
            automatic=False,
            now=as_utc(self.clock()),
        )
        return mail.raw

    def ingest_hook(self, session: Session, item: Ingested) -> None:
        """Ingest hook: acknowledgment + copyright request for new submissions, oversize notice."""
        if item.verdict.kind is Kind.OVERSIZE:
            self._oversize(session, item)
        elif item.verdict.kind is Kind.SUBMISSION and item.submission_id is not None:
            self._acknowledge(session, item, item.submission_id)

    # ------------------------------------------------------------------ for other use cases

    def request_copyright(
        self,
        session: Session,
        submission_id: int,
        *,
        automatic: bool = False,
        note: str = "",
        again: bool = False,
    ) -> Queued:
        """Queue the copyright request for a submission (``copyright_request = "on-accept"``:
        the accept command calls this in its transaction).

        Does nothing (``skipped`` says why) when the rights were already requested, granted,
        refused or waived, unless ``again``.
        """
        submission = submission_store.get_submission(session, submission_id)
        if not again and submission.copyright_status != CopyrightStatus.NOT_REQUESTED:
            return Queued(None, f"copyright is already {submission.copyright_status}")
        return self.queue(
            session,
            template="copyright_request",
            to=Address(submission.sender_name, submission.sender),
            context={"note": note.strip()} if note.strip() else {},
            submission_id=submission.id,
            automatic=automatic,
        )

    def refusal(self, session: Session, addr: str, *, now: datetime, automatic: bool) -> str:
        """Why no reply may go to ``addr`` now ("" when one may)."""
        addr = addr.strip()
        if "@" not in addr or any(c in addr for c in "\r\n<> \t"):
            return f"no usable address {addr!r}"
        if addr.lower() in self._own:
            return f"{addr} is our own address"
        if classify.is_noreply_address(addr):
            return f"{addr} is a no-reply address"
        suppressed = outbox_store.active_suppression(session, addr, now)
        if suppressed is not None:
            until = as_utc(suppressed.until).date().isoformat()
            why = f": {suppressed.reason}" if suppressed.reason else ""
            return f"{addr} is suppressed until {until}{why}"
        if automatic:
            limit = self.settings.replies.max_auto_replies_per_day
            sent = outbox_store.automatic_replies_since(session, addr, now - DAY)
            if sent >= limit:
                return f"daily limit: {sent} automatic replies to {addr} in 24 h (limit {limit})"
        return ""

    # ------------------------------------------------------------------ ingest rules

    def _acknowledge(self, session: Session, item: Ingested, submission_id: int) -> None:
        submission = submission_store.get_submission(session, submission_id)
        target = reply_target(item.parsed)
        if not item.auto_reply_allowed or target is None:
            why = item.auto_reply_reason or "no address to reply to"
            self._note(session, submission_id, item.now, f"no automatic reply: {why}")
            log.info("submission %d: no automatic reply: %s", submission_id, why)
            return
        hours = self.settings.replies.duplicate_grace_hours
        if hours > 0:
            since = item.received_at - timedelta(hours=hours)
            earlier = outbox_store.same_piece_since(session, submission, since)
            if earlier is not None:
                why = f"no acknowledgment: the same piece as #{earlier.id}, within {hours} hours"
                self._note(session, submission_id, item.now, why)
                log.info("submission %d: %s", submission_id, why)
                return
        if submission.duplicate_of is not None:
            original = session.get(Submission, submission.duplicate_of)
            # Only the same sender hears about the earlier piece: another sender must not
            # learn what someone else sent (a copied article is a matter for the editors).
            if original is not None and original.sender == submission.sender:
                queued = self.queue(
                    session,
                    template="duplicate",
                    to=target,
                    context={"title": original.title or original.subject},
                    submission_id=original.id,
                    in_reply_to_pk=item.message_pk,
                )
                self._noted(session, submission_id, item.now, "duplicate", queued)
                return
        received = item.received_at
        days = self.settings.replies.decision_days
        ack = self.queue(
            session,
            template="ack",
            to=target,
            context={
                "title": submission.title or submission.subject,
                "received_at": received,
                "attachments": self._attachments(item),
                "decision_due": received + timedelta(days=days),
                "decision_days": days,
            },
            submission_id=submission_id,
            in_reply_to_pk=item.message_pk,
        )
        self._noted(session, submission_id, item.now, "ack", ack)
        if (
            self.settings.replies.copyright_request == "auto"
            and ack.outbox_id is not None
            and submission.copyright_status == CopyrightStatus.NOT_REQUESTED
        ):
            request = self.queue(
                session,
                template="copyright_request",
                to=target,
                context={},
                submission_id=submission_id,
                in_reply_to_pk=item.message_pk,
            )
            self._noted(session, submission_id, item.now, "copyright_request", request)

    def _oversize(self, session: Session, item: Ingested) -> None:
        target = reply_target(item.parsed)
        if not item.auto_reply_allowed or target is None:
            log.info("oversize message %d: no reply: %s", item.message_pk, item.auto_reply_reason)
            return
        limit = self.settings.ingest.max_message_bytes / (1024 * 1024)
        self.queue(
            session,
            template="oversize",
            to=target,
            context={"limit_mb": int(limit) if limit == int(limit) else round(limit, 1)},
            submission_id=item.submission_id,
            in_reply_to_pk=item.message_pk,
        )

    @staticmethod
    def _attachments(item: Ingested) -> list[dict[str, object]]:
        inline = [a.inline for a in item.parsed.attachments]
        if len(inline) != len(item.attachments):  # not expected; list every file then
            inline = [False] * len(item.attachments)
        return [
            {"filename": stored.filename, "readable": readable(stored)}
            for stored, is_inline in zip(item.attachments, inline, strict=True)
            if not is_inline  # pictures in the body and signature logos are not "files sent"
        ]

    def _noted(
        self, session: Session, submission_id: int, now: datetime, template: str, queued: Queued
    ) -> None:
        if queued.outbox_id is not None:
            note = f"{template} queued as outbox #{queued.outbox_id}"
        else:
            note = f"{template} not sent: {queued.skipped}"
        self._note(session, submission_id, now, note)

    @staticmethod
    def _note(session: Session, submission_id: int, now: datetime, note: str) -> None:
        submission_store.add_event(
            session, at=now, actor=SYSTEM_ACTOR, action="reply", submission_id=submission_id,
            note=note,
        )  # fmt: skip

    # ------------------------------------------------------------------ building

    def _build(
        self,
        session: Session,
        *,
        template: str,
        to: Address,
        context: Mapping[str, object],
        submission_id: int | None,
        claim_id: int | None,
        in_reply_to_pk: int | None,
        automatic: bool,
        now: datetime,
    ) -> tuple[OutgoingMail, int | None, dict[str, object]]:
        submission = (
            submission_store.get_submission(session, submission_id) if submission_id else None
        )
        claim = session.get(Claim, claim_id) if claim_id else None
        parent_pk = in_reply_to_pk
        if parent_pk is None:
            owner = claim if TEMPLATES.get(template) == "claim" and claim else submission or claim
            parent_pk = owner.message_pk if owner is not None else None
        parent = session.get(Message, parent_pk) if parent_pk is not None else None
        ctx = {**self._defaults(template, to, submission, claim, now), **context}
        rendered = self.renderer.render(template, ctx)
        message_id = make_message_id(self._secret, self._domain, now=now, nonce=self._nonce(8))
        mail = build_message(
            rendered=rendered,
            from_address=self._from_address(),
            to=to,
            message_id=message_id,
            in_reply_to=parent.message_id if parent is not None else "",
            references=parent.references.split() if parent is not None else (),
            loop_value=self._domain,
            date=now,
            automatic=automatic,
            template=template,
        )
        return mail, parent.id if parent is not None else None, ctx

    def _defaults(
        self,
        template: str,
        to: Address,
        submission: Submission | None,
        claim: Claim | None,
        now: datetime,
    ) -> dict[str, object]:
        replies = self.settings.replies
        ctx: dict[str, object] = {
            "site_name": replies.site_name or self.settings.site.name,
            "contact": replies.contact,
            "name": to.name,
        }
        if TEMPLATES.get(template) == "claim":
            ctx["number"] = claim.id if claim is not None else None
        else:
            ctx["number"] = submission.id if submission is not None else None
        if submission is not None:
            ctx["title"] = submission.title or submission.subject
            ctx["byline"] = submission.sender_name or submission.sender
            ctx["requested_at"] = _aware(submission.copyright_requested_at) or now
        if template.startswith("copyright_"):
            rights = self.settings.copyright
            ctx.update(
                platforms=list(rights.platforms),
                exclusive=rights.exclusive,
                term=rights.term,
                editing_allowed=rights.editing_allowed,
                fee_policy=rights.fee_policy,
                terms=rights.terms,
                terms_version=self.settings.copyright.version,
                respond_by=now + timedelta(days=rights.expiry_days),
            )
        return ctx

    def _from_address(self) -> str:
        # Without [smtp] staff replies still queue (they wait for SMTP to be configured), so
        # they need a From: an address of ours from the settings, else an .invalid placeholder.
        if self.settings.smtp is not None:
            return self.settings.smtp.from_address
        ours = [*self.settings.replies.own_addresses]
        ours += [box.username for box in self.settings.mailboxes if "@" in box.username]
        return ours[0] if ours else f"intake@{self._domain}"


# =========================================================================== delivery


#: Opens an SMTP session (``intake.adapters.smtp.SmtpSender``); the ``with`` block is one batch.
TransportFactory = Callable[[], AbstractContextManager[Transport]]
#: Opens an IMAP session for the Sent folder (``intake.adapters.imap.ImapMailbox``).
MailboxFactory = Callable[[], AbstractContextManager[SentMailbox]]


def sender_name() -> str:
    """Who claims rows: host, process and a random part (two senders in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:200]


class OutboxSender:
    """Delivers due outbox rows; each :meth:`deliver` call is one run over one batch."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        clock: Callable[[], datetime],
        *,
        transport: TransportFactory,
        mailbox: MailboxFactory | None = None,
        sent_folder: str = "",
        name: str | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if settings.smtp is None:
            raise ConfigError("smtp: not configured: there is nothing to send replies with")
        self.smtp = settings.smtp
        self.sessions = sessions
        self.clock = clock
        self.name = name or sender_name()
        self._transport = transport
        self._mailbox = mailbox
        self._sent_folder = sent_folder
        self._rand = rand
        # A claim outlives one message's worst case (several SMTP commands, each up to the
        # timeout); it is renewed before each message, so only a dead sender's rows expire.
        self.claim_seconds = max(60.0, 10.0 * self.smtp.timeout)

    def _now(self) -> datetime:
        return as_utc(self.clock())

    def deliver(self) -> Delivery:
        """Claim one batch of due rows, send them, and file copies in the Sent folder."""
        now = self._now()
        with self.sessions() as session, session.begin():
            claimed = outbox_store.claim_due(
                session,
                me=self.name,
                now=now,
                until=now + timedelta(seconds=self.claim_seconds),
                limit=self.smtp.batch_size,
            )
        counts = _Counts()
        with _SentFolder(self._mailbox, self._sent_folder) as sent:
            to_send = [item for item in claimed if not self._settle(item, sent, counts)]
            if to_send:
                self._send_batch(to_send, sent, counts)
            self._file_copies(sent, {item.id for item in to_send})
        return Delivery(counts.sent, counts.retried, counts.failed)

    # ------------------------------------------------------------------ crash recovery

    def _settle(self, item: outbox_store.Claimed, sent: _SentFolder, counts: _Counts) -> bool:
        """For a row a dead sender left ``sending``: True when it needs no sending now."""
        if not item.recovered:
            return False
        if not sent.enabled:
            log.warning(
                "outbox #%d: its sender stopped while sending and there is no Sent folder to "
                "check; sending it again",
                item.id,
            )
            return False
        found = sent.contains(item.message_id)
        if found is None:
            error = "its sender stopped while sending; the Sent folder cannot be searched now"
            if item.attempts >= self.smtp.max_attempts:
                self._fail(item, error, counts)
            else:
                until = self._now() + timedelta(seconds=self._delay(item))
                with self.sessions() as session, session.begin():
                    outbox_store.hold(session, item.id, me=self.name, error=error, until=until)
                counts.retried += 1
            return True
        if found:
            with self.sessions() as session, session.begin():
                outbox_store.mark_sent(session, item.id, me=self.name, now=self._now(), copied=True)
            log.info(
                "outbox #%d: found in the Sent folder: it was sent; not sending again", item.id
            )
            counts.sent += 1
            return True
        log.info("outbox #%d: not in the Sent folder; sending it", item.id)
        return False

    # ------------------------------------------------------------------ sending

    def _send_batch(
        self, items: list[outbox_store.Claimed], sent: _SentFolder, counts: _Counts
    ) -> None:
        done = 0
        try:
            with self._transport() as transport:
                for item in items:
                    self._send_one(transport, item, sent, counts)
                    done += 1
        except DeliveryError as exc:
            # Connecting failed (or the connection's goodbye did): nothing of the rest was sent.
            for item in items[done:]:
                self._retry(item, str(exc), counts)
        except Exception as exc:
            for item in items[done:]:
                self._retry(item, f"internal error: {type(exc).__name__}: {exc}", counts)
            raise

    def _send_one(
        self, transport: Transport, item: outbox_store.Claimed, sent: _SentFolder, counts: _Counts
    ) -> None:
        until = self._now() + timedelta(seconds=self.claim_seconds)
        with self.sessions() as session, session.begin():
            mine = outbox_store.renew(session, item.id, me=self.name, until=until)
        if not mine:
            log.warning("outbox #%d: another sender has taken it over; skipping", item.id)
            return
        try:
            transport.send(item.raw, self.smtp.from_addr, [item.to_addr])
        except PermanentDeliveryError as exc:
            self._fail(item, str(exc), counts)
            return
        except TemporaryDeliveryError as exc:
            self._retry(item, str(exc), counts)
            return
        except Exception as exc:  # noqa: BLE001 - one bad row must not stop the batch
            log.exception("outbox #%d: sending failed unexpectedly", item.id)
            self._retry(item, f"internal error: {type(exc).__name__}: {exc}", counts)
            return
        # File the copy first: a crash between SMTP's "250" and our commit would otherwise
        # leave nothing behind that tells the sender recovering this row not to send it again.
        # An IMAP APPEND takes milliseconds; the commit may wait behind other writers.
        copied = sent.enabled and sent.append(item.raw)
        with self.sessions() as session, session.begin():
            recorded = outbox_store.mark_sent(
                session, item.id, me=self.name, now=self._now(), copied=copied
            )
        if not recorded:
            log.warning("outbox #%d: sent, but another sender had taken it over", item.id)
        log.info("outbox #%d: %s sent to %s", item.id, item.template, item.to_addr)
        counts.sent += 1

    def _delay(self, item: outbox_store.Claimed) -> float:
        return backoff_delay(
            item.attempts - 1, self.smtp.backoff_base_seconds, self.smtp.backoff_max_seconds,
            self._rand,
        )  # fmt: skip

    def _retry(self, item: outbox_store.Claimed, error: str, counts: _Counts) -> None:
        if item.attempts >= self.smtp.max_attempts:
            self._fail(item, f"{error} (gave up after {item.attempts} attempts)", counts)
            return
        delay = self._delay(item)
        with self.sessions() as session, session.begin():
            outbox_store.mark_retry(
                session,
                item.id,
                me=self.name,
                error=error,
                next_attempt_at=self._now() + timedelta(seconds=delay),
            )
        log.warning("outbox #%d: %s; trying again in %.0f s", item.id, error, delay)
        counts.retried += 1

    def _fail(self, item: outbox_store.Claimed, error: str, counts: _Counts) -> None:
        now = self._now()
        with self.sessions() as session, session.begin():
            if outbox_store.mark_failed(session, item.id, me=self.name, error=error, now=now):
                if item.submission_id is not None or item.claim_id is not None:
                    submission_store.add_event(
                        session,
                        at=now,
                        actor=SYSTEM_ACTOR,
                        action="reply_failed",
                        submission_id=item.submission_id,
                        claim_id=item.claim_id,
                        note=f"{item.template} to {item.to_addr} (outbox #{item.id}): {error}",
                    )
        log.error("outbox #%d: %s to %s failed: %s", item.id, item.template, item.to_addr, error)
        counts.failed += 1

    # ------------------------------------------------------------------ Sent folder

    def _file_copies(self, sent: _SentFolder, just_sent: set[int]) -> None:
        if not sent.enabled:
            return
        with self.sessions() as session, session.begin():
            copies = outbox_store.uncopied(session, self.smtp.batch_size)
        for copy in copies:
            # An older copy may have been filed by a run that could not record it.
            if copy.id not in just_sent:
                found = sent.contains(copy.message_id)
                if found is None:
                    return
                if found:
                    self._mark_copied(copy.id)
                    continue
            if not sent.append(copy.raw):
                return  # logged; the next run tries again
            self._mark_copied(copy.id)

    def _mark_copied(self, pk: int) -> None:
        with self.sessions() as session, session.begin():
            outbox_store.mark_copied(session, pk)


@dataclass
class _Counts:
    sent: int = 0
    retried: int = 0
    failed: int = 0


class _SentFolder:
    """The Sent folder over one IMAP connection, opened on first use; after an IMAP error it
    answers "unknown" for the rest of the run instead of raising."""

    def __init__(self, factory: MailboxFactory | None, folder: str) -> None:
        self.enabled = factory is not None and bool(folder)
        self._factory = factory
        self._folder = folder
        self._stack = contextlib.ExitStack()
        self._box: SentMailbox | None = None
        self._broken = False

    def __enter__(self) -> _SentFolder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._stack.close()
        except MailboxError as exc:
            log.debug("Sent folder: logging out failed: %s", exc)

    @contextlib.contextmanager
    def _using(self, what: str) -> Iterator[SentMailbox | None]:
        box = self._connect()
        if box is None:
            yield None
            return
        try:
            yield box
        except MailboxError as exc:
            log.warning("Sent folder %s: %s failed: %s", self._folder, what, exc)
            self._broken = True

    def _connect(self) -> SentMailbox | None:
        if self._broken or self._factory is None or not self.enabled:
            return None
        if self._box is None:
            try:
                box = self._stack.enter_context(self._factory())
                box.ensure_folder(self._folder)
            except MailboxError as exc:
                log.warning("Sent folder %s: cannot use it now: %s", self._folder, exc)
                self._broken = True
                return None
            self._box = box
        return self._box

    def contains(self, message_id: str) -> bool | None:
        """Whether the folder holds ``message_id``; None when that cannot be known now."""
        found: bool | None = None
        with self._using("search") as box:
            if box is not None:
                found = box.find_message_id(self._folder, message_id)
        return found

    def append(self, raw: bytes) -> bool:
        ok = False
        with self._using("append") as box:
            if box is not None:
                box.append(self._folder, raw, ("\\Seen",))
                ok = True
        return ok


# =========================================================================== staff actions


def retry_failed(
    sessions: sessionmaker[Session], outbox_id: int, *, actor: str, now: datetime
) -> None:
    """Put a failed reply back in the queue with its attempts reset (``intake outbox retry``)."""
    with sessions() as session, session.begin():
        row = outbox_store.retry(session, outbox_id, now=now)
        if row.submission_id is not None or row.claim_id is not None:
            submission_store.add_event(
                session,
                at=now,
                actor=actor,
                action="reply_retry",
                submission_id=row.submission_id,
                claim_id=row.claim_id,
                note=f"{row.template} to {row.to_addr} (outbox #{row.id}) queued again"
                + (f" after: {row.last_error}" if row.last_error else ""),
            )


def suppress(
    sessions: sessionmaker[Session], address: str, *, days: float, reason: str, now: datetime
) -> datetime:
    """No mail to ``address`` for ``days`` (``intake suppress``); returns until when."""
    address = address.strip()
    if "@" not in address:
        raise UsageError(f"not an email address: {address!r}")
    if days <= 0:
        raise UsageError("--days must be positive")
    until = now + timedelta(days=days)
    with sessions() as session, session.begin():
        outbox_store.suppress(session, address, reason=reason, now=now, until=until)
    return until


def unsuppress(sessions: sessionmaker[Session], address: str) -> None:
    """Take ``address`` off the suppression list (``intake unsuppress``)."""
    with sessions() as session, session.begin():
        if not outbox_store.unsuppress(session, address.strip()):
            raise NotFound(f"{address.strip()} is not on the suppression list")
