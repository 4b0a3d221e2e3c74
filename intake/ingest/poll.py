"""The poll loop: one pass over one mailbox folder, from SELECT to moving what was recorded.

1. SELECT; a UIDVALIDITY change is logged and becomes a full rescan (content hashes keep it
   from recording anything twice).
2. ``UID SEARCH ALL`` (never UNSEEN). UIDs recorded but not moved (a crash between commit and
   move) are moved now, without being ingested again; recorded UIDs no longer in the folder
   (a crash between the move and noting it) are noted as moved.
3. RFC822.SIZE: mail over ``max_message_bytes`` is recorded from its header and left.
4. The rest is fetched in batches (count and bytes bounded); each batch's raw bytes are written
   ahead on one thread and, on a large backlog, parsed ahead in one worker process, while this
   thread records message after message (``ingest.record``).
5. The batch's committed UIDs are moved; never a UID whose transaction did not commit.

``should_stop`` is asked between messages; the backlog left is kept in ``mailbox_state``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.blobstore import WriteAhead
from intake.core.config import MailboxConfig, Settings
from intake.core.errors import MailboxError
from intake.core.faults import crash_point
from intake.core.mail import FolderInfo, MessageRef, MessageSize, OversizeMail
from intake.core.ports import BlobStore, Clock, MailSource
from intake.ingest.parseahead import MIN_MESSAGES, ParseAhead
from intake.ingest.record import Recorder
from intake.ingest.results import PollResult, Progress
from intake.store import messages as message_store

log = logging.getLogger(__name__)

#: Bytes fetched in one FETCH at most (besides the per-batch message count).
BATCH_BYTES = 32 * 1024 * 1024


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
        parse_ahead_min: int = MIN_MESSAGES,
        batch_bytes: int = BATCH_BYTES,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.blobs = blobs
        self.recorder = recorder
        self.clock = clock
        #: New messages in one poll from which parsing moves to a worker process.
        self.parse_ahead_min = parse_ahead_min
        self.batch_bytes = batch_bytes

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
        backlog = len(normal) >= self.parse_ahead_min
        with WriteAhead(self.blobs) as ahead, ParseAhead(enabled=backlog) as parser:
            for batch in batches(normal, config.batch_size, self.batch_bytes):
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
                    result = result.add(self.recorder.ingest(raw, stored, parsed_ahead))
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
