"""Ingest assembled: new mail on the server -> stored, parsed, classified, recorded, then moved.

Per message: the raw bytes go to the blob store first (nothing is lost), then one database
transaction records the message, its attachments and what it means (a submission, a reply, a
claim, or mail we ignore), and runs the ingest hooks (replies queued, consent read, ...).
Only after that transaction has committed is the message moved on the server. A message
that raises anywhere is quarantined with its reason and the poll goes on.

Each job has its module, as Mailman splits its runners: ``poll`` (the IMAP loop), ``record``
(one message), ``quarantine`` (what could not be recorded, and reprocessing), ``rows`` (the
rows a message becomes). :class:`Ingestor` builds the three from one set of dependencies.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future

from sqlalchemy.orm import Session, sessionmaker

from intake.core.config import MailboxConfig, Settings
from intake.core.events import DkimVerifier, IngestHook
from intake.core.mail import OversizeMail, RawMail
from intake.core.ports import BlobStore, Clock, MailSource
from intake.ingest.parseahead import Parsed
from intake.ingest.poll import Poller
from intake.ingest.quarantine import Quarantine
from intake.ingest.record import Recorder
from intake.ingest.results import Outcome, PollResult, Progress


class Ingestor:
    """The poller, recorder and quarantine of one process, sharing their dependencies.
    Construct with everything it needs; no global state."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        *,
        clock: Clock,
        reply_secret: bytes,
        hooks: Sequence[IngestHook] = (),
        dkim: DkimVerifier | None = None,
    ) -> None:
        self.quarantine = Quarantine(sessions, blobs, clock)
        self.recorder = Recorder(
            settings,
            sessions,
            blobs,
            self.quarantine,
            clock=clock,
            reply_secret=reply_secret,
            hooks=hooks,
            dkim=dkim,
        )
        self.poller = Poller(settings, sessions, blobs, self.recorder, clock=clock)

    def poll(
        self,
        box: MailSource,
        config: MailboxConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> PollResult:
        """One pass over one mailbox (:meth:`intake.ingest.poll.Poller.poll`)."""
        return self.poller.poll(box, config, progress, should_stop)

    def ingest(
        self,
        raw: RawMail,
        stored: Future[tuple[str, str]] | None = None,
        parsed: Parsed | None = None,
    ) -> Outcome:
        """Record one fetched message (:meth:`intake.ingest.record.Recorder.ingest`)."""
        return self.recorder.ingest(raw, stored, parsed)

    def ingest_oversize(self, mail: OversizeMail) -> Outcome:
        return self.recorder.ingest_oversize(mail)

    def reprocess(self, message_pk: int) -> Outcome:
        """Run a quarantined message through again (``intake reprocess ID``)."""
        return self.quarantine.reprocess(message_pk, self.recorder)

    def close(self) -> None:
        """Stop the processes this ingestor keeps (document readers)."""
        self.recorder.close()

    def record_poll_error(self, config: MailboxConfig, error: str) -> None:
        self.poller.record_poll_error(config, error)

    @property
    def parse_hook(self) -> str:
        """ "module:function" the parse worker calls with each message first (tests only)."""
        return self.poller.parse_hook

    @parse_hook.setter
    def parse_hook(self, value: str) -> None:
        self.poller.parse_hook = value

    @property
    def dkim(self) -> DkimVerifier | None:
        """How a signed reply's DKIM signature is checked (None: not at all)."""
        return self.recorder.dkim

    @dkim.setter
    def dkim(self, value: DkimVerifier | None) -> None:
        self.recorder.dkim = value


__all__ = ["Ingestor", "Outcome", "PollResult", "Progress"]
