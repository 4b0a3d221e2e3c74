"""Wiring: the one place that builds real adapters (database, blob store, IMAP, SMTP) from
settings and hands them to the use cases. The CLI and the daemon both start here."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from intake import store
from intake.adapters.blobstore import LocalBlobStore
from intake.core import credentials
from intake.core.clock import utcnow
from intake.core.config import Credentials, MailboxConfig, Settings
from intake.core.errors import ConfigError, LoginRefused, TemporaryDeliveryError
from intake.core.mail import Kind

# Use cases and adapters are imported where they are built, not here: every CLI command starts
# from this module, and `intake list` must not pay for the parser, DKIM, IMAP or templates.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from intake.adapters.imap import ImapMailbox
    from intake.adapters.logins import Logins, Refusal
    from intake.adapters.oauth import TokenSource
    from intake.adapters.smtp import SmtpSender
    from intake.conversations.copyright import Maintenance
    from intake.core.events import DkimVerifier, Ingested, IngestHook
    from intake.core.ports import BlobStore, Resolver
    from intake.ingest.pipeline import Ingestor
    from intake.ingest.results import PollResult, Progress
    from intake.replies.delivery import Delivery, OutboxSender
    from intake.replies.letters import Letters
    from intake.replies.queue import Replier

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a command needs, built lazily from settings."""

    settings: Settings
    clock: Callable[[], datetime] = utcnow
    #: Times the login back-off (tests inject a fake one).
    monotonic: Callable[[], float] = time.monotonic
    #: Log refused logins (the daemon's journal); a CLI command prints its one-line error.
    log_refusals: bool = True
    #: Where DKIM keys are looked up (None: the DNS; tests serve their own keys).
    dkim_resolver: Resolver | None = None
    _hooks: list[IngestHook] | None = field(default=None, repr=False)
    _tokens: dict[tuple[str, str, str], TokenSource] = field(default_factory=dict, repr=False)
    _opened: SmtpSender | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return store.make_engine(self.settings.database.url, echo=self.settings.database.echo)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return store.session_factory(self.engine)

    @cached_property
    def blobs(self) -> BlobStore:
        """The configured store of raw mail and attachments (``[storage] backend``)."""
        return self.blob_store(self.settings.storage.backend)

    def blob_store(self, backend: str) -> BlobStore:
        """The store of raw mail and attachments of ``backend`` ("filesystem": files under
        ``storage.path``; "database": rows of this database), configured or not: ``intake
        storage migrate`` reads one and writes the other."""
        if backend == "database":
            from intake.store.blobs import DatabaseBlobStore

            return DatabaseBlobStore(self.engine, clock=self.clock)
        if backend == "filesystem":
            return LocalBlobStore(self.settings.storage.path)
        raise ConfigError(f"storage.backend: unknown backend {backend!r}")

    @cached_property
    def reply_secret(self) -> bytes:
        return credentials.reply_secret(self.settings)

    @cached_property
    def replier(self) -> Replier:
        # Imported here: templates (jinja2) are not needed by commands that send nothing.
        from intake.replies.queue import Replier

        return Replier(self.settings, self.reply_secret, self.clock)

    @cached_property
    def letters(self) -> Letters:
        """Staff letters' way out: without [smtp] they queue and wait for it to be set up."""
        from intake.replies.letters import Letters

        return Letters(self.replier)

    @cached_property
    def automatic_letters(self) -> Letters:
        """What intake writes by itself (acknowledgments, receipts, reminders): without [smtp]
        nothing could ever send them, so none is queued (the history says so)."""
        from intake.replies.letters import Letters

        return Letters(self.replier if self.settings.smtp is not None else None)

    def close(self) -> None:
        """Release database connections (the engine is rebuilt if used again)."""
        if "ingestor" in self.__dict__:
            self.__dict__.pop("ingestor").close()
        if "engine" in self.__dict__:
            self.__dict__.pop("engine").dispose()
            self.__dict__.pop("sessions", None)
            self.__dict__.pop("ingestor", None)
            self.__dict__.pop("blobs", None)  # the database store holds the engine

    def ready(self) -> None:
        """Refuse to work on a database whose schema is missing or old."""
        store.require_schema(self.engine)

    def hooks(self) -> list[IngestHook]:
        if self._hooks is None:
            self._hooks = default_hooks(self)
        return self._hooks

    @cached_property
    def ingestor(self) -> Ingestor:
        from intake.ingest.pipeline import Ingestor

        return Ingestor(
            self.settings,
            self.sessions,
            self.blobs,
            clock=self.clock,
            reply_secret=self.reply_secret,
            hooks=self.hooks(),
            dkim=self.dkim_verifier(),
        )

    def dkim_verifier(self) -> DkimVerifier:
        """DKIM verification with the real DNS lookup (or ``dkim_resolver``), bounded by
        copyright.dkim_timeout."""
        return _dkim_verifier(self.settings.copyright.dkim_timeout, self.dkim_resolver)

    @cached_property
    def logins(self) -> Logins:
        """The login back-off of this process: one gate per account, IMAP and SMTP alike."""
        from intake.adapters.logins import Logins

        logins = Logins(
            self.settings.daemon.reconnect_max_seconds,
            monotonic=self.monotonic,
            listener=self._record_login,
        )
        logins.log_refusals = self.log_refusals
        return logins

    def _record_login(self, refusal: Refusal | None, account: str, service: str) -> None:
        from intake.service import health

        health.record_login(self.sessions, account, service, refusal, self.clock())

    def tokens(self, creds: Credentials) -> TokenSource | None:
        """The OAuth2 token source of an account (shared by its IMAP and SMTP logins)."""
        if creds.auth != "oauth2":
            return None
        from intake.adapters.oauth import TokenSource

        key = (creds.account, creds.oauth_token_url, creds.oauth_client_id)
        if key not in self._tokens:
            self._tokens[key] = TokenSource(creds, where=getattr(creds, "name", "smtp"))
        return self._tokens[key]

    def mailbox(self, config: MailboxConfig) -> ImapMailbox:
        from intake.adapters.imap import ImapMailbox

        tokens = self.tokens(config)
        password = "" if tokens else credentials.resolve_password(config)
        return ImapMailbox(config, password, tokens=tokens, logins=self.logins)

    def smtp_sender(self) -> SmtpSender:
        from intake.adapters.smtp import SmtpSender

        smtp = self.settings.smtp
        if smtp is None:
            raise ConfigError("smtp: not configured: replies cannot be sent")
        tokens = self.tokens(smtp)
        password = "" if tokens or not smtp.username else credentials.resolve_password(smtp)
        return SmtpSender(smtp, password, tokens=tokens, logins=self.logins)

    def poll_mailbox(
        self,
        config: MailboxConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> PollResult:
        with self.mailbox(config) as box:
            return self.ingestor.poll(box, config, progress, should_stop)

    @cached_property
    def _outbox_sender(self) -> OutboxSender:
        from intake.replies.delivery import OutboxSender

        # Copies of sent replies go to the first mailbox's Sent folder ("" turns that off).
        box = self.settings.mailboxes[0] if self.settings.mailboxes else None
        return OutboxSender(
            self.settings,
            self.sessions,
            self.clock,
            transport=self._transport,
            mailbox=(lambda: self.mailbox(box)) if box is not None else None,
            sent_folder=box.sent_folder if box is not None else "",
        )

    def _transport(self) -> AbstractContextManager[SmtpSender]:
        opened, self._opened = self._opened, None
        if opened is not None:
            return _Opened(opened)  # logged in already by deliver_outbox
        return self.smtp_sender()

    def outbox_sender(self) -> OutboxSender:
        """The outbox sender of this process (one claim identity per App)."""
        if self.settings.smtp is None:
            raise ConfigError("smtp: not configured: replies cannot be sent")
        return self._outbox_sender

    def deliver_outbox(
        self, *, strict: bool = False, should_stop: Callable[[], bool] | None = None
    ) -> Delivery:
        """Send the replies that are due (the daemon's outbox job, its wake-ups, ``intake send``).

        SMTP is logged in to before any reply is claimed, and only when one is due: a refused
        login leaves every reply untouched (no attempt spent on a configuration problem), and
        while the SMTP account or the mailbox that keeps the Sent copies waits after a refusal,
        nothing is tried at all. ``strict`` (the CLI) raises the refusal instead.
        ``should_stop`` (the daemon stopping) ends the batch after the message in hand.
        """
        from intake.replies.delivery import Delivery

        smtp = self.settings.smtp
        if smtp is None:
            if strict:
                raise ConfigError("smtp: not configured: replies cannot be sent")
            return Delivery()  # nothing can be sent; `intake check` says why
        sender = self.outbox_sender()
        accounts = [smtp.account] if smtp.username else []
        box = self.settings.mailboxes[0] if self.settings.mailboxes else None
        if box is not None and box.sent_folder:
            accounts.append(box.account)
        if not strict and any(self.logins.wait(a) > 0 for a in accounts):
            return Delivery()
        due, uncopied = self._outbox_work()
        if not due and not uncopied:
            return Delivery()
        if due:
            opened = self.smtp_sender()
            try:
                opened.__enter__()
            except LoginRefused:
                if strict:
                    raise
                return Delivery()  # logged once by the login gate; the replies wait
            except TemporaryDeliveryError:
                pass  # the sender meets the same error and schedules the retries
            else:
                self._opened = opened
        try:
            return sender.deliver(should_stop)
        finally:
            leftover, self._opened = self._opened, None
            if leftover is not None:
                leftover.close()

    def note_smtp_extensions(self, extensions: frozenset[str]) -> None:
        """Remember what the SMTP server offers (``intake check``; the sender does it too)."""
        from intake.store import outbox as outbox_store

        smtp = self.settings.smtp
        if smtp is None or not extensions:
            return
        with self.sessions() as session, session.begin():
            outbox_store.record_extensions(
                session, smtp.host, smtp.port, extensions, now=self.clock()
            )

    def _outbox_work(self) -> tuple[bool, bool]:
        """Whether a reply is due now, and whether a copy waits for the Sent folder."""
        from datetime import timedelta

        from intake.store import health as health_store
        from intake.store import sending

        # "Due before" is strict: a reply queued at this very instant counts too.
        now = self.clock()
        soon = now + timedelta(microseconds=1)
        cap = self.settings.replies.max_auto_replies_per_hour
        with self.sessions() as session, session.begin():
            due = health_store.outbox_due_before(session, soon)
            if due and due <= sending.due_pending_automatic(session, now):
                # Only automatic replies: none can go while the hourly cap is spent.
                spent = sending.automatic_in_flight(session, now, now - timedelta(hours=1))
                due = due if spent < cap else 0
            uncopied = bool(sending.uncopied(session, 1))
        return due > 0, uncopied

    def run_maintenance(self) -> dict[str, int]:
        """Periodic housekeeping (the daemon's maintenance job): task name -> items handled.

        Each task is a use case of its own; add yours here.
        """
        from intake.service import health as service

        done: dict[str, int] = {}
        done["raw mail purged"] = service.purge_ignored_raw(
            self.sessions, self.blobs, self.settings.daemon.retain_ignored_days, self.clock()
        )
        rights = self.remind_copyright()
        done["copyright reminders"] = rights.reminded
        done["copyright requests expired"] = rights.expired
        return done

    def notify_desk(self) -> int:
        """The desk's digest, if one is due (the daemon's desk job): the pieces it announced."""
        from intake.replies.desk import Desk

        return Desk(self.settings, self.automatic_letters, self.clock).digest(self.sessions).items

    def remind_copyright(self) -> Maintenance:
        """Copyright reminders and expiry, once (``intake remind``, the maintenance job)."""
        from intake.conversations.copyright import run_copyright_maintenance

        with self.sessions() as session, session.begin():
            letters = self.automatic_letters
            return run_copyright_maintenance(session, letters, self.settings, self.clock())


class _Opened:
    """An SMTP session that is already logged in, handed to the outbox sender as is."""

    def __init__(self, sender: SmtpSender) -> None:
        self._sender = sender

    def __enter__(self) -> SmtpSender:
        return self._sender

    def __exit__(self, *exc_info: object) -> None:
        self._sender.close()


@dataclass(frozen=True, slots=True)
class KindHook:
    """An ingest hook and the kinds of message it handles: the others never reach it."""

    kinds: frozenset[Kind]
    hook: IngestHook

    def __call__(self, session: Session, item: Ingested) -> None:
        if item.verdict.kind in self.kinds:
            self.hook(session, item)


def default_hooks(app: App, dkim: DkimVerifier | None = None) -> list[IngestHook]:
    """THE ingest hooks, in the order they run inside each message's transaction, each with the
    kinds of message it handles. ``dkim`` replaces the DNS-backed DKIM check (tests)."""
    from intake.conversations.binding import Binder
    from intake.conversations.copyright import CopyrightAnswers
    from intake.conversations.filing import Conversations
    from intake.replies.acknowledge import Acknowledgments
    from intake.replies.bounces import Bounces
    from intake.replies.desk import Desk
    from intake.rights.arrival import ClaimArrivals
    from intake.submissions.duplicates import Duplicates

    settings, letters = app.settings, app.automatic_letters
    answers = CopyrightAnswers(settings, letters=letters)
    binder = Binder(app.reply_secret, blobs=app.blobs, dkim=dkim or app.dkim_verifier())
    table: list[tuple[set[Kind], IngestHook]] = [
        # Duplicates first: the acknowledgment reads duplicate_of to send "duplicate" instead.
        ({Kind.SUBMISSION}, Duplicates(settings.dedupe.near_threshold).ingest_hook),
        ({Kind.SUBMISSION, Kind.OVERSIZE}, Acknowledgments(settings, letters).ingest_hook),
        ({Kind.CLAIM, Kind.REPLY}, ClaimArrivals(settings, letters).ingest_hook),
        ({Kind.REPLY}, Conversations(answers, binder).ingest_hook),
        (
            {Kind.BOUNCE},
            Bounces(app.reply_secret, settings.replies.bounce_suppression_days).ingest_hook,
        ),
        # Last: the desk hears of the submissions and claims the hooks above settled.
        ({Kind.SUBMISSION, Kind.CLAIM}, Desk(settings, letters, app.clock).ingest_hook),
    ]
    return [KindHook(frozenset(kinds), hook) for kinds, hook in table]


def _dkim_verifier(timeout: float, resolver: Resolver | None) -> DkimVerifier:
    from intake.adapters import dkim as dkimcheck
    from intake.core.events import DkimCheck

    def verify(raw: bytes) -> DkimCheck:
        found = dkimcheck.verify(raw, resolver, timeout=timeout)
        return DkimCheck(str(found), found.passed)

    return verify
