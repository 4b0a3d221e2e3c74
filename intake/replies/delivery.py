"""Outbox delivery: send due rows over SMTP exactly once, with retry, crash recovery, the rules
checked again at send time, the hourly cap, and a copy in the Sent folder.

A row moves ``pending -> sending -> sent`` (or ``failed``, or ``held`` by a rule):

1. claim: one short transaction marks due rows ``sending`` for this sender until a deadline
   (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional UPDATE under SQLite's write lock),
   so two senders, even on two machines, never take the same row. Automatic rows are claimed
   only while the hourly cap (``replies.max_auto_replies_per_hour``) has room; the others
   wait, pending, in their order.
2. just before each message one transaction renews the claim, checks the rules again (the
   address suppressed since it was queued, the recipient's daily limit counted by what was
   really sent) and commits ``handed_at``: from here on the row may have been sent.
3. SMTP; right after its "250" the copy is appended to the Sent folder, then ``sent`` is
   committed. If that commit fails, the row stays ``sending`` with ``handed_at``: this sender
   records it at its next run, and should it die first, recovery asks the Sent folder.

A row still ``sending`` after its claim ran out belongs to a sender that died. If it was never
handed to SMTP it is simply sent. If it was, only the Sent folder may decide: found means it
went out (marked sent); not found means it is sent now; no Sent folder configured means it is
``held`` for staff, since nothing can tell. docs/architecture.md walks through every point a
sender can die at.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.core.clock import as_utc
from intake.core.config import Settings
from intake.core.errors import (
    ConfigError,
    DeliveryError,
    MailboxError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from intake.core.ports import SentMailbox, Transport
from intake.replies.queue import send_refusal
from intake.store import outbox as outbox_store
from intake.store import sending
from intake.store import submissions as submission_store
from intake.workflow.cases import SYSTEM_ACTOR

log = logging.getLogger(__name__)


JITTER = 0.2  # retries spread over +-20% so a backlog does not hit the server all at once
HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What one delivery run did (``intake send --json``, the daemon's outbox log line)."""

    sent: int = 0  # includes rows a crashed sender had sent (found in the Sent folder)
    retried: int = 0
    failed: int = 0
    held: int = 0  # taken out of the queue by a rule (suppressed, daily limit, unknowable)

    def as_json(self) -> dict[str, int]:
        return {"sent": self.sent, "retried": self.retried, "failed": self.failed,
                "held": self.held}  # fmt: skip


def backoff_delay(prior_attempts: int, base: float, cap: float, rand: Callable[[], float]) -> float:
    """Seconds before the next try: ``base * 2**prior_attempts``, capped, then +-20% jitter."""
    delay = min(cap, base * 2.0 ** min(prior_attempts, 60))
    return max(0.0, delay * (1.0 + JITTER * (2.0 * rand() - 1.0)))


# =========================================================================== delivery


#: Opens an SMTP session (``intake.adapters.smtp.SmtpSender``); the ``with`` block is one batch.
TransportFactory = Callable[[], AbstractContextManager[Transport]]
#: Opens an IMAP session for the Sent folder (``intake.adapters.imap.ImapMailbox``).
MailboxFactory = Callable[[], AbstractContextManager[SentMailbox]]


