"""Ingest use case: new mail on the server -> stored, parsed, classified, recorded, then moved.

Per message: the raw bytes go to the blob store first (nothing is lost), then one database
transaction records the message, its attachments and what it means (a submission, a reply, a
claim, or mail we ignore), and runs the ingest hooks (replies queued, consent read, ...).
Only after that transaction has committed is the message moved on the server. A message
that raises anywhere is quarantined with its reason and the poll goes on.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.blobstore import WriteAhead
from intake.core.config import MailboxConfig, Settings, own_addresses
from intake.core.errors import MailboxError, StorageError, UsageError
from intake.core.mail import (
    NO_AUTOREPLY_KINDS,
    FolderInfo,
    Kind,
    MessageRef,
    MessageSize,
    OversizeMail,
    ParsedAttachment,
    ParsedMail,
    RawMail,
    Verdict,
)
from intake.core.ports import BlobStore, MailSource
from intake.documents import captions, extract
from intake.ingest import classify, parsing
from intake.ingest import threads as threading
from intake.ingest.parseahead import MIN_MESSAGES, ParseAhead, Parsed
from intake.replies import render as replies
from intake.store import claims as claim_store
from intake.store import conversations as conversation_store
from intake.store import insert_row
from intake.store import messages as message_store
from intake.store import submissions as submission_store
from intake.store.models import Attachment, Event, Message, Submission, Version
from intake.store.submissions import ThreadMatch

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "intake"
#: Bytes fetched in one FETCH at most (besides the per-batch message count).
BATCH_BYTES = 32 * 1024 * 1024
GENUINE_KINDS = frozenset({Kind.SUBMISSION, Kind.REPLY, Kind.CLAIM})
DOCUMENT_KINDS = frozenset({"document"})


class Outcome(StrEnum):
    NEW = "new"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class StoredAttachment:
    """An attachment as stored, with what extraction made of it."""

    attachment_id: int
    filename: str
    safe_name: str
    content_type: str
    size: int
    sha256: str
    kind: str
    text: str
    error: str


@dataclass(frozen=True, slots=True)
class Ingested:
    """What the core recorded for one message; handed to every ingest hook."""

    message_pk: int
    parsed: ParsedMail
    verdict: Verdict
    classified_as: Kind  # the verdict before oversize overrode it
    sha256: str
    raw_path: str
    received_at: datetime
    now: datetime
    submission_id: int | None = None
    claim_id: int | None = None
    thread: ThreadMatch | None = None
    attachments: tuple[StoredAttachment, ...] = ()
    auto_reply_allowed: bool = False
    auto_reply_reason: str = ""
    dkim: str = ""  # a reply's DKIM result, checked before the transaction; "" if not checked


@dataclass(frozen=True, slots=True)
class _Common:
    """One message on its way to the database: where it is, its stored bytes, its parse."""

    ref: MessageRef | None  # None when reprocessing a quarantined message
    size: int
    sha: str
    raw_path: str
    body_sha: str
    received_at: datetime
    parsed: ParsedMail
    now: datetime
    existing_pk: int | None  # the quarantined row a reprocess fills in


@dataclass(frozen=True, slots=True)
class _Decision:
    """What classification, extraction and the DKIM check made of a message."""

    verdict: Verdict
    classified_as: Kind  # the verdict before oversize overrode it
    documents: dict[int, extract.Extracted]
    attachment_blobs: tuple[tuple[str, str], ...]  # (sha256, path) per attachment of genuine mail
    dkim: str
    auto_reply_allowed: bool
    auto_reply_reason: str


class IngestHook(Protocol):
    """Runs inside the message's transaction after the core has recorded it."""

    def __call__(self, session: Session, item: Ingested) -> None: ...


@dataclass(frozen=True, slots=True)
class PollResult:
    """Counts for one pass over one or more mailboxes (``intake poll --json``)."""

    fetched: int = 0
    new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    ignored: int = 0
    errors: tuple[str, ...] = field(default_factory=tuple)

    def add(self, outcome: Outcome) -> PollResult:
        return replace(
            self,
            fetched=self.fetched + 1,
            new=self.new + (outcome is Outcome.NEW),
            duplicates=self.duplicates + (outcome is Outcome.DUPLICATE),
            quarantined=self.quarantined + (outcome is Outcome.QUARANTINED),
            ignored=self.ignored + (outcome is Outcome.IGNORED),
        )

    def __add__(self, other: PollResult) -> PollResult:
        return PollResult(
            self.fetched + other.fetched,
            self.new + other.new,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.ignored + other.ignored,
            self.errors + other.errors,
        )

    def as_json(self) -> dict[str, int]:
        return {
            "fetched": self.fetched,
            "new": self.new,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
            "ignored": self.ignored,
        }


