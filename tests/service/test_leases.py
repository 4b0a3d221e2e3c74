"""Leases on SQLite and PostgreSQL: one holder at a time, renewal, expiry, takeover, release."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from intake import store
from intake.core.clock import as_utc
from intake.service import health as service
from intake.store import leases as lease_store

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TTL = timedelta(seconds=90)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = store.make_engine(db_url)
    store.upgrade(engine)
    yield store.session_factory(engine)
    engine.dispose()


def acquire(
    sessions: sessionmaker[Session], holder: str, now: datetime, name: str = "mailbox:a"
) -> bool:
    with sessions() as session, session.begin():
        return lease_store.acquire(session, name, holder, now, TTL)


def test_second_holder_is_refused_until_expiry(sessions: sessionmaker[Session]) -> None:
    assert acquire(sessions, "A", T0)
    assert not acquire(sessions, "B", T0 + timedelta(seconds=1))
    assert not acquire(sessions, "B", T0 + TTL - timedelta(seconds=1))
    # Expired: B takes over, and A can no longer renew.
    assert acquire(sessions, "B", T0 + TTL + timedelta(seconds=1))
    assert not acquire(sessions, "A", T0 + TTL + timedelta(seconds=2))
    lease = service.current_lease(sessions, "mailbox:a", T0 + TTL + timedelta(seconds=2))
    assert lease is not None and lease.holder == "B"
    assert service.current_lease(sessions, "mailbox:a", T0 + TTL * 3) is None


def test_renewal_extends_and_keeps_acquired_at(sessions: sessionmaker[Session]) -> None:
    assert acquire(sessions, "A", T0)
    assert acquire(sessions, "A", T0 + timedelta(seconds=60))
    # Renewed at +60: still A's at +120, past the first expiry.
    assert not acquire(sessions, "B", T0 + timedelta(seconds=120))
    with sessions() as session, session.begin():
        (lease,) = lease_store.all_leases(session)
        assert lease.holder == "A"
        assert as_utc(lease.acquired_at) == T0
        assert as_utc(lease.expires_at) == T0 + timedelta(seconds=60) + TTL


def test_takeover_resets_acquired_at(sessions: sessionmaker[Session]) -> None:
    acquire(sessions, "A", T0)
    later = T0 + TTL * 2
    assert acquire(sessions, "B", later)
    with sessions() as session, session.begin():
        (lease,) = lease_store.all_leases(session)
        assert (lease.holder, as_utc(lease.acquired_at)) == ("B", later)


def test_release_only_by_holder(sessions: sessionmaker[Session]) -> None:
    acquire(sessions, "A", T0)
    with sessions() as session, session.begin():
        assert not lease_store.release(session, "mailbox:a", "B")
    assert not acquire(sessions, "B", T0)
    with sessions() as session, session.begin():
        assert lease_store.release(session, "mailbox:a", "A")
    assert acquire(sessions, "B", T0)


def test_leases_are_independent(sessions: sessionmaker[Session]) -> None:
    assert acquire(sessions, "A", T0, "mailbox:a")
    assert acquire(sessions, "B", T0, "mailbox:b")
    assert not acquire(sessions, "A", T0, "mailbox:b")


def test_racing_holders_one_wins(sessions: sessionmaker[Session]) -> None:
    """Eight threads race for one new lease at the same moment: exactly one gets it."""
    barrier = threading.Barrier(8)
    results: dict[str, bool] = {}

    def race(holder: str) -> None:
        barrier.wait()
        results[holder] = acquire(sessions, holder, T0, "mailbox:race")

    threads = [threading.Thread(target=race, args=(f"H{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(results.values()) == 1


def test_leases_object_tracks_holding_and_local_expiry(sessions: sessionmaker[Session]) -> None:
    now = [T0]
    ticks = [0.0]
    a = service.Leases(sessions, "A", TTL, lambda: now[0], monotonic=lambda: ticks[0])
    b = service.Leases(sessions, "B", TTL, lambda: now[0], monotonic=lambda: ticks[0])
    assert a.acquire("mailbox:x") and a.holds("mailbox:x")
    assert not b.acquire("mailbox:x") and not b.holds("mailbox:x")
    # A is paused past its TTL: it stops counting the lease as its own before anyone tells it.
    ticks[0] = 91.0
    assert not a.holds("mailbox:x")
    now[0] = T0 + timedelta(seconds=91)
    assert b.acquire("mailbox:x")
    assert a.renew_all() == ["mailbox:x"]
    assert a.held() == []
    b.release_all()
    assert service.current_lease(sessions, "mailbox:x", now[0]) is None
