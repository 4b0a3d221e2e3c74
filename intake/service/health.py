"""Service use cases: mailbox leases, IDLE state, the health report and retention housekeeping."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.logins import Refusal
from intake.core.clock import as_utc
from intake.core.config import Settings
from intake.core.mail import PURGEABLE_KINDS, Kind
from intake.core.ports import BlobStore
from intake.store import claims as claim_store
from intake.store import health as health_store
from intake.store import leases as lease_store
from intake.store import logins as login_store
from intake.store import messages as message_store
from intake.store import sending

log = logging.getLogger(__name__)

#: A mailbox is healthy while its last successful poll is at most this many intervals old.
HEALTHY_POLL_INTERVALS = 3
#: A reply that gave up within this window makes the service unhealthy.
FAILED_OUTBOX_WINDOW = timedelta(days=1)
#: A due reply still unsent after 3 outbox intervals plus this slack means no sender runs.
OUTBOX_STUCK_SLACK = timedelta(minutes=5)
#: Raw mail of these kinds may be deleted after ``daemon.retain_ignored_days``: it never
#: became a submission, reply or claim, and quarantined mail keeps its raw for reprocessing.

IdleState = str  # "idling", "reconnecting", "unsupported", "off"


def holder_id() -> str:
    """A lease holder name that tells an admin where the daemon runs: host:pid:random."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def mailbox_lease(name: str) -> str:
    return f"mailbox:{name}"


# --------------------------------------------------------------------------- leases