Progress = Callable[[int, int], None]


class Ingestor:
    """Turns raw mail into rows. Construct with everything it needs; no global state."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        *,
        clock: Callable[[], datetime],
        reply_secret: bytes,
        hooks: Sequence[IngestHook] = (),
        dkim: Callable[[bytes], str] | None = None,
        parse_ahead_min: int = MIN_MESSAGES,
    ) -> None:
        self.settings = settings
        #: New messages in one poll from which parsing moves to a worker process.
        self.parse_ahead_min = parse_ahead_min
        self.dkim = dkim
        self.sessions = sessions
        self.blobs = blobs
        self.clock = clock
        self.reply_secret = reply_secret
        self.hooks = tuple(hooks)
        self._own = own_addresses(settings)

    # ------------------------------------------------------------------ polling

    def poll(
        self,
        box: MailSource,
        config: MailboxConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> PollResult:
        """One pass over ``config.folder``: ingest what is new, move what is committed.

        ``should_stop`` is asked between messages (the daemon's shutdown, a lost lease): when
        it says yes, the pass moves what it has committed and returns early.
        """
        folder = self._select(box, config)
        result = PollResult()
        uids = box.uids()
        with self.sessions() as session, session.begin():
            known = message_store.known_uids(session, config.name, folder.name, folder.uidvalidity)
        # Committed earlier but not moved (a crash between commit and move): move them now.
        leftover = [
            uid
            for uid in uids
            if uid in known and not known[uid].moved and known[uid].kind != Kind.OVERSIZE
        ]
        self._mark(box, config, folder, leftover)
        new_uids = [uid for uid in uids if uid not in known]
        self._set_backlog(config, folder, len(new_uids))
        if not new_uids:
            self._poll_succeeded(config, folder)
            return result
        done = 0
        limit = self.settings.ingest.max_message_bytes
        sizes = box.sizes(new_uids)
        normal = [s for s in sizes if s.size <= limit]
        for size in (s for s in sizes if s.size > limit):
            header = box.fetch_header(size.uid)
            ref = MessageRef(config.name, folder.name, folder.uidvalidity, size.uid)
            result = result.add(
                self.ingest_oversize(OversizeMail(ref, size.size, header, size.internaldate))
            )
            done += 1
            if progress:
                progress(done, len(sizes))
        backlog = len(normal) >= self.parse_ahead_min
        with WriteAhead(self.blobs) as ahead, ParseAhead(enabled=backlog) as parser:
            for batch in _batches(normal, config.batch_size, BATCH_BYTES):
                committed: list[int] = []
                # Every raw write of the batch starts now, and on a large backlog its parsing
                # too: the writer thread fsyncs and the parse worker parses while this thread
                # records; each message waits for its own write and parse.
                fetched = list(box.fetch([s.uid for s in batch]))
                pending = deque(
                    zip(
                        fetched,
                        [ahead.put("raw", raw.raw) for raw in fetched],
                        parser.submit([raw.raw for raw in fetched]),
                        strict=True,
                    )
                )
                del fetched  # each message is freed once it is recorded
                while pending:
                    raw, stored, parsed_ahead = pending.popleft()
                    if should_stop is not None and should_stop():
                        break
                    outcome = self.ingest(raw, stored, parsed_ahead)
                    result = result.add(outcome)
                    committed.append(raw.ref.uid)
                    done += 1
                    if progress:
                        progress(done, len(sizes))
                self._mark(box, config, folder, committed)
                self._set_backlog(config, folder, len(sizes) - done)
                if should_stop is not None and should_stop():
                    return result
        self._poll_succeeded(config, folder)
        return result

    def _select(self, box: MailSource, config: MailboxConfig) -> FolderInfo:
        folder = box.select(config.folder)
        now = self.clock()
        with self.sessions() as session, session.begin():
            state = message_store.mailbox_state(session, config.name, folder.name)
            if state.uidvalidity is not None and state.uidvalidity != folder.uidvalidity:
                # Every UID is new under the new UIDVALIDITY; content hashes keep us from
                # recording the same message twice, so this is a full rescan, not a re-ingest.
                log.warning(
                    "mailbox %s folder %s: UIDVALIDITY changed from %s to %s, rescanning",
                    config.name,
                    folder.name,
                    state.uidvalidity,
                    folder.uidvalidity,
                )
            state.uidvalidity = folder.uidvalidity
            state.last_poll_at = now
        return folder

    def _mark(
        self, box: MailSource, config: MailboxConfig, folder: FolderInfo, uids: list[int]
    ) -> None:
        if not uids:
            return
        try:
            how = box.mark_processed(uids, config.processed_folder)
        except MailboxError as exc:
            # Committed already: the next poll finds these UIDs known and not moved, and
            # tries again. Nothing is lost and nothing is recorded twice.
            log.warning("mailbox %s: could not move %d messages: %s", config.name, len(uids), exc)
            return
        with self.sessions() as session, session.begin():
            message_store.mark_moved(
                session, config.name, folder.name, folder.uidvalidity, uids, self.clock()
            )
        log.debug("mailbox %s: %s %d processed messages", config.name, how, len(uids))

    def _set_backlog(self, config: MailboxConfig, folder: FolderInfo, backlog: int) -> None:
        with self.sessions() as session, session.begin():
            message_store.mailbox_state(session, config.name, folder.name).backlog = backlog

    def _poll_succeeded(self, config: MailboxConfig, folder: FolderInfo) -> None:
        with self.sessions() as session, session.begin():
            state = message_store.mailbox_state(session, config.name, folder.name)
            state.last_success_at = self.clock()
            state.last_error = ""
            state.backlog = 0

    def record_poll_error(self, config: MailboxConfig, error: str) -> None:
        with self.sessions() as session, session.begin():
            state = message_store.mailbox_state(session, config.name, config.folder)
            state.last_error = error
            state.last_error_at = self.clock()

    # ------------------------------------------------------------------ one message

    def ingest(
        self,
        raw: RawMail,
        stored: Future[tuple[str, str]] | None = None,
        parsed_ahead: Future[Parsed] | None = None,
    ) -> Outcome:
        """Store, parse, classify and record one message. Never raises for bad mail.

        ``stored`` is the write of the raw bytes when the caller started it ahead
        (:class:`~intake.adapters.blobstore.WriteAhead`); nothing is recorded until it has finished.
        A :class:`~intake.core.errors.StorageError` from either write stops the poll: fine.
        ``parsed_ahead`` is its parse in a worker process
        (:class:`~intake.ingest.parseahead.ParseAhead`); if that failed it is parsed here.
        """
        if stored is None:
            sha, raw_path = self.blobs.put("raw", raw.raw)
        body_sha = hashlib.sha256(_body(raw.raw)).hexdigest() if raw.raw else ""
        received_at = raw.internaldate or self.clock()
        parsed = _parsed_ahead(parsed_ahead) if parsed_ahead is not None else None
        if parsed is None:
            parsed = parsing.parse_or_reason(raw.raw)
        if stored is not None:
            sha, raw_path = stored.result()
        if isinstance(parsed, str):
            return self._quarantine(raw.ref, raw.raw, sha, raw_path, body_sha, received_at, parsed)
        try:
            return self._record(
                raw.ref, len(raw.raw), sha, raw_path, body_sha, received_at, parsed, raw=raw.raw
            )
        except StorageError:
            raise
        except Exception as exc:  # noqa: BLE001 - quarantine whatever went wrong, go on
            log.exception("could not record %s", raw.ref)
            reason = f"{type(exc).__name__}: {exc}"
            return self._quarantine(raw.ref, raw.raw, sha, raw_path, body_sha, received_at, reason)

    def ingest_oversize(self, mail: OversizeMail) -> Outcome:
        """Record a message over the size limit from its header; it stays on the server."""
        sha = hashlib.sha256(mail.header).hexdigest()
        received_at = mail.internaldate or self.clock()
        try:
            parsed = parsing.parse(mail.header.rstrip(b"\r\n") + b"\r\n\r\n")
        except Exception as exc:  # noqa: BLE001
            reason = f"oversize ({mail.size} bytes), header unparseable: {exc}"
            return self._quarantine(mail.ref, mail.header, sha, "", "", received_at, reason)
        limit = self.settings.ingest.max_message_bytes
        note = f"{mail.size} bytes is over the {limit}-byte limit; left on the server"
        try:
            return self._record(
                mail.ref, mail.size, sha, "", "", received_at, parsed, oversize_note=note
            )
        except Exception as exc:  # noqa: BLE001
            log.exception("could not record oversize %s", mail.ref)
            return self._quarantine(mail.ref, mail.header, sha, "", "", received_at, f"{exc}")

    def reprocess(self, message_pk: int) -> Outcome:
        """Run a quarantined message through the pipeline again (``intake reprocess ID``)."""
        with self.sessions() as session, session.begin():
            message = message_store.get_message(session, message_pk)
            if message.kind != Kind.QUARANTINED:
                raise UsageError(f"message {message_pk} is {message.kind}, not quarantined")
            raw_path, sha, body_sha, received_at = (
                message.raw_path,
                message.sha256,
                message.body_sha256,
                message.received_at,
            )
            message.attempts += 1
        if not raw_path:
            raise UsageError(f"message {message_pk} has no stored raw message to reprocess")
        raw = self.blobs.get(raw_path)
        try:
            parsed = parsing.parse(raw)
        except Exception as exc:  # noqa: BLE001
            self._requarantine(message_pk, f"parse: {exc}")
            return Outcome.QUARANTINED
        try:
            return self._record(
                None,
                len(raw),
                sha,
                raw_path,
                body_sha,
                received_at,
                parsed,
                existing_pk=message_pk,
                raw=raw,
            )
        except Exception as exc:  # noqa: BLE001
            log.exception("reprocess of message %s failed", message_pk)
            self._requarantine(message_pk, f"{type(exc).__name__}: {exc}")
            return Outcome.QUARANTINED

    # ------------------------------------------------------------------ recording

    def _record(
        self,
        ref: MessageRef | None,
        size: int,
        sha: str,
        raw_path: str,
        body_sha: str,
        received_at: datetime,
        parsed: ParsedMail,
        *,
        oversize_note: str = "",
        existing_pk: int | None = None,
        raw: bytes | None = None,
    ) -> Outcome:
        now = self.clock()
        common = _Common(ref, size, sha, raw_path, body_sha, received_at, parsed, now, existing_pk)
        try:
            item = self._record_once(common, oversize_note, raw)
        except IntegrityError:
            # Another poller recorded the same content or location between our reads and
            # our write (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises us).
            with self.sessions() as session, session.begin():
                if ref is not None and message_store.location(session, ref) is not None:
                    return Outcome.DUPLICATE
                duplicate = message_store.recorded(session, sha)
                if duplicate is not None:
                    self._add_duplicate_location(session, duplicate.id, ref, now)
                    return Outcome.DUPLICATE
            raise
        if item is None:
            return Outcome.DUPLICATE
        verdict = item.verdict
        log.info(
            "message %s %s: %s (%s) from %s",
            item.message_pk,
            ref or "reprocessed",
            verdict.kind,
            verdict.rule,
            parsed.sender.addr if parsed.sender else "?",
        )
        return Outcome.NEW if verdict.kind in GENUINE_KINDS else Outcome.IGNORED

    def _record_once(
        self, common: _Common, oversize_note: str, raw: bytes | None
    ) -> Ingested | None:
        """Record one parsed message; ``None`` when its content was recorded before.

        Most mail needs nothing slow, and is read, classified and written in one transaction
        (photos and text files are read in-process, in microseconds). Genuine mail with an
        attachment for the extraction worker (a document, an archive), or a signed reply whose
        DKIM key is looked up in DNS, does that work between a short read transaction and the
        write transaction, so the database's write lock is never held while a document is read.
        """
        parsed = common.parsed
        with self.sessions() as session, session.begin():
            if common.existing_pk is None and self._seen_before(session, common):
                return None
            thread = self._find_thread(session, parsed)
            verdict = classify.classify(parsed, self._context(thread))
            slow = (
                verdict.kind in GENUINE_KINDS
                and not oversize_note
                and self._slow_to_read(parsed.attachments)
            ) or (verdict.kind is Kind.REPLY and self._wants_dkim(raw, parsed))
            if not slow:
                decision = self._decide(parsed, thread, verdict, oversize_note, raw)
                return self._write_and_hook(session, common, thread, decision)
        decision = self._decide(parsed, thread, verdict, oversize_note, raw)
        with self.sessions() as session, session.begin():
            return self._write_and_hook(session, common, thread, decision)

    def _seen_before(self, session: Session, common: _Common) -> bool:
        """Whether these bytes, or this message delivered again, are recorded already; if so,
        the new server location is linked to the earlier message."""
        # The server location is not looked up here: ``poll`` only hands in UIDs it did not
        # know, and a second poller racing us trips the unique constraint on ``locations``.
        earlier = message_store.recorded(
            session, common.sha, common.parsed.message_id, common.body_sha
        )
        if earlier is None:
            return False
        if earlier.same_bytes:
            self._add_duplicate_location(session, earlier.id, common.ref, common.now)
        else:
            self._record_redelivery(session, earlier, common)
        return True

    def _decide(
        self,
        parsed: ParsedMail,
        thread: ThreadMatch | None,
        verdict: Verdict,
        oversize_note: str,
        raw: bytes | None,
    ) -> _Decision:
        """What the message is, after reading its documents and checking a reply's DKIM
        signature. The attachments of genuine mail are stored here: outside any transaction
        when the work is slow, inside the message's own transaction when it is not."""
        documents: dict[int, extract.Extracted] = {}
        if verdict.kind in GENUINE_KINDS and not oversize_note:
            documents = self._extract(parsed.attachments)
            texts = tuple(d.text for d in documents.values() if d.text)
            if verdict.kind is Kind.SUBMISSION and texts:
                verdict = classify.classify(parsed, self._context(thread, texts))
        classified_as = verdict.kind
        dkim = self._check_dkim(raw, parsed) if verdict.kind is Kind.REPLY else ""
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
            tuple(self.blobs.put("att", a.payload) for a in parsed.attachments)
            if verdict.kind in GENUINE_KINDS
            else ()
        )
        return _Decision(verdict, classified_as, documents, blobs, dkim, allowed, allowed_reason)

    def _write_and_hook(
        self, session: Session, common: _Common, thread: ThreadMatch | None, decision: _Decision
    ) -> Ingested:
        item = self._write(session, common, thread, decision)
        for hook in self.hooks:
            hook(session, item)
        return item

    def _record_redelivery(
        self, session: Session, earlier: message_store.Recorded, common: _Common
    ) -> None:
        """The same message delivered again with other trace headers: keep its bytes, link it
        to what the first copy became, and do nothing else (no second submission or reply)."""
        message_pk = insert_row(
            session,
            Message,
            dict(
                _message_fields(common),
                kind=earlier.kind,
                rule="redelivery",
                reason=f"same Message-ID and body as message {earlier.id}; delivered again",
                submission_id=earlier.submission_id,
                claim_id=earlier.claim_id,
            ),
        )
        if common.ref is not None:
            message_store.add_location(session, message_pk, common.ref, common.now, duplicate=True)

    def _add_duplicate_location(
        self, session: Session, message_pk: int, ref: MessageRef | None, now: datetime
    ) -> None:
        if ref is not None and message_store.location(session, ref) is None:
            message_store.add_location(session, message_pk, ref, now, duplicate=True)

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
        secret = self.reply_secret
        return classify.ClassifyContext(
            own_addresses=self._own,
            is_own_message_id=lambda mid: replies.verify_message_id(secret, mid),
            thread_match=thread.matched if thread else "",
            site_domains=tuple(self.settings.site.domains),
            claim_threshold=self.settings.site.claim_threshold,
            claim_attachment_texts=attachment_texts,
        )

    def _wants_dkim(self, raw: bytes | None, parsed: ParsedMail) -> bool:
        return (
            self.dkim is not None
            and raw is not None
            and parsed.header("DKIM-Signature") is not None
        )

    def _check_dkim(self, raw: bytes | None, parsed: ParsedMail) -> str:
        """A reply's DKIM result (it may become consent evidence), outside any transaction:
        the key lookup is a DNS query that must not hold the database's write lock."""
        if self.dkim is None or raw is None or not self._wants_dkim(raw, parsed):
            return ""
        try:
            return self.dkim(raw)[:50]
        except Exception as exc:  # noqa: BLE001 - evidence is recorded either way
            log.warning("DKIM check failed: %s", exc)
            return f"error: {type(exc).__name__}"[:50]

    def _extract(self, attachments: Sequence[ParsedAttachment]) -> dict[int, extract.Extracted]:
        return {
            i: extract.extract(
                a.filename,
                _content_type(a),
                a.payload,
                self.settings.extract,
                memory_bytes=self.settings.extract.worker_memory_bytes,
            )
            for i, a in enumerate(attachments)
        }

    def _slow_to_read(self, attachments: Sequence[ParsedAttachment]) -> bool:
        limits = self.settings.extract
        return any(
            extract.needs_worker(a.filename, _content_type(a), a.payload, limits)
            for a in attachments
        )

    def _write(
        self, session: Session, common: _Common, thread: ThreadMatch | None, decision: _Decision
    ) -> Ingested:
        parsed, now, verdict = common.parsed, common.now, decision.verdict
        submission_id: int | None = None
        claim_id: int | None = None
        if verdict.kind is Kind.REPLY and thread is not None:
            submission_id, claim_id = thread.submission_id, thread.claim_id
        fields = dict(
            _message_fields(common),
            kind=verdict.kind.value,
            rule=verdict.rule[:50],
            reason=verdict.reason,
            auth_results="\n".join(parsed.header_all("Authentication-Results")),
            body_text=parsed.text if verdict.kind in GENUINE_KINDS else "",
            submission_id=submission_id,
            claim_id=claim_id,
        )
        if common.existing_pk is not None:
            message_pk = common.existing_pk
            message_store.update_message(session, message_pk, fields)
        else:
            message_pk = insert_row(session, Message, fields)
        if common.ref is not None:
            message_store.add_location(session, message_pk, common.ref, now, duplicate=False)

        documents = decision.documents
        if verdict.kind is Kind.SUBMISSION:
            submission_id = self._new_submission(
                session, message_pk, parsed, documents, common.received_at, now
            )
            message_store.update_message(session, message_pk, {"submission_id": submission_id})
        found = _captions(parsed, documents) if decision.attachment_blobs else {}
        stored = tuple(
            self._store_attachment(
                session,
                message_pk,
                submission_id,
                parsed.attachments[i],
                blob,
                documents.get(i),
                found.get(i, ""),
            )
            for i, blob in enumerate(decision.attachment_blobs)
        )
        return Ingested(
            message_pk=message_pk,
            parsed=parsed,
            verdict=verdict,
            classified_as=decision.classified_as,
            sha256=common.sha,
            raw_path=common.raw_path,
            received_at=common.received_at,
            now=now,
            submission_id=submission_id,
            claim_id=claim_id,
            thread=thread,
            attachments=stored,
            auto_reply_allowed=decision.auto_reply_allowed,
            auto_reply_reason=decision.auto_reply_reason,
            dkim=decision.dkim,
        )

    def _new_submission(
        self,
        session: Session,
        message_pk: int,
        parsed: ParsedMail,
        documents: dict[int, extract.Extracted],
        received_at: datetime,
        now: datetime,
    ) -> int:
        """Insert the submission a message makes, its "received" event and its version 1."""
        sender = parsed.sender
        row = submission_row(
            sender=sender.addr if sender else "",
            sender_name=sender.name if sender else "",
            subject=parsed.subject,
            body_text=parsed.text,
            documents=[
                (parsed.attachments[i].filename, d.text)
                for i, d in sorted(documents.items())
                if d.kind in DOCUMENT_KINDS and d.text.strip()
            ],
            attachment_hashes=[
                hashlib.sha256(a.payload).hexdigest() for a in parsed.attachments if not a.inline
            ],
            received_at=received_at,
            decision_days=self.settings.replies.decision_days,
            message_pk=message_pk,
            now=now,
        )
        submission_id = insert_row(session, Submission, row)
        insert_row(
            session,
            Event,
            dict(
                at=now,
                actor=SYSTEM_ACTOR,
                action="received",
                submission_id=submission_id,
                to_status="received",
                note=f"message {message_pk}",
            ),
        )
        insert_row(
            session,
            Version,
            dict(
                submission_id=submission_id,
                message_pk=message_pk,
                number=1,
                article_text=row["article_text"],
                char_count=row["char_count"],
                created_at=now,
            ),
        )
        return submission_id

    def _store_attachment(
        self,
        session: Session,
        message_pk: int,
        submission_id: int | None,
        att: ParsedAttachment,
        blob: tuple[str, str],
        extracted: extract.Extracted | None,
        caption: str = "",
    ) -> StoredAttachment:
        sha, path = blob
        meta = dict(extracted.meta) if extracted else {}
        if caption:
            meta["caption"] = caption
        row = StoredAttachment(
            attachment_id=0,
            filename=att.filename,
            safe_name=att.safe_name,
            content_type=att.content_type,
            size=att.size,
            sha256=sha,
            kind=extracted.kind if extracted else "",
            text=extracted.text if extracted else "",
            error=extracted.error if extracted else "",
        )
        attachment_id = insert_row(
            session,
            Attachment,
            dict(
                message_pk=message_pk,
                submission_id=submission_id,
                filename=row.filename,
                safe_name=row.safe_name,
                content_type=row.content_type,
                size=row.size,
                sha256=sha,
                blob_path=path,
                inline=att.inline,
                kind=row.kind,
                text=row.text,
                text_chars=len(row.text),
                extract_error=row.error,
                encrypted=extracted.encrypted if extracted else False,
                meta=meta,
            ),
        )
        return replace(row, attachment_id=attachment_id)

    # ------------------------------------------------------------------ quarantine

    def _quarantine(
        self,
        ref: MessageRef,
        raw: bytes,
        sha: str,
        raw_path: str,
        body_sha: str,
        received_at: datetime,
        reason: str,
    ) -> Outcome:
        now = self.clock()
        log.warning("quarantined %s: %s", ref, reason)
        with self.sessions() as session, session.begin():
            if message_store.location(session, ref) is not None:
                return Outcome.DUPLICATE
            existing = message_store.recorded(session, sha)
            if existing is not None:
                message_store.add_location(session, existing.id, ref, now, duplicate=True)
                return Outcome.DUPLICATE
            message_pk = insert_row(
                session,
                Message,
                dict(
                    sha256=sha,
                    body_sha256=body_sha,
                    size=len(raw),
                    raw_path=raw_path,
                    message_id=_header_message_id(raw),
                    received_at=received_at,
                    ingested_at=now,
                    kind=Kind.QUARANTINED.value,
                    rule="quarantine",
                    reason=reason[:4000],
                    defects=[],
                ),
            )
            message_store.add_location(session, message_pk, ref, now, duplicate=False)
        return Outcome.QUARANTINED

    def _requarantine(self, message_pk: int, reason: str) -> None:
        with self.sessions() as session, session.begin():
            message = message_store.get_message(session, message_pk)
            message.reason = reason[:4000]


