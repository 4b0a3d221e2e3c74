"""Outbox delivery: send due rows over SMTP exactly once, with retry, crash recovery and a copy
in the Sent folder.

A row moves ``pending -> sending -> sent`` (or ``failed``):

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
from intake.store import outbox as outbox_store
from intake.store import submissions as submission_store
from intake.workflow.cases import SYSTEM_ACTOR

log = logging.getLogger(__name__)


JITTER = 0.2  # retries spread over +-20% so a backlog does not hit the server all at once


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
