"""The poll loop: one pass over one mailbox folder, from SELECT to moving what was recorded.

1. SELECT; a UIDVALIDITY change is logged and becomes a full rescan (content hashes keep it
   from recording anything twice).
2. ``UID SEARCH ALL`` (never UNSEEN). UIDs recorded but not moved (a crash between commit and
   move) are moved now, without being ingested again; recorded UIDs no longer in the folder
   (a crash between the move and noting it) are noted as moved.
3. RFC822.SIZE: mail over ``max_message_bytes`` is recorded from its header and left.
4. The rest is fetched in batches (count and bytes bounded). Before any of a batch is parsed,
   one attempt per message is committed (``parse_attempts``); its raw bytes are written ahead
   on one thread and parsed and classified ahead in a worker process under
   ``ingest.parse_timeout_seconds``, while this thread records message after message
   (``ingest.record``). A message that runs out of time or crashes the worker twice (or once,
   then the daemon dies while it is tried again) is quarantined from its bytes without being
   parsed again; a poll that dies for another reason counts against no message.
5. The batch's committed UIDs are moved; never a UID whose transaction did not commit.

``should_stop`` is asked between messages; the backlog left is kept in ``mailbox_state``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Container, Iterator, Sequence

from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.blobstore import WriteAhead
from intake.core.config import MailboxConfig, Settings
from intake.core.errors import MailboxError
from intake.core.faults import crash_point
from intake.core.mail import FolderInfo, MessageRef, MessageSize, OversizeMail, RawMail
from intake.core.ports import BlobStore, Clock, MailSource
from intake.ingest.batch import Batch
from intake.ingest.parseahead import Parsed, ParseWorker
from intake.ingest.record import Recorder
from intake.ingest.results import PollResult, Progress
from intake.store import attempts as attempt_store
from intake.store import messages as message_store

log = logging.getLogger(__name__)

#: Bytes fetched in one FETCH at most (besides the per-batch message count).
BATCH_BYTES = 32 * 1024 * 1024
#: Parses of one message that ran out of time or crashed the worker before it is quarantined.
MAX_ATTEMPTS = 2


class Poller:
    """Polls mailboxes and hands each new message to the recorder."""

    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        blobs: BlobStore,
        recorder: Recorder,
        *,
        clock: Clock,
        batch_bytes: int = BATCH_BYTES,
        parse_hook: str = "",
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.recorder = recorder
        self.clock = clock
        self.batch_bytes = batch_bytes
        #: "module:function" the parse worker calls with each message first (tests only).
        self.parse_hook = parse_hook

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
            attempt_store.forget_recorded(session, (config.name, folder.name, folder.uidvalidity))
        unmoved = {uid for uid, k in known.items() if not k.moved and not k.stays}
        # Committed earlier but not moved (a crash between commit and move): move them now.
        self._mark(box, config, folder, [uid for uid in uids if uid in unmoved])
        # Moved, but the process died before it could note that (or someone else took them
        # out of the folder): there is nothing left to move; note it.
        gone = sorted(unmoved.difference(uids))
        if gone:
            log.info("mailbox %s: %d recorded messages already left %s", config.name,
                     len(gone), folder.name)  # fmt: skip
            self._note_moved(config, folder, gone)
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
            mail = OversizeMail(ref, size.size, header, size.internaldate)
            result = result.add(self.recorder.ingest_oversize(mail))
            done += 1
            if progress:
                progress(done, len(sizes))
        timeout = self.settings.ingest.parse_timeout_seconds
        params = self.recorder.classify_params
        with (
            WriteAhead(self.blobs) as ahead,
            ParseWorker(params, timeout=timeout, hook=self.parse_hook) as parser,
        ):
            for batch in batches(normal, config.batch_size, self.batch_bytes):
                fetched = list(box.fetch([s.uid for s in batch]))
                # Every raw write of the batch starts now: the writer thread fsyncs while the
                # worker parses and this thread records; each message waits for its own write.
                stored = {raw.ref.uid: ahead.put("raw", raw.raw) for raw in fetched}
                # One transaction for the batch, a savepoint per message; the move waits for
                # its commit. Slow work and the attempt counts commit it early (see Batch).
                tx = Batch(self.sessions)
                work = _BatchWork(self, config, folder, parser, tx)
                committed: list[int] = []
                try:
                    for raw, parsed in work.run(fetched):
                        if should_stop is not None and should_stop():
                            break
                        uid = raw.ref.uid
                        outcome = self.recorder.ingest(raw, stored.pop(uid), parsed, tx)
                        result = result.add(outcome)
                        committed.append(uid)
                        done += 1
                        if progress:
                            progress(done, len(sizes))
                    work.close(committed)
                    message_store.mailbox_state(tx.session, config.name, folder.name).backlog = (
                        len(sizes) - done
                    )
                    tx.commit()
                except BaseException:
                    tx.rollback()
                    work.hand_back()
                    raise
                self._mark(box, config, folder, committed)
                if should_stop is not None and should_stop():
                    return result
        self._poll_succeeded(config, folder)
        return result

    def record_poll_error(self, config: MailboxConfig, error: str) -> None:
        """Note on the mailbox's state row that its last poll failed, and why."""
        with self.sessions() as session, session.begin():
            state = message_store.mailbox_state(session, config.name, config.folder)
            state.last_error = error
            state.last_error_at = self.clock()

    # ------------------------------------------------------------------ steps

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
        crash_point("poll.before_move")
        try:
            how = box.mark_processed(uids, config.processed_folder)
        except MailboxError as exc:
            # Committed already: the next poll finds these UIDs known and not moved, and
            # tries again. Nothing is lost and nothing is recorded twice.
            log.warning("mailbox %s: could not move %d messages: %s", config.name, len(uids), exc)
            return
        self._note_moved(config, folder, uids)
        log.debug("mailbox %s: %s %d processed messages", config.name, how, len(uids))

    def _note_moved(self, config: MailboxConfig, folder: FolderInfo, uids: list[int]) -> None:
        with self.sessions() as session, session.begin():
            message_store.mark_moved(
                session, config.name, folder.name, folder.uidvalidity, uids, self.clock()
            )

    def _set_backlog(self, config: MailboxConfig, folder: FolderInfo, backlog: int) -> None:
        with self.sessions() as session, session.begin():
            message_store.mailbox_state(session, config.name, folder.name).backlog = backlog

    def _poll_succeeded(self, config: MailboxConfig, folder: FolderInfo) -> None:
        with self.sessions() as session, session.begin():
            state = message_store.mailbox_state(session, config.name, folder.name)
            state.last_success_at = self.clock()
            state.last_error = ""
            state.backlog = 0