def sender_name() -> str:
    """Who claims rows: host, process and a random part (two senders in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:200]


def _never() -> bool:
    return False


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
        self.settings = settings
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
        #: Rows SMTP accepted whose "sent" could not be committed: row id -> copy filed.
        #: Recorded first thing at the next run; until then the row stays ``sending`` with
        #: ``handed_at``, and should this process die, recovery asks the Sent folder.
        self._unrecorded: dict[int, bool] = {}
        self._extensions: frozenset[str] | None = None

    def _now(self) -> datetime:
        return as_utc(self.clock())

    @property
    def unrecorded(self) -> frozenset[int]:
        """Rows sent whose state this sender still has to record."""
        return frozenset(self._unrecorded)

    def deliver(self, should_stop: Callable[[], bool] | None = None) -> Delivery:
        """Claim one batch of due rows, send them, and file copies in the Sent folder.

        ``should_stop`` is asked before each message: once it says yes, the message in hand is
        finished and the rest of the batch is given back (pending, as it was) at once.
        """
        stop = should_stop or _never
        counts = _Counts()
        self._record_unrecorded(counts)
        if stop():
            return counts.result()
        now = self._now()
        with self.sessions() as session, session.begin():
            budget, capped = self._automatic_budget(session, now)
            claimed = sending.claim_due(
                session,
                me=self.name,
                now=now,
                until=now + timedelta(seconds=self.claim_seconds),
                limit=self.smtp.batch_size,
                automatic_budget=budget,
            )
            if capped and sum(item.automatic for item in claimed) >= budget:
                self._note_waiting(session, now)
        with _SentFolder(self._mailbox, self._sent_folder) as sent:
            to_send = [item for item in claimed if not self._settle(item, sent, counts)]
            if to_send:
                self._send_batch(to_send, sent, counts, stop)
            if not stop():
                self._file_copies(sent, {item.id for item in to_send})
        return counts.result()

    # ------------------------------------------------------------------ the hourly cap

    def _automatic_budget(self, session: Session, now: datetime) -> tuple[int, bool]:
        """How many automatic rows this run may claim under the hourly cap, and whether the
        cap is what limits it (not another sender counting at the same moment)."""
        if not sending.lock_automatic_claims(session):
            return 0, False  # another sender is claiming right now; its run takes them
        cap = self.settings.replies.max_auto_replies_per_hour
        spent = sending.automatic_in_flight(session, now, now - HOUR)
        return max(0, cap - spent), cap - spent < self.smtp.batch_size

    def _note_waiting(self, session: Session, now: datetime) -> None:
        """Say on the automatic rows the cap keeps back why they wait, and log it."""
        waiting = sending.due_pending_automatic(session, now)
        if not waiting:
            return
        cap = self.settings.replies.max_auto_replies_per_hour
        sending.note_waiting(
            session,
            now,
            f"waiting: the hourly cap of automatic replies (replies.max_auto_replies_per_hour "
            f"= {cap}) is spent; it goes out in its turn as the hour frees up",
        )
        log.warning(
            "outbox: %d automatic repl(ies) wait: the cap of %d an hour is reached "
            "(replies.max_auto_replies_per_hour)",
            waiting,
            cap,
        )

    # ------------------------------------------------------------------ crash recovery

    def _record_unrecorded(self, counts: _Counts) -> None:
        """Commit "sent" for rows an earlier run had sent but could not record."""
        for pk, copied in sorted(self._unrecorded.items()):
            with self.sessions() as session, session.begin():
                recorded = sending.mark_sent(
                    session, pk, me=self.name, now=self._now(), copied=copied
                )
            del self._unrecorded[pk]
            if recorded:
                log.info("outbox #%d: recorded as sent (recording it failed before)", pk)
            else:
                # Another sender took the row over after our claim ran out: it asks the Sent
                # folder before sending it, which is all anyone can do now.
                log.warning("outbox #%d: sent, but another sender had taken it over", pk)

    def _settle(self, item: outbox_store.Claimed, sent: _SentFolder, counts: _Counts) -> bool:
        """For a row a dead sender left ``sending``: True when it needs no sending now."""
        if not item.recovered:
            return False
        if not item.maybe_sent:
            log.info("outbox #%d: its sender stopped before handing it to SMTP; sending it",
                     item.id)  # fmt: skip
            return False
        if not sent.enabled:
            self._hold(
                item,
                "may have been sent: its sender stopped after handing it to SMTP and before "
                "recording the answer, and there is no Sent folder to check; `intake outbox "
                "retry` sends it again",
                counts,
            )
            return True
        found = sent.contains(item.message_id)
        if found is None:
            error = "its sender stopped while sending; the Sent folder cannot be searched now"
            if item.attempts >= self.smtp.max_attempts:
                self._fail(item, error, counts)
            else:
                until = self._now() + timedelta(seconds=self._delay(item))
                with self.sessions() as session, session.begin():
                    sending.wait_for_sent_folder(
                        session, item.id, me=self.name, error=error, until=until
                    )
                counts.retried += 1
            return True
        if found:
            with self.sessions() as session, session.begin():
                sending.mark_sent(session, item.id, me=self.name, now=self._now(), copied=True)
            log.info(
                "outbox #%d: found in the Sent folder: it was sent; not sending again", item.id
            )
            counts.sent += 1
            return True
        log.info("outbox #%d: not in the Sent folder; sending it", item.id)
        return False

    # ------------------------------------------------------------------ sending

    def _send_batch(
        self,
        items: list[outbox_store.Claimed],
        sent: _SentFolder,
        counts: _Counts,
        stop: Callable[[], bool],
    ) -> None:
        left = list(items)
        try:
            with self._transport() as transport:
                self._note_extensions(transport)
                while left and not stop():
                    self._send_one(transport, left[0], sent, counts)
                    left.pop(0)
        except DeliveryError as exc:
            # Connecting failed (or the connection's goodbye did): nothing of the rest was
            # handed to SMTP, so each is retried with back-off like any temporary failure.
            for item in left:
                self._retry(item, str(exc), counts)
            left = []
        except Exception:
            # Most likely the database (the commit before DATA failed): give the rest back
            # if it can be done now; if not, their claims run out and recovery takes them.
            self._release(left)
            raise
        if left:
            # Stopping: the message in hand is done; the rest goes back to the queue at once.
            released = self._release(left)
            log.info("outbox: stopping; %d claimed repl(ies) given back unsent", released)

    def _release(self, items: list[outbox_store.Claimed]) -> int:
        try:
            with self.sessions() as session, session.begin():
                return sending.release(session, [item.id for item in items], me=self.name)
        except Exception as exc:  # noqa: BLE001 - their claims run out instead
            log.warning("outbox: could not give back %d claimed repl(ies): %s", len(items), exc)
            return 0

    def _send_one(
        self, transport: Transport, item: outbox_store.Claimed, sent: _SentFolder, counts: _Counts
    ) -> None:
        now = self._now()
        until = now + timedelta(seconds=self.claim_seconds)
        with self.sessions() as session, session.begin():
            if not sending.renew(session, item.id, me=self.name, until=until):
                log.warning("outbox #%d: another sender has taken it over; skipping", item.id)
                return
            refusal = send_refusal(session, self.settings, item, now=now)
            if refusal:
                self._hold_in(session, item, f"not sent: {refusal}", now)
                counts.held += 1
                return
            # Committed before DATA: from here on, only the Sent folder may say it was not sent.
            sending.start_sending(session, item.id, me=self.name, until=until, now=now)
        try:
            transport.send(item.raw, self.smtp.from_addr, [item.to_addr])
        except PermanentDeliveryError as exc:
            self._fail(item, str(exc), counts)
            return
        except TemporaryDeliveryError as exc:
            self._retry(item, str(exc), counts)
            return
        except Exception:  # noqa: BLE001 - one bad row must not stop the batch
            # Not an SMTP answer: whether the server took the message is unknown, so the row
            # stays handed over; when its claim runs out the Sent folder decides.
            log.exception("outbox #%d: sending failed unexpectedly; the Sent folder decides "
                          "when its claim runs out", item.id)  # fmt: skip
            counts.retried += 1
            return
        # File the copy first: a crash between SMTP's "250" and our commit then leaves the
        # evidence the sender recovering this row looks for. An IMAP APPEND takes
        # milliseconds; the commit may wait behind other writers.
        copied = sent.enabled and sent.append(item.raw)
        self._record_sent(item, copied)
        log.info("outbox #%d: %s sent to %s", item.id, item.template, item.to_addr)
        counts.sent += 1

    def _record_sent(self, item: outbox_store.Claimed, copied: bool) -> None:
        try:
            with self.sessions() as session, session.begin():
                recorded = sending.mark_sent(
                    session, item.id, me=self.name, now=self._now(), copied=copied
                )
        except Exception as exc:  # noqa: BLE001 - it was sent: never let it be sent again
            self._unrecorded[item.id] = copied
            log.error(
                "outbox #%d: sent, but recording it failed (%s: %s); it stays marked as handed "
                "to SMTP and is recorded at the next run",
                item.id,
                type(exc).__name__,
                exc,
            )
            return
        if not recorded:
            log.warning("outbox #%d: sent, but another sender had taken it over", item.id)

    def _note_extensions(self, transport: Transport) -> None:
        """Remember what the server offers (SMTPUTF8 decides whether letters to non-ASCII
        addresses are queued at all); written when it changes."""
        offered = frozenset(transport.extensions)
        if not offered or offered == self._extensions:
            return
        with self.sessions() as session, session.begin():
            outbox_store.record_extensions(
                session, self.smtp.host, self.smtp.port, offered, now=self._now()
            )
        self._extensions = offered

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
            sending.mark_retry(
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
            if sending.mark_failed(session, item.id, me=self.name, error=error, now=now):
                _history(session, item, "reply_failed", f"{error}", now)
        log.error("outbox #%d: %s to %s failed: %s", item.id, item.template, item.to_addr, error)
        counts.failed += 1

    def _hold(self, item: outbox_store.Claimed, reason: str, counts: _Counts) -> None:
        now = self._now()
        with self.sessions() as session, session.begin():
            self._hold_in(session, item, reason, now)
        counts.held += 1

    def _hold_in(
        self, session: Session, item: outbox_store.Claimed, reason: str, now: datetime
    ) -> None:
        if sending.hold(session, item.id, me=self.name, reason=reason, now=now):
            _history(session, item, "reply_held", f"held: {reason}", now)
        log.warning("outbox #%d: %s to %s held: %s", item.id, item.template, item.to_addr,
                    reason)  # fmt: skip

    # ------------------------------------------------------------------ Sent folder

    def _file_copies(self, sent: _SentFolder, just_sent: set[int]) -> None:
        if not sent.enabled:
            return
        with self.sessions() as session, session.begin():
            copies = sending.uncopied(session, self.smtp.batch_size)
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
            sending.mark_copied(session, pk)


def _history(
    session: Session, item: outbox_store.Claimed, action: str, what: str, now: datetime
) -> None:
    """An event in the history of the letter's case (a desk notice has none)."""
    if item.submission_id is None and item.claim_id is None:
        return
    submission_store.add_event(
        session,
        at=now,
        actor=SYSTEM_ACTOR,
        action=action,
        submission_id=item.submission_id,
        claim_id=item.claim_id,
        note=f"{item.template} to {item.to_addr} (outbox #{item.id}): {what}",
    )


@dataclass
class _Counts:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    held: int = 0

    def result(self) -> Delivery:
        return Delivery(self.sent, self.retried, self.failed, self.held)


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
