"""Recording one message: store its bytes, parse, check whether it is known, classify, decide,
write its rows and run the ingest hooks, in one transaction. Never raises for bad mail: what
cannot be recorded is quarantined (``ingest.quarantine``).

Mailman's incoming runner in one class; the loop around it is ``ingest.poll``.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.core.config import Settings, own_addresses
from intake.core.errors import StorageError
from intake.core.events import DkimCheck, DkimVerifier, Ingested, IngestHook, ThreadMatch
from intake.core.faults import crash_point
from intake.core.mail import (
    GENUINE_KINDS,
    NO_AUTOREPLY_KINDS,
    Kind,
    MessageRef,
    OversizeMail,
    ParsedAttachment,
    ParsedMail,
    RawMail,
    Verdict,
)
from intake.core.ports import BlobStore, Clock, blob_address
from intake.documents import extract
from intake.documents.pool import Readers
from intake.ingest import budget, classify, parsing, rows
from intake.ingest.batch import Batch
from intake.ingest.parseahead import ClassifyParams, Parsed, parse_and_classify
from intake.ingest.quarantine import Quarantine
from intake.ingest.results import Outcome
from intake.ingest.rows import Arrival, Decision
from intake.replies import render as replies
from intake.store import claims as claim_store
from intake.store import conversations as conversation_store
from intake.store import messages as message_store
from intake.store import submissions as submission_store
from intake.text import threads as threading

log = logging.getLogger(__name__)


class Recorder:
    """Turns one message into rows. Construct with everything it needs; no global state."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        quarantine: Quarantine,
        *,
        clock: Clock,
        reply_secret: bytes,
        hooks: Sequence[IngestHook] = (),
        dkim: DkimVerifier | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.quarantine = quarantine
        self.clock = clock
        self.reply_secret = reply_secret
        self.hooks = tuple(hooks)
        self.dkim = dkim
        #: Times a message's extraction budget (tests replace it with a fake clock).
        self.monotonic: Callable[[], float] = time.monotonic
        #: Long-lived document readers, started when the first document arrives (None: a
        #: process per document, as benchmarks/documents.py compares).
        self.readers: Readers | None = Readers(
            settings.extract, settings.extract.worker_memory_bytes
        )
        self.classify_params = ClassifyParams(
            own_addresses(settings),
            reply_secret,
            tuple(settings.site.domains),
            settings.site.claim_threshold,
        )

    def close(self) -> None:
        """Stop the document readers (they start again when needed)."""
        if self.readers is not None:
            self.readers.close()

    # ------------------------------------------------------------------ entry points

    def ingest(
        self,
        raw: RawMail,
        stored: Future[tuple[str, str]] | None = None,
        parsed: Parsed | None = None,
        batch: Batch | None = None,
    ) -> Outcome:
        """Store, parse, classify and record one message. Never raises for bad mail.

        ``stored`` is the write of the raw bytes when the caller started it ahead
        (:class:`~intake.adapters.blobstore.WriteAhead`); nothing is recorded until it has finished.
        A :class:`~intake.core.errors.StorageError` from either write stops the poll: fine.
        ``parsed`` is its parse and unthreaded verdict from the parse worker
        (:class:`~intake.ingest.parseahead.ParseWorker`), or the reason to quarantine it without
        parsing; without it the message is parsed here. ``batch`` is the poll's transaction for
        the whole FETCH batch (the message gets a savepoint in it); without one the message is
        committed on its own.
        """
        if batch is None:
            with Batch(self.sessions) as own:
                return self.ingest(raw, stored, parsed, own)
        if stored is None:
            sha, raw_path = self._stage("raw", raw.raw)
        body_sha = hashlib.sha256(rows.body(raw.raw)).hexdigest() if raw.raw else ""
        received_at = raw.internaldate or self.clock()
        if parsed is None:
            parsed = parse_and_classify(raw.raw, self.classify_params)
        if stored is not None:
            sha, raw_path = stored.result()
        if isinstance(parsed, str):
            return self.quarantine.hold(
                raw.ref, raw.raw, sha, raw_path, body_sha, received_at, parsed, batch=batch
            )
        mail, unthreaded = parsed
        try:
            arrival = Arrival(
                raw.ref, len(raw.raw), sha, raw_path, body_sha, received_at, mail, self.clock()
            )
            return self.record(arrival, raw=raw.raw, unthreaded=unthreaded, batch=batch)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - quarantine whatever went wrong, go on
            log.exception("could not record %s", raw.ref)
            reason = f"{type(exc).__name__}: {exc}"
            return self.quarantine.hold(
                raw.ref, raw.raw, sha, raw_path, body_sha, received_at, reason, batch=batch
            )

    def ingest_oversize(self, mail: OversizeMail) -> Outcome:
        """Record a message over the size limit from its header; it stays on the server."""
        sha = hashlib.sha256(mail.header).hexdigest()
        received_at = mail.internaldate or self.clock()
        limit = self.settings.ingest.max_message_bytes
        note = f"{mail.size} bytes is over the {limit}-byte limit; left on the server"
        try:
            parsed = parsing.parse(mail.header.rstrip(b"\r\n") + b"\r\n\r\n")
            arrival = Arrival(mail.ref, mail.size, sha, "", "", received_at, parsed, self.clock())
            return self.record(arrival, raw=None, oversize_note=note)
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.exception("could not record oversize %s", mail.ref)
            # Its header is all we hold of it: stored, so the row names real bytes, and the
            # message stays on the server (a quarantined oversize row is never moved).
            _, header_path = self._stage("raw", mail.header)
            return self.quarantine.hold(
                mail.ref, mail.header, sha, header_path, "", received_at,
                f"{note}; header not recorded: {type(exc).__name__}: {exc}", size=mail.size,
            )  # fmt: skip

    def record(
        self,
        arrival: Arrival,
        *,
        raw: bytes | None,
        oversize_note: str = "",
        unthreaded: Verdict | None = None,
        batch: Batch | None = None,
    ) -> Outcome:
        """Record one parsed message whose bytes are stored; raises what it cannot handle.
        ``unthreaded``: its verdict before the thread was known (the parse worker's);
        ``batch``: the transaction to write in (else one of its own, committed here)."""
        if batch is None:
            with Batch(self.sessions) as own:
                return self.record(
                    arrival, raw=raw, oversize_note=oversize_note, unthreaded=unthreaded, batch=own
                )
        try:
            item = self._record_once(batch, arrival, oversize_note, raw, unthreaded)
        except IntegrityError:
            # Another poller recorded the same content or location between our reads and
            # our write (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises us). The message's
            # savepoint is rolled back; the batch goes on.
            with batch.savepoint() as session:
                ref = arrival.ref
                if ref is not None and message_store.location(session, ref) is not None:
                    return Outcome.DUPLICATE
                duplicate = message_store.recorded(session, arrival.sha)
                if duplicate is not None:
                    _add_duplicate_location(session, duplicate.id, ref, arrival.now)
                    return Outcome.DUPLICATE
            raise
        if item is None:
            return Outcome.DUPLICATE
        verdict = item.verdict
        sender = arrival.parsed.sender
        log.info(
            "message %s %s: %s (%s) from %s",
            item.message_pk,
            arrival.ref or "reprocessed",
            verdict.kind,
            verdict.rule,
            sender.addr if sender else "?",
        )
        return Outcome.NEW if verdict.kind in GENUINE_KINDS else Outcome.IGNORED

    # ------------------------------------------------------------------ recording

    def _record_once(
        self,
        batch: Batch,
        arrival: Arrival,
        oversize_note: str,
        raw: bytes | None,
        unthreaded: Verdict | None = None,
    ) -> Ingested | None:
        """Record one parsed message; ``None`` when its content was recorded before.

        Most mail needs nothing slow, and is read, classified and written in one transaction
        (photos and text files are read in-process, in microseconds). Genuine mail with an
        attachment for the extraction worker (a document, an archive), or a signed reply whose
        DKIM key is looked up in DNS, does that work after committing what the batch holds so
        far, and writes in a new transaction, so the database's write lock is never held while
        a document is read.
        """
        parsed = arrival.parsed
        with batch.savepoint() as session:
            if arrival.existing_pk is None and _seen_before(
                session, arrival, lambda: self._keep(session, arrival, raw)
            ):
                return None
            thread = self._find_thread(session, parsed)
            verdict = classify.classify(parsed, self._context(thread), unthreaded)
            slow = (
                verdict.kind in GENUINE_KINDS
                and not oversize_note
                and self._slow_to_read(parsed.attachments)
            ) or (verdict.kind is Kind.REPLY and self._wants_dkim(raw, parsed))
            if not slow:
                decision = self._decide(parsed, thread, verdict, oversize_note, raw)
                return self._write_and_hook(session, arrival, thread, decision, raw)
        batch.commit()
        decision = self._decide(parsed, thread, verdict, oversize_note, raw)
        with batch.savepoint() as session:
            return self._write_and_hook(session, arrival, thread, decision, raw)

    def _decide(
        self,
        parsed: ParsedMail,
        thread: ThreadMatch | None,
        verdict: Verdict,
        oversize_note: str,
        raw: bytes | None,
    ) -> Decision:
        """What the message is, after reading its documents and checking a reply's DKIM
        signature. The attachments of genuine mail are stored here: outside any transaction
        when the work is slow, inside the message's own transaction when it is not."""
        documents: dict[int, extract.Extracted] = {}
        omitted = self._omitted(parsed.attachments, raw)
        if verdict.kind in GENUINE_KINDS and not oversize_note:
            documents = self._extract(parsed.attachments, omitted)
            texts = tuple(d.text for d in documents.values() if d.text)
            verdict = classify.with_documents(parsed, self._context(thread), verdict, texts)
        classified_as = verdict.kind
        dkim = self._check_dkim(raw, parsed) if verdict.kind is Kind.REPLY else DkimCheck()
        allowed, allowed_reason = classify.auto_reply_allowed(
            parsed, verdict, self._context(thread)
        )
        if oversize_note:
            verdict = Verdict(
                Kind.OVERSIZE,
                "oversize",
                f"{oversize_note}; otherwise {verdict.kind}: {verdict.reason}",
            )
            allowed = allowed and classified_as not in NO_AUTOREPLY_KINDS
        blobs = (
            tuple(
                (hashlib.sha256(a.payload).hexdigest(), "")  # not stored: no path
                if i in omitted
                else self._stage("att", a.payload)
                for i, a in enumerate(parsed.attachments)
            )
            if verdict.kind in GENUINE_KINDS
            else ()
        )
        return Decision(verdict, classified_as, documents, blobs, dkim, allowed, allowed_reason)

    def _write_and_hook(
        self,
        session: Session,
        arrival: Arrival,
        thread: ThreadMatch | None,
        decision: Decision,
        raw: bytes | None,
    ) -> Ingested:
        days = self.settings.replies.decision_days
        attachments = zip(arrival.parsed.attachments, decision.attachment_blobs, strict=False)
        self._keep(
            session, arrival, raw, [(a.payload, path) for a, (_, path) in attachments if path]
        )
        item = rows.write(session, arrival, thread, decision, decision_days=days)
        for hook in self.hooks:
            hook(session, item)
        crash_point("ingest.before_commit")
        return item

    # ------------------------------------------------------------------ the bytes

    def _stage(self, kind: str, data: bytes) -> tuple[str, str]:
        """Make ``data`` ready to be named by a row: stored now by a store that writes at once
        (files), only addressed for a transactional one, which :meth:`_keep` writes in the
        transaction of the rows."""
        return blob_address(kind, data) if self.blobs.transactional else self.blobs.put(kind, data)

    def _keep(
        self,
        session: Session,
        arrival: Arrival,
        raw: bytes | None,
        attachments: Sequence[tuple[bytes, str]] = (),
    ) -> None:
        """Write, in ``session``'s transaction, what a transactional store must hold before the
        rows about to be written name it: the raw message (unless reprocessed: stored then)
        and each ``(payload, path)`` attachment. In path order, so transactions sharing
        blobs (two daemons, one attachment sent twice) wait for each other in one order."""
        if not self.blobs.transactional:
            return
        todo = [(path, "att", payload) for payload, path in attachments]
        if raw is not None and arrival.raw_path and arrival.existing_pk is None:
            todo.append((arrival.raw_path, "raw", raw))
        for _, kind, data in sorted(todo, key=lambda item: item[0]):
            self.blobs.put(kind, data, session)

    # ------------------------------------------------------------------ what it is

    def _find_thread(self, session: Session, parsed: ParsedMail) -> ThreadMatch | None:
        secret = self.reply_secret
        ids = threading.canonical_ids(
            parsed.thread_ids, lambda mid: replies.verify_message_id(secret, mid)
        )
        match = submission_store.find_thread_by_ids(session, ids)
        if match is not None:
            return match
        for kind, number in replies.parse_tokens(parsed.subject):
            if kind == "submission" and submission_store.submission_exists(session, number):
                return ThreadMatch(number, None, f"token #{number}")
            if kind == "claim" and claim_store.claim_exists(session, number):
                return ThreadMatch(None, number, f"claim token #{number}")
        # Last resort: same sender, same subject without "Re:" and the like, within 30 days.
        return conversation_store.thread_by_subject(
            session,
            parsed.sender.addr if parsed.sender else "",
            parsed.subject,
            has_thread_headers=bool(parsed.thread_ids),
            now=self.clock(),
        )

    def _context(
        self, thread: ThreadMatch | None, attachment_texts: tuple[str, ...] = ()
    ) -> classify.ClassifyContext:
        return self.classify_params.context(thread.matched if thread else "", attachment_texts)

    def _wants_dkim(self, raw: bytes | None, parsed: ParsedMail) -> bool:
        return (
            self.dkim is not None
            and raw is not None
            and parsed.header("DKIM-Signature") is not None
        )

    def _check_dkim(self, raw: bytes | None, parsed: ParsedMail) -> DkimCheck:
        """A reply's DKIM signatures (consent evidence, and its alignment), outside any
        transaction: the key lookup is a DNS query that must not hold the write lock."""
        if self.dkim is None or raw is None or not self._wants_dkim(raw, parsed):
            return DkimCheck()
        try:
            checked = self.dkim(raw)
        except Exception as exc:  # noqa: BLE001 - evidence is recorded either way
            log.warning("DKIM check failed: %s", exc)
            return DkimCheck(f"error: {type(exc).__name__}"[:50])
        return DkimCheck(checked.result[:50], checked.passed)

    def _omitted(
        self, attachments: Sequence[ParsedAttachment], raw: bytes | None
    ) -> dict[int, str]:
        """The attachments not stored, by index, with why: those past the message's
        decoded-bytes budget (the raw message holds them)."""
        limit = budget.decoded_limit(self.settings.ingest.max_decoded_bytes, len(raw or b""))
        note = budget.omitted_note(limit)
        return {i: note for i, kept in enumerate(budget.kept(attachments, limit)) if not kept}

    def _extract(
        self, attachments: Sequence[ParsedAttachment], omitted: dict[int, str]
    ) -> dict[int, extract.Extracted]:
        return budget.read_all(
            attachments,
            omitted,
            self.settings.extract,
            content_type=rows.content_type,
            monotonic=self.monotonic,
            readers=self.readers,
        )

    def _slow_to_read(self, attachments: Sequence[ParsedAttachment]) -> bool:
        limits = self.settings.extract
        return any(
            extract.needs_worker(a.filename, rows.content_type(a), a.payload, limits)
            for a in attachments
        )


def _seen_before(session: Session, arrival: Arrival, keep_raw: Callable[[], None]) -> bool:
    """Whether these bytes, or this message delivered again, are recorded already; if so,
    the new server location is linked to the earlier message (and a redelivery's own bytes
    kept with ``keep_raw``)."""
    # The server location is not looked up here: ``poll`` only hands in UIDs it did not
    # know, and a second poller racing us trips the unique constraint on ``locations``.
    earlier = message_store.recorded(
        session, arrival.sha, arrival.parsed.message_id, arrival.body_sha
    )
    if earlier is None:
        return False
    if earlier.same_bytes:
        _add_duplicate_location(session, earlier.id, arrival.ref, arrival.now)
    else:
        keep_raw()
        rows.write_redelivery(session, earlier, arrival)
    return True


def _add_duplicate_location(
    session: Session, message_pk: int, ref: MessageRef | None, now: datetime
) -> None:
    if ref is not None and message_store.location(session, ref) is None:
        message_store.add_location(session, message_pk, ref, now, duplicate=True)


__all__ = ["Recorder"]