class Leases:
    """The leases one daemon holds; each acquire, renewal and release is its own transaction.

    A lease also counts as lost locally once ``ttl`` has passed since its last successful
    renewal, so a daemon that was paused (SIGSTOP, a stalled VM) stops working on a mailbox
    that another daemon may already have taken over, before the database says so.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        holder: str,
        ttl: timedelta,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.holder = holder
        self.ttl = ttl
        self.clock = clock
        self._monotonic = monotonic
        self._renewed: dict[str, float] = {}  # name -> monotonic time of the last renewal
        self._lock = threading.Lock()

    def acquire(self, name: str) -> bool:
        """Take or renew lease ``name``; False while another live holder has it."""
        started = self._monotonic()
        with self.sessions() as session, session.begin():
            won = lease_store.acquire(session, name, self.holder, self.clock(), self.ttl)
        with self._lock:
            if won:
                self._renewed[name] = started
            else:
                self._renewed.pop(name, None)
        return won

    def holds(self, name: str) -> bool:
        with self._lock:
            renewed = self._renewed.get(name)
        return renewed is not None and self._monotonic() - renewed < self.ttl.total_seconds()

    def held(self) -> list[str]:
        with self._lock:
            return sorted(self._renewed)

    def renew_all(self) -> list[str]:
        """Renew every lease held; return the names of those lost to another holder."""
        return [name for name in self.held() if not self.acquire(name)]

    def release(self, name: str) -> None:
        with self._lock:
            self._renewed.pop(name, None)
        with self.sessions() as session, session.begin():
            lease_store.release(session, name, self.holder)

    def release_all(self) -> None:
        for name in self.held():
            self.release(name)


def current_lease(sessions: sessionmaker[Session], name: str, now: datetime) -> LeaseInfo | None:
    """Lease ``name`` if someone holds it unexpired, else None."""
    with sessions() as session, session.begin():
        lease = lease_store.get(session, name)
        if lease is None or as_utc(lease.expires_at) <= now:
            return None
        return LeaseInfo(
            name=lease.name,
            holder=lease.holder,
            acquired_at=as_utc(lease.acquired_at),
            expires_at=as_utc(lease.expires_at),
            expired=False,
        )


# --------------------------------------------------------------------------- mailbox state


def set_idle_state(
    sessions: sessionmaker[Session], mailbox: str, folder: str, state: IdleState
) -> None:
    with sessions() as session, session.begin():
        message_store.mailbox_state(session, mailbox, folder).idle_state = state


def record_poll_error(
    sessions: sessionmaker[Session], mailbox: str, folder: str, error: str, now: datetime
) -> None:
    with sessions() as session, session.begin():
        row = message_store.mailbox_state(session, mailbox, folder)
        row.last_error = error
        row.last_error_at = now


def record_login(
    sessions: sessionmaker[Session],
    account: str,
    service: str,
    refusal: Refusal | None,
    now: datetime,
) -> None:
    """Remember a refused login (or the success after one) for ``intake status``."""
    with sessions() as session, session.begin():
        if refusal is None:
            login_store.record_success(session, account, service, now)
            return
        error = refusal.server_text + (f" ({refusal.hint})" if refusal.hint else "")
        login_store.record_refusal(
            session,
            account,
            service,
            host=refusal.host,
            error=error,
            failures=refusal.failures,
            now=now,
            retry_at=now + timedelta(seconds=refusal.retry_in),
        )


# --------------------------------------------------------------------------- status


@dataclass(frozen=True, slots=True)
class MailboxHealth:
    name: str
    folder: str
    last_poll_at: datetime | None
    last_success_at: datetime | None
    idle_state: str
    last_error: str
    last_error_at: datetime | None
    backlog: int
    lease_holder: str | None
    lease_expires_at: datetime | None
    problem: str  # "" when healthy
    unmoved: int = 0  # recorded, but still in the folder after 3 poll intervals


@dataclass(frozen=True, slots=True)
class LoginHealth:
    """An account whose credentials a server refused, until a login works again."""

    account: str
    service: str
    host: str
    failures: int
    last_error: str
    failed_at: datetime | None
    retry_at: datetime | None


@dataclass(frozen=True, slots=True)
class LeaseInfo:
    name: str
    holder: str
    acquired_at: datetime
    expires_at: datetime
    expired: bool


@dataclass(frozen=True, slots=True)
class OutboxHealth:
    by_state: Mapping[str, int]
    failed_last_day: int
    stuck: int  # due for longer than 3 outbox intervals + slack (not counting capped ones)
    capped: int = 0  # automatic replies due but waiting: the hourly cap is spent

    @property
    def pending(self) -> int:
        return sum(
            n for state, n in self.by_state.items() if state not in ("sent", "failed", "held")
        )

    @property
    def held(self) -> int:
        return self.by_state.get("held", 0)

    @property
    def failed(self) -> int:
        return self.by_state.get("failed", 0)


@dataclass(frozen=True, slots=True)
class Status:
    """What ``intake status`` shows; ``healthy`` decides its exit code."""

    now: datetime
    mailboxes: tuple[MailboxHealth, ...]
    outbox: OutboxHealth
    quarantined: int
    overdue_claims: int
    backlog: int
    leases: tuple[LeaseInfo, ...]
    problems: tuple[str, ...] = field(default_factory=tuple)
    logins: tuple[LoginHealth, ...] = ()

    @property
    def healthy(self) -> bool:
        return not self.problems


def status(sessions: sessionmaker[Session], settings: Settings, now: datetime) -> Status:
    """Read the health of the service from the database (works while the daemon is down).

    Healthy means: every configured mailbox had a successful poll within
    ``HEALTHY_POLL_INTERVALS`` x ``daemon.poll_interval``; no reply gave up (state failed)
    in the last day; no due reply has waited longer than 3 x ``daemon.outbox_interval``
    plus five minutes (when SMTP is configured); no mail recorded more than 3 poll intervals
    ago still waits to be moved to the processed folder; no account's credentials stand
    refused.
    """
    daemon = settings.daemon
    window = timedelta(seconds=daemon.poll_interval * HEALTHY_POLL_INTERVALS)
    stuck_before = now - timedelta(seconds=daemon.outbox_interval * 3) - OUTBOX_STUCK_SLACK
    with sessions() as session, session.begin():
        states = {(s.mailbox, s.folder): s for s in message_store.all_mailbox_states(session)}
        leases = [
            LeaseInfo(
                name=lease.name,
                holder=lease.holder,
                acquired_at=as_utc(lease.acquired_at),
                expires_at=as_utc(lease.expires_at),
                expired=as_utc(lease.expires_at) <= now,
            )
            for lease in lease_store.all_leases(session)
        ]
        by_lease = {lease.name: lease for lease in leases}
        unmoved = health_store.unmoved_before(session, now - window)
        logins = tuple(
            LoginHealth(
                account=row.account,
                service=row.service,
                host=row.host,
                failures=row.failures,
                last_error=row.last_error,
                failed_at=_aware(row.failed_at),
                retry_at=_aware(row.retry_at),
            )
            for row in login_store.all_logins(session)
            if row.failures
        )
        mailboxes: list[MailboxHealth] = []
        for box in settings.mailboxes:
            row = states.get((box.name, box.folder))
            lease = by_lease.get(mailbox_lease(box.name))
            last_success = _aware(row.last_success_at) if row else None
            if last_success is None:
                problem = "never polled successfully"
            elif now - last_success > window:
                problem = f"no successful poll for {_age(now - last_success)}"
            else:
                problem = ""
            stuck = unmoved.get((box.name, box.folder), 0)
            if stuck:
                where = box.processed_folder or "the processed flag"
                problem += "; " if problem else ""
                problem += f"{stuck} message(s) recorded but not moved to {where}"
            if problem and row is not None and row.last_error:
                problem += f" (last error: {row.last_error})"
            mailboxes.append(
                MailboxHealth(
                    name=box.name,
                    folder=box.folder,
                    last_poll_at=_aware(row.last_poll_at) if row else None,
                    last_success_at=last_success,
                    idle_state=(row.idle_state if row else "") or ("" if box.idle else "off"),
                    last_error=row.last_error if row else "",
                    last_error_at=_aware(row.last_error_at) if row else None,
                    backlog=row.backlog if row else 0,
                    lease_holder=lease.holder if lease and not lease.expired else None,
                    lease_expires_at=lease.expires_at if lease and not lease.expired else None,
                    problem=problem,
                    unmoved=stuck,
                )
            )
        spent = sending.automatic_in_flight(session, now, now - timedelta(hours=1))
        capped = (
            sending.due_pending_automatic(session, now)
            if spent >= settings.replies.max_auto_replies_per_hour
            else 0
        )
        outbox = OutboxHealth(
            by_state=health_store.outbox_by_state(session),
            failed_last_day=health_store.outbox_failed_since(session, now - FAILED_OUTBOX_WINDOW),
            # While the cap holds automatic replies back, only the others can be stuck.
            stuck=health_store.outbox_due_before(session, stuck_before, staff_only=capped > 0),
            capped=capped,
        )
        quarantined = message_store.count_by_kind(session).get(Kind.QUARANTINED.value, 0)
        overdue = claim_store.overdue_claims_count(session, now)
    problems = [
        f"{login.service} login {login.account} at {login.host}: refused {login.failures} "
        f"time(s), last at {_clock(login.failed_at)}: {login.last_error}"
        + (f"; next try {_clock(login.retry_at)}" if login.retry_at else "")
        for login in logins
    ]
    problems += [f"mailbox {m.name}: {m.problem}" for m in mailboxes if m.problem]
    if outbox.failed_last_day:
        problems.append(f"outbox: {outbox.failed_last_day} repl(ies) failed in the last day")
    if outbox.stuck and settings.smtp is not None:
        problems.append(f"outbox: {outbox.stuck} due repl(ies) not sent: is the daemon running?")
    if outbox.capped:
        problems.append(
            f"outbox: {outbox.capped} automatic repl(ies) wait: the hourly cap of "
            f"{settings.replies.max_auto_replies_per_hour} is spent "
            "(replies.max_auto_replies_per_hour); a flood of mail to the submissions address?"
        )
    return Status(
        now=now,
        mailboxes=tuple(mailboxes),
        outbox=outbox,
        quarantined=quarantined,
        overdue_claims=overdue,
        backlog=sum(m.backlog for m in mailboxes),
        leases=tuple(leases),
        problems=tuple(problems),
        logins=logins,
    )


def _clock(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "?"


def _aware(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


def _age(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} days"


# --------------------------------------------------------------------------- retention


def purge_ignored_raw(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    days: int,
    now: datetime,
    batch: int = 500,
) -> int:
    """Delete stored raw mail of ignored kinds older than ``days``; return how many.

    The rows stay (with ``raw_path`` emptied) as the record that the mail came. Each batch
    commits before its files are deleted: a crash in between leaves unreferenced files, never
    a row pointing at a missing one.
    """
    if days <= 0:
        return 0
    before = now - timedelta(days=days)
    kinds = sorted(k.value for k in PURGEABLE_KINDS)
    purged = 0
    while True:
        with sessions() as session, session.begin():
            found = health_store.raw_of_kinds_before(session, kinds, before, batch)
            if not found:
                return purged
            health_store.forget_raw(session, [pk for pk, _ in found])
            paths = [path for _, path in found]
            still_used = health_store.raw_paths_in_use(session, paths)
        for path in paths:
            if path not in still_used:
                blobs.delete(path)
        purged += len(found)
        log.info("retention: deleted raw mail of %d ignored message(s)", len(found))