# ---------------------------------------------------------------------- helpers

_PREFIX = re.compile(r"^\s*((re|fw|fwd|回复|答复|转发|投稿|来稿|稿件)\s*[:：]\s*)+", re.IGNORECASE)
_BOOK_TITLE = re.compile(r"《([^》\n]{1,100})》")


def _parsed_ahead(future: Future[Parsed]) -> Parsed | None:
    """A parse worker's result; ``None`` (parse in-process) when the worker failed."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - a dead worker costs speed, never a message
        log.warning("parse worker failed (%s: %s); parsing in-process", type(exc).__name__, exc)
        return None


def _content_type(attachment: ParsedAttachment) -> str:
    """The attachment's content type with its charset parameter, as extraction reads it."""
    if attachment.charset:
        return f"{attachment.content_type}; charset={attachment.charset}"
    return attachment.content_type


def _message_fields(common: _Common) -> dict[str, object]:
    """The columns of a ``messages`` row that come from the bytes and the parsed headers."""
    parsed = common.parsed
    sender = parsed.sender
    return {
        "sha256": common.sha,
        "body_sha256": common.body_sha,
        "size": common.size,
        "raw_path": common.raw_path,
        "message_id": parsed.message_id[:998],
        "in_reply_to": " ".join(parsed.in_reply_to),
        "references": " ".join(parsed.references),
        "sender": (sender.addr if sender else "")[:320],
        "sender_name": (sender.name if sender else "")[:500],
        "subject": parsed.subject,
        "date": parsed.date,
        "received_at": common.received_at,
        "ingested_at": common.now,
        "defects": list(parsed.defects),
    }


