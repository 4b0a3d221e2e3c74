"""The background service: scheduler, jobs, signals; IDLE listeners (``idle.py``) and systemd
notification (``systemd.py``) beside it.

The only importer of apscheduler. Every job catches and logs its own errors, so a job never
dies: it simply runs again at its next time. Work that must start at once (mail reported by
IDLE, replies queued by an ingest) is a *wake-up*: a one-off run of the same job, coalesced
with a run already in progress so a mailbox is never polled twice at the same time by one
daemon. Leases in the database keep two daemons from polling one mailbox at the same time.
"""

from __future__ import annotations

import functools
import logging
import random
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from intake.core import logs
from intake.core.config import MailboxConfig, Settings
from intake.core.errors import LoginRefused, MailboxError
from intake.ingest.results import PollResult, Progress
from intake.service import health as service
from intake.service.idle import IdleConnection, IdleListener
from intake.service.lanes import Backoff, Lane, about, one_line
from intake.service.systemd import Notifier

log = logging.getLogger(__name__)

#: How long shutdown waits for running jobs before exiting anyway (systemd and the issue
#: allow 10 s; the rest is for releasing leases and flushing logs).
SHUTDOWN_GRACE_SECONDS = 7.0
#: How often the desk job looks whether a digest period began (``[desk] notify_mode`` hourly
#: or daily): a digest goes out within this long of the hour or of ``digest_time``.
DESK_CHECK_SECONDS = 60.0


# --------------------------------------------------------------------------- ports


class Observer(Protocol):
    """What the daemon reports as it goes (``intake.service.metrics.Metrics``)."""

    def poll_done(self, mailbox: str, seconds: float, ok: bool) -> None: ...
    def idle_connected(self, mailbox: str, connected: bool) -> None: ...
    def delivered(self, sent: int, retried: int, failed: int) -> None: ...


class _NoObserver:
    def poll_done(self, mailbox: str, seconds: float, ok: bool) -> None:
        pass

    def idle_connected(self, mailbox: str, connected: bool) -> None:
        pass

    def delivered(self, sent: int, retried: int, failed: int) -> None:
        pass


