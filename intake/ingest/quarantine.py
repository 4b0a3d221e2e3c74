"""Quarantine: a message that raised anywhere is kept byte-exact with its reason, never dropped,
and the poll goes on with the next one; ``intake reprocess ID`` runs it through again.

Mailman shunts such a message to its "shunt" queue; here it is a ``messages`` row of kind
``quarantined`` whose raw bytes stay in the blob store, at its server location, so the poll moves
it like any recorded message and a rerun never fetches it again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from intake.core.errors import UsageError
from intake.core.mail import OVERSIZE_RULE, Kind, MessageRef
from intake.core.ports import BlobStore, Clock
from intake.ingest import parsing
from intake.ingest.batch import Batch
from intake.ingest.results import Outcome
from intake.ingest.rows import Arrival, write_quarantined
from intake.store import messages as message_store

log = logging.getLogger(__name__)


class Records(Protocol):
    """What reprocessing needs from the recorder (``intake.ingest.record.Recorder``)."""

    def record(
        self, arrival: Arrival, *, raw: bytes | None, oversize_note: str = ""
    ) -> Outcome: ...


class Quarantine:
    """Holds messages that could not be recorded, and reprocesses them on request."""

    def __init__(self, sessions: sessionmaker[Session], blobs: BlobStore, clock: Clock) -> None:
        self.sessions = sessions
        self.blobs = blobs
        self.clock = clock

    def hold(
        self,
        ref: MessageRef,
        raw: bytes,
        sha: str,
        raw_path: str,
        body_sha: str,
        received_at: datetime,
        reason: str,
        *,
        size: int | None = None,
        batch: Batch | None = None,
    ) -> Outcome:
        """Record ``raw`` as quarantined, in a savepoint of ``batch`` (else a transaction of its
        own); the same bytes recorded before are a duplicate instead. ``raw_path`` is where a
        store that writes at once has put it already; a transactional store writes it here,
        with the row.

        ``size`` is given for an oversize message, of which ``raw`` is only the header: its
        row says so (rule ``oversize``) and the poll leaves the message on the server."""
        if batch is None:
            with Batch(self.sessions) as own:
                return self.hold(
                    ref, raw, sha, raw_path, body_sha, received_at, reason, size=size, batch=own
                )
        now = self.clock()
        log.warning("quarantined %s: %s", ref, reason)
        with batch.savepoint() as session:
            if message_store.location(session, ref) is not None:
                return Outcome.DUPLICATE
            existing = message_store.recorded(session, sha)
            if existing is not None:
                message_store.add_location(session, existing.id, ref, now, duplicate=True)
                return Outcome.DUPLICATE
            if raw_path and self.blobs.transactional:
                self.blobs.put("raw", raw, session)
            message_pk = write_quarantined(
                session,
                raw=raw,
                sha=sha,
                raw_path=raw_path,
                body_sha=body_sha,
                received_at=received_at,
                now=now,
                reason=reason,
                size=size,
            )
            message_store.add_location(session, message_pk, ref, now, duplicate=False)
        return Outcome.QUARANTINED

    def reprocess(self, message_pk: int, recorder: Records) -> Outcome:
        """Run a quarantined message through the recorder again (``intake reprocess ID``);
        a new failure stays quarantined with the new reason and one more attempt counted."""
        with self.sessions() as session, session.begin():
            message = message_store.get_message(session, message_pk)
            if message.kind != Kind.QUARANTINED:
                raise UsageError(f"message {message_pk} is {message.kind}, not quarantined")
            raw_path, sha, body_sha, received_at, rule, size = (
                message.raw_path,
                message.sha256,
                message.body_sha256,
                message.received_at,
                message.rule,
                message.size,
            )
            message.attempts += 1
        if not raw_path:
            raise UsageError(f"message {message_pk} has no stored raw message to reprocess")
        raw = self.blobs.get(raw_path)
        if rule == OVERSIZE_RULE:
            return self._reprocess_oversize(message_pk, raw, size, sha, received_at, recorder)
        try:
            parsed = parsing.parse(raw)
        except Exception as exc:  # noqa: BLE001
            self._note(message_pk, f"parse: {exc}")
            return Outcome.QUARANTINED
        arrival = Arrival(
            None, len(raw), sha, raw_path, body_sha, received_at, parsed, self.clock(), message_pk
        )
        try:
            return recorder.record(arrival, raw=raw)
        except Exception as exc:  # noqa: BLE001
            log.exception("reprocess of message %s failed", message_pk)
            self._note(message_pk, f"{type(exc).__name__}: {exc}")
            return Outcome.QUARANTINED

    def _reprocess_oversize(
        self,
        message_pk: int,
        header: bytes,
        size: int,
        sha: str,
        received_at: datetime,
        recorder: Records,
    ) -> Outcome:
        """An oversize message held from its header: recorded from the header again, as
        oversize (it is still on the server, whole, and stays there)."""
        note = f"{size} bytes is over the size limit; left on the server"
        try:
            parsed = parsing.parse(header.rstrip(b"\r\n") + b"\r\n\r\n")
            now = self.clock()
            arrival = Arrival(None, size, sha, "", "", received_at, parsed, now, message_pk)
            return recorder.record(arrival, raw=None, oversize_note=note)
        except Exception as exc:  # noqa: BLE001
            log.exception("reprocess of oversize message %s failed", message_pk)
            self._note(message_pk, f"{note}; header not recorded: {type(exc).__name__}: {exc}")
            return Outcome.QUARANTINED

    def _note(self, message_pk: int, reason: str) -> None:
        with self.sessions() as session, session.begin():
            message = message_store.get_message(session, message_pk)
            message.reason = reason[:4000]