def submission_row(
    *,
    sender: str,
    sender_name: str,
    subject: str,
    body_text: str,
    documents: Sequence[tuple[str, str]],
    attachment_hashes: Iterable[str],
    received_at: datetime,
    decision_days: int,
    message_pk: int,
    now: datetime,
) -> dict[str, Any]:
    """The columns of a new ``received`` submission: the article chosen from the body and the
    documents' texts (``(filename, text)``), its counts and hashes, and its decision deadline.
    Ingest and a message reclassified as a submission both build it here."""
    article, source = extract.choose_article(body_text, documents)
    chars, words = extract.count_words(article)
    hashes = sorted(attachment_hashes)
    return {
        "status": "received",
        "copyright_status": "not_requested",
        "sender": sender.lower()[:320],
        "sender_name": sender_name[:500],
        "subject": subject,
        "title": title_from(subject, article),
        "received_at": received_at,
        "decision_due": received_at + timedelta(days=decision_days),
        "message_pk": message_pk,
        "body_text": body_text,
        "article_text": article,
        "article_source": source[:500],
        "char_count": chars,
        "word_count": words,
        "content_hash": content_hash(article),
        "attachments_hash": (
            hashlib.sha256(" ".join(hashes).encode()).hexdigest() if hashes else ""
        ),
        "updated_at": now,
    }


