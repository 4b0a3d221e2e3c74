"""IMAP IDLE for the service: one thread per mailbox holds a connection in IDLE and wakes that
mailbox's poll job when the server reports news; it never polls itself."""

from __future__ import annotations

import logging
import threading
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self

from intake.core import logs
from intake.core.config import MailboxConfig
from intake.core.errors import LoginRefused, MailboxError
from intake.service.lanes import about

if TYPE_CHECKING:
    from intake.service.daemon import Daemon

log = logging.getLogger(__name__)


class IdleConnection(Protocol):
    """The IMAP operations an IDLE listener needs (``intake.adapters.imap.ImapMailbox``)."""

    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...
    def has(self, capability: str) -> bool: ...
    def select(self, folder: str) -> Any: ...
    def idle_wait(self, timeout: float) -> bool: ...


class IdleListener(threading.Thread):
    """Holds one IMAP connection in IDLE for one mailbox and wakes its poll job on news.

    It never polls itself: ingest runs in the poll job, so one lease and one lock govern it.
    """

    def __init__(self, daemon: Daemon, box: MailboxConfig) -> None:
        # A daemon thread: at shutdown it may sit in IDLE for minutes; the process exit
        # closes its socket, and it holds nothing that needs cleaning up.
        super().__init__(name=f"idle-{box.name}", daemon=True)
        self.owner = daemon
        self.box = box
        self.backoff = daemon.new_backoff()
        self._listened = False

    def run(self) -> None:
        owner, box = self.owner, self.box
        while not owner.stopping:
            try:
                with logs.bind(mailbox=box.name):
                    if not self._listen():
                        return
            except LoginRefused as exc:
                # Logged once by the login gate; IDLE waits with every other login.
                owner.observer.idle_connected(box.name, False)
                if owner.stopping:
                    return
                owner.set_idle_state(box, "reconnecting")
                owner.sleep(max(exc.retry_in, 0.2))
            except Exception as exc:  # noqa: BLE001 - reconnect whatever went wrong
                owner.observer.idle_connected(box.name, False)
                if owner.stopping:
                    return
                delay = self.backoff.failed()
                if isinstance(exc, MailboxError):
                    log.warning(
                        "%s; IDLE reconnecting in %.1f s", about(box, exc), delay,
                        extra=logs.fields(mailbox=box.name, event="idle_failed"),
                    )  # fmt: skip
                else:
                    log.exception(
                        "mailbox %s: IDLE failed; reconnecting in %.1f s", box.name, delay
                    )
                owner.set_idle_state(box, "reconnecting")
                owner.sleep(delay)

    def _listen(self) -> bool:
        """One connection's life; False when IDLE is not to be used at all."""
        owner, box = self.owner, self.box
        with owner.app.mailbox(box) as conn:
            if not conn.has("IDLE"):
                log.info("mailbox %s: the server has no IDLE; polling every %g s",
                         box.name, owner.config.poll_interval)  # fmt: skip
                owner.set_idle_state(box, "unsupported")
                owner.observer.idle_connected(box.name, False)
                return False
            conn.select(box.folder)
            owner.set_idle_state(box, "idling")
            owner.observer.idle_connected(box.name, True)
            if self.backoff.succeeded():
                log.info("mailbox %s: IDLE reconnected", box.name)
            elif not self._listened:
                log.info("mailbox %s: IDLE: listening for new mail", box.name)
            self._listened = True
            # Mail may have come while we were not listening (start-up, reconnect).
            owner.wake_mailbox(box.name)
            while not owner.stopping:
                if conn.idle_wait(owner.config.idle_timeout) and not owner.stopping:
                    log.debug("mailbox %s: IDLE reports a change", box.name)
                    owner.wake_mailbox(box.name)
        return True
