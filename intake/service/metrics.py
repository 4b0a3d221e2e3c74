"""Prometheus metrics for ``intake run --metrics-address HOST:PORT``; the only importer of
prometheus_client.

Two kinds: what the daemon sees as it works (poll durations, IDLE connections, replies sent
and failed by this process, refused logins), kept in counters and gauges; and what the
database says at scrape time (messages by kind, quarantine, outbox by state, backlog, mail
waiting to be moved, accounts whose login stands refused), read by a collector through the
same :func:`intake.service.health.status` that ``intake status`` prints. Everything lives in
one registry per :class:`Metrics`, none in the library's global one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker

from intake.adapters.logins import Refusal
from intake.core.config import Settings
from intake.core.configfile import parse_address
from intake.core.errors import ConfigError
from intake.service import health
from intake.store import messages as message_store

log = logging.getLogger(__name__)

POLL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """The metrics of one daemon; :meth:`serve` exposes them over HTTP."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.poll_seconds = Histogram(
            "intake_poll_duration_seconds",
            "Duration of one poll of a mailbox (login, search, fetch, record, move).",
            ["mailbox"],
            buckets=POLL_BUCKETS,
            registry=self.registry,
        )
        self.polls = Counter(
            "intake_polls", "Polls of a mailbox by result.", ["mailbox", "result"],
            registry=self.registry,
        )  # fmt: skip
        self.idle = Gauge(
            "intake_idle_connected",
            "1 while an IMAP IDLE connection listens on the mailbox.",
            ["mailbox"],
            registry=self.registry,
        )
        self.replies = Counter(
            "intake_replies",
            "Replies this process sent, put back for a retry, or gave up on.",
            ["result"],
            registry=self.registry,
        )
        self.auth_failures = Counter(
            "intake_auth_failures",
            "Logins a mail server refused, by account and service (imap, smtp).",
            ["account", "service"],
            registry=self.registry,
        )
        for box in settings.mailboxes:
            self.idle.labels(box.name).set(0)
            for result in ("ok", "failed"):
                self.polls.labels(box.name, result)
        for result in ("sent", "retried", "failed"):
            self.replies.labels(result)
        self.registry.register(_DatabaseCollector(sessions, settings, clock))
        self._server: Any = None
        self._thread: Any = None

    # ------------------------------------------------------------------ observations

    def poll_done(self, mailbox: str, seconds: float, ok: bool) -> None:
        self.poll_seconds.labels(mailbox).observe(seconds)
        self.polls.labels(mailbox, "ok" if ok else "failed").inc()

    def idle_connected(self, mailbox: str, connected: bool) -> None:
        self.idle.labels(mailbox).set(1 if connected else 0)

    def delivered(self, sent: int, retried: int, failed: int) -> None:
        for result, count in (("sent", sent), ("retried", retried), ("failed", failed)):
            if count:
                self.replies.labels(result).inc(count)

    def login_event(self, refusal: Refusal | None, account: str, service: str) -> None:
        """A listener for :class:`intake.adapters.logins.Logins`."""
        if refusal is not None:
            self.auth_failures.labels(account, service).inc()

    # ------------------------------------------------------------------ exposition

    def text(self) -> bytes:
        """The exposition format, as a scrape would get it."""
        return generate_latest(self.registry)

    def serve(self, address: str) -> tuple[str, int]:
        """Listen on ``HOST:PORT`` in a daemon thread; returns the address bound."""
        host, port = parse_address(address, "--metrics-address")
        try:
            self._server, self._thread = start_http_server(port, host, registry=self.registry)
        except OSError as exc:
            raise ConfigError(
                f"--metrics-address: cannot listen on {address}: {exc.strerror or exc}"
            ) from None
        bound = self._server.server_address
        log.info("metrics at http://%s:%d/metrics", host, bound[1])
        return host, int(bound[1])

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(5)


class _DatabaseCollector(Collector):
    """Reads the numbers the database holds at each scrape (works with several daemons)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock

    def describe(self) -> list[Metric]:
        return []  # unchecked: the families depend on the database's contents

    def collect(self) -> Iterator[Metric]:
        try:
            report = health.status(self._sessions, self._settings, self._clock())
            with self._sessions() as session, session.begin():
                kinds = message_store.count_by_kind(session)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer while the DB is down
            log.warning("metrics: cannot read the database: %s", exc)
            up = GaugeMetricFamily("intake_database_up", "1 when the database could be read.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("intake_database_up", "1 when the database could be read.")
        up.add_metric([], 1)
        yield up
        messages = GaugeMetricFamily(
            "intake_messages", "Incoming messages recorded, by kind.", labels=["kind"]
        )
        for kind, count in sorted(kinds.items()):
            messages.add_metric([kind], count)
        yield messages
        quarantined = GaugeMetricFamily(
            "intake_quarantined", "Messages that could not be processed (see intake quarantine)."
        )
        quarantined.add_metric([], report.quarantined)
        yield quarantined
        outbox = GaugeMetricFamily(
            "intake_outbox", "Replies in the outbox by state.", labels=["state"]
        )
        for state, count in sorted(report.outbox.by_state.items()):
            outbox.add_metric([state], count)
        yield outbox
        backlog = GaugeMetricFamily(
            "intake_backlog", "New messages not yet recorded, by mailbox.", labels=["mailbox"]
        )
        unmoved = GaugeMetricFamily(
            "intake_unmoved",
            "Messages recorded over 3 poll intervals ago but not moved to the processed folder.",
            labels=["mailbox"],
        )
        for box in report.mailboxes:
            backlog.add_metric([box.name], box.backlog)
            unmoved.add_metric([box.name], box.unmoved)
        yield backlog
        yield unmoved
        refused = GaugeMetricFamily(
            "intake_login_refused",
            "Consecutive refused logins of an account, until one works again.",
            labels=["account", "service"],
        )
        for login in report.logins:
            refused.add_metric([login.account, login.service], login.failures)
        yield refused
        healthy = GaugeMetricFamily("intake_healthy", "1 when intake status would say healthy.")
        healthy.add_metric([], 1 if report.healthy else 0)
        yield healthy