class ServiceApp(Protocol):
    """What the daemon needs from :class:`intake.app.App` (fakes stand in for it in tests)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def sessions(self) -> sessionmaker[Session]: ...
    def clock(self) -> datetime: ...
    def ready(self) -> None: ...
    def mailbox(self, config: MailboxConfig) -> IdleConnection: ...
    def poll_mailbox(
        self,
        config: MailboxConfig,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> PollResult: ...
    def deliver_outbox(self, *, should_stop: Callable[[], bool] | None = None) -> object: ...
    def run_maintenance(self) -> Mapping[str, int]: ...
    def notify_desk(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ServeResult:
    """How the service ended: the exit code, and whether jobs were still running."""

    exit_code: int
    forced: bool = False


# --------------------------------------------------------------------------- the daemon


class Daemon:
    """The scheduler and its jobs for one process; ``run`` blocks until ``stop`` is called."""

    def __init__(
        self,
        app: ServiceApp,
        *,
        holder: str | None = None,
        notifier: Notifier | None = None,
        rng: random.Random | None = None,
        observer: Observer | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.observer: Observer = observer or _NoObserver()
        self._monotonic = monotonic
        self.settings = app.settings
        self.config = app.settings.daemon
        self.notifier = notifier or Notifier(None)
        self.leases = service.Leases(
            app.sessions,
            holder or service.holder_id(),
            timedelta(seconds=self.config.lease_seconds),
            app.clock,
        )
        self._rng = rng or random.Random()
        self._stop = threading.Event()
        self._scheduler: BackgroundScheduler | None = None
        self._lanes: dict[str, Lane] = {}
        self._backoff: dict[str, Backoff] = {}
        self._standby: dict[str, str] = {}  # mailbox -> holder we last saw polling it
        self._listeners: list[IdleListener] = []
        self._outbox_missing = False
        self._idle_states: dict[str, str] = {}
        self._idle_lock = threading.Lock()
        for box in self.settings.mailboxes:
            self._lanes[_poll_lane(box.name)] = Lane(
                _poll_lane(box.name), functools.partial(self._poll_once, box)
            )
            self._backoff[box.name] = self.new_backoff()
        self._lanes["outbox"] = Lane("outbox", self._deliver_once)
        self._lanes["maintenance"] = Lane("maintenance", self._maintain_once)
        self._lanes["desk"] = Lane("desk", self._digest_once)

    @property
    def holder(self) -> str:
        return self.leases.holder

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def standing_by(self) -> dict[str, str]:
        """Mailbox -> the daemon polling it, for each mailbox this one waits to take over."""
        return dict(self._standby)

    def stop(self) -> None:
        """Ask ``run`` to return; safe from a signal handler and from any thread."""
        self._stop.set()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Check the database, start the scheduler and the IDLE listeners, notify READY=1."""
        self.app.ready()
        boxes = self.settings.mailboxes
        self._scheduler = scheduler = _scheduler(self)
        scheduler.start()
        idle_boxes = 0
        for box in boxes:
            if box.idle:
                listener = IdleListener(self, box)
                self._listeners.append(listener)
                listener.start()
                idle_boxes += 1
            else:
                self.set_idle_state(box, "off")
        log.info(
            "intake service started as %s: %d mailbox(es), IDLE on %d, poll every %g s",
            self.holder,
            len(boxes),
            idle_boxes,
            self.config.poll_interval,
        )
        self.notifier.ready(f"watching {len(boxes)} mailbox(es)")

    def wait(self) -> None:
        # A timeout keeps the main thread responsive to signals on every platform.
        while not self._stop.wait(1.0):
            pass

    def shutdown(self) -> ServeResult:
        """Stop the jobs (each finishes the message in hand), release leases, notify STOPPING=1."""
        self._stop.set()
        self.notifier.stopping()
        log.info("stopping: finishing the work in hand")
        scheduler, self._scheduler = self._scheduler, None
        forced = False
        if scheduler is not None:
            done = threading.Thread(
                target=_shutdown_scheduler, args=(scheduler,), name="shutdown", daemon=True
            )
            done.start()
            done.join(SHUTDOWN_GRACE_SECONDS)
            if done.is_alive():
                forced = True
                busy = ", ".join(name for name, lane in self._lanes.items() if lane.busy)
                log.warning(
                    "jobs still running after %g s (%s); exiting without them: their "
                    "uncommitted work is redone by the next daemon",
                    SHUTDOWN_GRACE_SECONDS,
                    busy or "?",
                )
        for box in self.settings.mailboxes:
            self.set_idle_state(box, "off")  # written only where we hold the lease
        if not forced:
            self._quietly("release leases", self.leases.release_all)
        log.info("intake service stopped")
        return ServeResult(0, forced)

    def run(self) -> ServeResult:
        try:
            self.start()
            self.wait()
        finally:
            result = self.shutdown()
        return result

    # ------------------------------------------------------------------ wake-ups

    def wake(self, lane: str) -> None:
        """Run ``lane`` now on the scheduler's pool (coalesced with a run in progress)."""
        scheduler = self._scheduler
        if scheduler is None or self._stop.is_set():
            return
        try:
            # No id: each wake-up is its own one-off job, so none is skipped as a second
            # instance of a job still finishing; the Lane keeps the work itself single.
            scheduler.add_job(self.lane_job, args=(lane,), name=f"wake {lane}")
        except SchedulerNotRunningError:
            pass

    def wake_mailbox(self, name: str) -> None:
        self.wake(_poll_lane(name))

    def lane_job(self, lane: str) -> None:
        try:
            self._lanes[lane].run(stopped=self._stop.is_set)
        except Exception:  # noqa: BLE001 - a job never dies; the next run tries again
            log.exception("job %s failed", lane)

    def _reschedule(self, job_id: str, delay: float) -> None:
        scheduler = self._scheduler
        if scheduler is None:
            return
        try:
            scheduler.modify_job(job_id, next_run_time=datetime.now(UTC) + timedelta(seconds=delay))
        except (SchedulerNotRunningError, LookupError):
            pass

    # ------------------------------------------------------------------ jobs

    def _poll_once(self, box: MailboxConfig) -> None:
        if self._stop.is_set():
            return
        lease = service.mailbox_lease(box.name)
        backoff = self._backoff[box.name]
        held_before = self.leases.holds(lease)
        try:
            if not self.leases.acquire(lease):
                self._note_standby(box)
                return
        except Exception as exc:  # noqa: BLE001 - the database may be down: retry later
            delay = backoff.failed()
            log.warning(
                "mailbox %s: cannot take the lease: %s; retrying in %.1f s",
                box.name, one_line(exc), delay,
            )  # fmt: skip
            self._reschedule(_poll_lane(box.name), delay)
            return
        if self._standby.pop(box.name, None) is not None:
            log.info("mailbox %s: this daemon (%s) polls it now", box.name, self.holder)
        if not held_before:
            self._publish_idle_state(box)

        def should_stop() -> bool:
            return self._stop.is_set() or not self.leases.holds(lease)

        started = self._monotonic()
        try:
            with logs.bind(mailbox=box.name):
                result = self.app.poll_mailbox(box, should_stop=should_stop)
        except LoginRefused as exc:
            # A configuration problem: the login gate has logged the refusal once; a login
            # not even tried (the account waits) is not news.
            self.observer.poll_done(box.name, self._monotonic() - started, False)
            if exc.fresh:
                refused = one_line(exc)
                self._quietly(
                    "record the poll error",
                    lambda: service.record_poll_error(
                        self.app.sessions, box.name, box.folder, refused, self.app.clock()
                    ),
                )
            self._reschedule(_poll_lane(box.name), max(exc.retry_in, 0.2))
            return
        except Exception as exc:  # noqa: BLE001 - logged with context, retried with backoff
            self.observer.poll_done(box.name, self._monotonic() - started, False)
            delay = backoff.failed()
            fields = logs.fields(mailbox=box.name, event="poll_failed")
            if isinstance(exc, MailboxError):
                log.warning("%s; retrying in %.1f s", about(box, exc), delay, extra=fields)
            else:
                log.exception(
                    "mailbox %s: poll failed; retrying in %.1f s", box.name, delay, extra=fields
                )
            error = one_line(exc)
            self._quietly(
                "record the poll error",
                lambda: service.record_poll_error(
                    self.app.sessions, box.name, box.folder, error, self.app.clock()
                ),
            )
            self._reschedule(_poll_lane(box.name), delay)
            return
        self.observer.poll_done(box.name, self._monotonic() - started, True)
        failures = backoff.succeeded()
        if failures:
            log.info("mailbox %s: polling works again after %d failure(s)", box.name, failures)
        if result.fetched:
            log.info(
                "mailbox %s: %d fetched: %d new, %d duplicate(s), %d quarantined, %d ignored",
                box.name, result.fetched, result.new, result.duplicates, result.quarantined,
                result.ignored,
            )  # fmt: skip
        if result.new:
            self.wake("outbox")  # acknowledge now, not at the next outbox interval

    def _note_standby(self, box: MailboxConfig) -> None:
        now = self.app.clock()
        lease = service.current_lease(self.app.sessions, service.mailbox_lease(box.name), now)
        holder = lease.holder if lease else "?"
        if self._standby.get(box.name) != holder:
            log.info("mailbox %s: polled by %s; standing by", box.name, holder)
        self._standby[box.name] = holder
        # Try again when that lease would expire if its holder died, not a poll interval later.
        retry = (lease.expires_at - now).total_seconds() + 0.2 if lease else 0.5
        if retry < self.config.poll_interval:
            self._reschedule(_poll_lane(box.name), max(retry, 0.2))

    def _deliver_once(self) -> None:
        batch = self.settings.smtp.batch_size if self.settings.smtp else 0
        while not self._stop.is_set() and not self._outbox_missing:
            try:
                # Asked before each message: SIGTERM finishes the one in hand, no more.
                result = self.app.deliver_outbox(should_stop=self._stop.is_set)
            except NotImplementedError:
                self._outbox_missing = True
                log.warning("the outbox sender is not available; replies stay queued")
                return
            except Exception:  # noqa: BLE001
                log.exception(
                    "outbox: delivery failed; trying again in %g s", self.config.outbox_interval
                )
                return
            counts = [getattr(result, name, 0) for name in ("sent", "retried", "failed")]
            held = int(getattr(result, "held", 0))
            self.observer.delivered(*counts)
            if any(counts) or held:
                # The sender logs each reply; this line sums up the run.
                log.debug("outbox: %d sent, %d to retry, %d failed, %d held", *counts, held)
            # One call handles one batch: a full batch means more may be due right now.
            if not batch or sum(counts) + held < batch:
                return

    def _maintain_once(self) -> None:
        if self._stop.is_set():
            return
        try:
            if not self.leases.acquire("maintenance"):
                return
            try:
                done = self.app.run_maintenance()
            finally:
                self.leases.release("maintenance")
        except Exception:  # noqa: BLE001
            log.exception(
                "maintenance failed; trying again in %g s", self.config.maintenance_interval
            )
            return
        busy = {task: n for task, n in done.items() if n}
        if busy:
            log.info(
                "maintenance: %s", ", ".join(f"{task} {n}" for task, n in sorted(busy.items()))
            )

    def _digest_once(self) -> None:
        if self._stop.is_set():
            return
        try:
            # The lease keeps two daemons from building the same digest at once; the
            # desk_digests key would refuse the second anyway.
            if not self.leases.acquire("desk"):
                return
            try:
                told = self.app.notify_desk()
            finally:
                self.leases.release("desk")
        except Exception:  # noqa: BLE001
            log.exception("desk digest failed; trying again in %g s", DESK_CHECK_SECONDS)
            return
        if told:
            log.info("desk digest: %d new submissions and claims announced", told)

    def renew_leases(self) -> None:
        try:
            lost = self.leases.renew_all()
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot renew leases: %s", one_line(exc))
            return
        for name in lost:
            log.warning("lease %s was taken over by another daemon", name)

    # ------------------------------------------------------------------ helpers

    def set_idle_state(self, box: MailboxConfig, state: str) -> None:
        """Remember the IDLE state; write it when this daemon is the one polling the mailbox.

        A standby daemon listens too (it takes over faster), but the row describes the active
        one, so standbys keep their state to themselves until they take the lease.
        """
        with self._idle_lock:
            self._idle_states[box.name] = state
        if self.leases.holds(service.mailbox_lease(box.name)):
            self._publish_idle_state(box)

    def _publish_idle_state(self, box: MailboxConfig) -> None:
        with self._idle_lock:
            state = self._idle_states.get(box.name)
        if state is not None:
            self._quietly(
                f"record IDLE state {state}",
                lambda: service.set_idle_state(self.app.sessions, box.name, box.folder, state),
            )

    def sleep(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True when the service is stopping."""
        return self._stop.wait(seconds)

    def new_backoff(self) -> Backoff:
        return Backoff(self.config.reconnect_max_seconds, rng=self._rng)

    def _quietly(self, what: str, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - bookkeeping must not kill a job
            log.warning("could not %s: %s", what, one_line(exc))


# --------------------------------------------------------------------------- entry


def serve(
    app: ServiceApp, *, notifier: Notifier | None = None, observer: Observer | None = None
) -> ServeResult:
    """Run the service in the foreground until SIGTERM or SIGINT (``intake run``)."""
    daemon = Daemon(app, notifier=notifier or Notifier.from_env(), observer=observer)
    with _stop_on_signals(daemon):
        return daemon.run()


@contextmanager
def _stop_on_signals(daemon: Daemon) -> Iterator[None]:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s", signal.Signals(signum).name)
        daemon.stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _scheduler(daemon: Daemon) -> BackgroundScheduler:
    """The scheduler with every job of ``daemon``: a poll per mailbox, the outbox, maintenance,
    the desk's digest, lease renewal and the systemd watchdog."""
    boxes = daemon.settings.mailboxes
    scheduler = BackgroundScheduler(
        timezone=UTC,
        executors={"default": ThreadPoolExecutor(max_workers=2 * len(boxes) + 6)},
        # misfire_grace_time None: a run that starts late still runs (once, coalesced).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )
    now = datetime.now(UTC)
    for box in boxes:
        scheduler.add_job(
            daemon.lane_job,
            "interval",
            args=(_poll_lane(box.name),),
            seconds=daemon.config.poll_interval,
            id=_poll_lane(box.name),
            name=f"poll {box.name}",
            next_run_time=now,
        )
    scheduler.add_job(
        daemon.lane_job,
        "interval",
        args=("outbox",),
        seconds=daemon.config.outbox_interval,
        id="outbox",
        name="deliver the outbox",
        next_run_time=now + timedelta(seconds=1),
    )
    scheduler.add_job(
        daemon.lane_job,
        "interval",
        args=("maintenance",),
        seconds=daemon.config.maintenance_interval,
        id="maintenance",
        name="maintenance",
        # Soon after start-up, not at once: the first polls go first.
        next_run_time=now + timedelta(seconds=min(5.0, daemon.config.maintenance_interval)),
    )
    desk = daemon.settings.desk
    if desk.notify and desk.notify_mode != "each":
        scheduler.add_job(
            daemon.lane_job, "interval", args=("desk",), seconds=DESK_CHECK_SECONDS,
            id="desk", name="desk digest",
            next_run_time=now + timedelta(seconds=min(5.0, DESK_CHECK_SECONDS)),
        )  # fmt: skip
    scheduler.add_job(
        daemon.renew_leases,
        "interval",
        seconds=max(daemon.config.lease_seconds / 3, 0.5),
        id="leases",
        name="renew leases",
    )
    interval = daemon.notifier.watchdog_interval
    if interval:
        scheduler.add_job(
            daemon.notifier.watchdog, "interval", seconds=interval, id="watchdog",
            name="systemd watchdog", next_run_time=now,
        )  # fmt: skip
    return scheduler


def _shutdown_scheduler(scheduler: BackgroundScheduler) -> None:
    try:
        scheduler.shutdown(wait=True)
    except SchedulerNotRunningError:
        pass


def _poll_lane(mailbox: str) -> str:
    return f"poll:{mailbox}"


__all__ = [
    "Daemon",
    "Observer",
    "ServeResult",
    "ServiceApp",
    "serve",
]
