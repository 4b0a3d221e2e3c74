"""Wiring: the one place that builds real adapters (database, blob store, IMAP, SMTP) from
settings and hands them to the use cases. The CLI and the daemon both start here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from intake import store
from intake.adapters.blobstore import LocalBlobStore
from intake.core import config as config_mod
from intake.core.clock import utcnow
from intake.core.config import MailboxConfig, Settings
from intake.core.errors import ConfigError

# Use cases and adapters are imported where they are built, not here: every CLI command starts
# from this module, and `intake list` must not pay for the parser, DKIM, IMAP or templates.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from intake.adapters.imap import ImapMailbox
    from intake.conversations.hooks import Conversations, Maintenance
    from intake.core.events import IngestHook
    from intake.ingest.pipeline import Ingestor
    from intake.ingest.results import PollResult, Progress
    from intake.replies.outbox import Delivery, OutboxSender, Replier

log = logging.getLogger(__name__)


@dataclass
class App:
    """Everything a command needs, built lazily from settings."""

    settings: Settings
    clock: Callable[[], datetime] = utcnow
    _hooks: list[IngestHook] | None = field(default=None, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return store.make_engine(self.settings.database.url, echo=self.settings.database.echo)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return store.session_factory(self.engine)

    @cached_property
    def blobs(self) -> LocalBlobStore:
        return LocalBlobStore(self.settings.storage.path)

    @cached_property
    def reply_secret(self) -> bytes:
        return config_mod.reply_secret(self.settings)

    @cached_property
    def replier(self) -> Replier:
        # Imported here: templates (jinja2) are not needed by commands that send nothing.
        from intake.replies.outbox import Replier

        return Replier(self.settings, self.reply_secret, self.clock)

    def close(self) -> None:
        """Release database connections (the engine is rebuilt if used again)."""
        if "engine" in self.__dict__:
            self.__dict__.pop("engine").dispose()
            self.__dict__.pop("sessions", None)
            self.__dict__.pop("ingestor", None)

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

    def dkim_verifier(self) -> Callable[[bytes], str]:
        """DKIM verification with the real DNS lookup, bounded by copyright.dkim_timeout."""
        return _dkim_verifier(self.settings.copyright.dkim_timeout)

    def mailbox(self, config: MailboxConfig) -> ImapMailbox:
        from intake.adapters.imap import ImapMailbox

        return ImapMailbox(config, config_mod.resolve_password(config))

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
        from intake.adapters.smtp import SmtpSender
        from intake.replies.outbox import OutboxSender

        smtp = self.settings.smtp
        if smtp is None:
            raise ConfigError("smtp: not configured: replies cannot be sent")
        password = config_mod.resolve_password(smtp)
        # Copies of sent replies go to the first mailbox's Sent folder ("" turns that off).
        box = self.settings.mailboxes[0] if self.settings.mailboxes else None
        return OutboxSender(
            self.settings,
            self.sessions,
            self.clock,
            transport=lambda: SmtpSender(smtp, password),
            mailbox=(lambda: self.mailbox(box)) if box is not None else None,
            sent_folder=box.sent_folder if box is not None else "",
        )

    def outbox_sender(self) -> OutboxSender:
        """The outbox sender of this process (one claim identity per App)."""
        return self._outbox_sender

    def deliver_outbox(self) -> Delivery:
        """Send the replies that are due (the daemon's outbox job and its wake-ups)."""
        if self.settings.smtp is None:
            from intake.replies.outbox import Delivery

            return Delivery()  # nothing can be sent; `intake check` says why
        return self.outbox_sender().deliver()

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

    def remind_copyright(self) -> Maintenance:
        """Copyright reminders and expiry, once (``intake remind``, the maintenance job)."""
        from intake.conversations.hooks import run_copyright_maintenance

        replier = self.replier if self.settings.smtp is not None else None
        with self.sessions() as session, session.begin():
            return run_copyright_maintenance(session, replier, self.settings, self.clock())


def default_hooks(app: App) -> list[IngestHook]:
    """The ingest hooks in the order they run inside each message's transaction."""
    from intake.rights.actions import Rights  # claims: open one, follow the claimant's replies

    talk = conversations(app)
    # Duplicates first: the acknowledgment hook reads duplicate_of to send "duplicate" instead.
    hooks: list[IngestHook] = [talk.dedupe_hook]
    if app.settings.smtp is not None:  # without SMTP nothing could send them: queue none
        hooks.append(app.replier.ingest_hook)  # acknowledgment, copyright request, oversize
    replier = app.replier if app.settings.smtp is not None else None
    hooks.append(Rights(app.settings, app.sessions, replier, app.clock, app.blobs).ingest_hook)
    hooks += [talk.reply_hook, talk.bounce_hook]  # replies: versions, consent; bounces
    return hooks


def _dkim_verifier(timeout: float) -> Callable[[bytes], str]:
    from intake.adapters import dkim as dkimcheck

    return lambda raw: str(dkimcheck.verify(raw, timeout=timeout))


def conversations(app: App) -> Conversations:
    """Replies, consent, bounces and duplicates, with the real DKIM check (DNS, short timeout)."""
    from intake.conversations.hooks import Conversations

    return Conversations(
        app.settings,
        replier=app.replier if app.settings.smtp is not None else None,
        blobs=app.blobs,
        dkim=app.dkim_verifier(),
        reply_secret=app.reply_secret,
    )