class _BatchWork:
    """The parse work of one fetched batch, counted in ``parse_attempts`` before it starts.

    A message that ran out of time or crashed the worker is counted as a failure and tried
    once more; after a second failure, or when its earlier work includes a failure and an
    attempt after it that never finished (the daemon died during the retry), it is answered
    with the reason, unparsed. A poll that died for no reason the worker saw (killed,
    restarted) counts against no message: those are simply worked on again.
    """

    def __init__(
        self,
        poller: Poller,
        config: MailboxConfig,
        folder: FolderInfo,
        parser: ParseWorker,
        tx: Batch,
    ) -> None:
        self.poller = poller
        self.folder = (config.name, folder.name, folder.uidvalidity)
        self.parser = parser
        self.tx = tx
        self.failures: dict[int, int] = {}  # failures counted, this batch's included
        self.counted: set[int] = set()  # counted by this batch
        self.failed: set[int] = set()  # failed in this batch, and not recovered

    def run(self, fetched: list[RawMail]) -> Iterator[tuple[RawMail, Parsed | None]]:
        before = attempt_store.started(self.tx.session, self.folder, [r.ref.uid for r in fetched])
        self.failures = {uid: found.failures for uid, found in before.items()}
        work: list[RawMail] = []
        for raw in fetched:
            found = before.get(raw.ref.uid)
            if found is not None and _given_up(found):
                why = found.last_error or "the parse failed"
                yield (
                    raw,
                    (
                        f"{why}; work on it stopped {found.attempts} times "
                        f"({found.failures} failed), not parsed again"
                    ),
                )
            else:
                work.append(raw)
        self._count([raw.ref.uid for raw in work], before)
        tickets = [self.parser.submit(raw.raw) for raw in work]
        for raw, ticket in zip(work, tickets, strict=True):
            yield raw, self._result(raw, ticket)

    def close(self, recorded: Sequence[int]) -> None:
        """In the batch's transaction: recorded messages are done, and the count of work that
        stopped for another reason than the message (a stop asked for) is taken back."""
        back = sorted(self.counted - set(recorded) - self.failed)
        attempt_store.finish(self.tx.session, self.folder, recorded)
        attempt_store.uncount(self.tx.session, self.folder, back)

    def hand_back(self) -> None:
        """After the batch's transaction was rolled back (a storage or database error): the
        work counted was not the messages' fault."""
        back = sorted(self.counted - self.failed)
        with self.poller.sessions() as session, session.begin():
            attempt_store.uncount(session, self.folder, back)

    def _result(self, raw: RawMail, ticket: int | None) -> Parsed | None:
        if ticket is None:
            return None  # no worker: the recorder parses in-process
        uid = raw.ref.uid

        def again(reason: str) -> bool:
            failures = self.failures.get(uid, 0) + 1
            log.warning("mailbox %s uid %d: %s (failure %d)", self.folder[0], uid, reason,
                        failures)  # fmt: skip
            self.failed.add(uid)
            # The failure, and the attempt it is tried again in, committed before the retry.
            self._count([uid], {uid}, error=reason)
            self.failures[uid] = failures
            return failures < MAX_ATTEMPTS

        parsed = self.parser.result(ticket, again)
        if isinstance(parsed, str) and uid in self.failed and _worker_failure(parsed):
            return f"{parsed}; it failed {self.failures[uid]} times, not parsed again"
        self.failed.discard(uid)  # a retry that came through: the message is not to blame
        return parsed

    def _count(self, uids: list[int], known: Container[int], *, error: str = "") -> None:
        if not uids:
            return
        # Committed at once, with whatever the batch recorded before: the count must be on
        # disk before the work it counts starts.
        now = self.poller.clock()
        attempt_store.count(self.tx.session, self.folder, uids, now=now, known=known, error=error)
        self.tx.commit()
        self.counted.update(uids)


def _given_up(found: attempt_store.Started) -> bool:
    """Whether earlier work on a message says it must not be parsed again: two failures, or a
    failure and a later attempt that never finished."""
    return found.failures >= MAX_ATTEMPTS or (
        found.failures >= 1 and found.attempts > found.failures
    )


def _worker_failure(reason: str) -> bool:
    return reason.startswith(("parsing took longer", "the parse worker crashed"))


def batches(
    sizes: Sequence[MessageSize], count: int, max_bytes: int
) -> Iterator[list[MessageSize]]:
    """``sizes`` in FETCH batches of at most ``count`` messages and ``max_bytes`` bytes (a
    message larger than ``max_bytes`` on its own is a batch of one)."""
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


__all__ = ["BATCH_BYTES", "Poller", "batches"]