def title_from(subject: str, article: str) -> str:
    """A working title: 《…》 in the subject, else the subject without prefixes, else line one."""
    found = _BOOK_TITLE.search(subject)
    if found:
        return found.group(1).strip()
    cleaned = _PREFIX.sub("", subject).strip()
    if cleaned:
        return cleaned[:200]
    for line in article.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _captions(parsed: ParsedMail, documents: dict[int, extract.Extracted]) -> dict[int, str]:
    """Captions the body gives the image attachments, by attachment index.

    图1/第一张 count the attached photos; inline images (signature logos, pictures pasted into
    an HTML body) only when nothing else is attached, so a logo never shifts the numbering.
    """
    images = [i for i, d in sorted(documents.items()) if d.kind == "image"]
    counted = [i for i in images if not parsed.attachments[i].inline] or images
    if not counted or not parsed.text:
        return {}
    names = [parsed.attachments[i].filename or parsed.attachments[i].safe_name for i in counted]
    found = captions.find(parsed.text, names)
    return {i: found[name] for i, name in zip(counted, names, strict=True) if name in found}


def content_hash(text: str) -> str:
    """Hash of the article text with whitespace and punctuation differences removed."""
    normal = re.sub(r"[\W_]+", "", text.casefold())
    return hashlib.sha256(normal.encode("utf-8")).hexdigest() if normal else ""


def _body(raw: bytes) -> memoryview:
    """The bytes after the header block, without copying them (messages can be 50 MB)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(sep)
        if index >= 0:
            return memoryview(raw)[index + len(sep) :]
    return memoryview(b"")


_MESSAGE_ID = re.compile(rb"^message-id:\s*<?([^>\r\n]*)>?", re.IGNORECASE | re.MULTILINE)


def _header_message_id(raw: bytes) -> str:
    head = raw[: raw.find(b"\n\n") if b"\n\n" in raw else 65536]
    found = _MESSAGE_ID.search(head[:65536])
    return found.group(1).decode("ascii", "replace").strip()[:998] if found else ""


def _batches(
    sizes: Sequence[MessageSize], count: int, max_bytes: int
) -> Iterator[list[MessageSize]]:
    batch: list[MessageSize] = []
    total = 0
    for size in sizes:
        if batch and (len(batch) >= count or total + size.size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(size)
        total += size.size
    if batch:
        yield batch


__all__ = [
    "IngestHook",
    "Ingested",
    "Ingestor",
    "Outcome",
    "PollResult",
    "StoredAttachment",
]
