"""Queries and writes for named leases: acquire or renew atomically, release, list."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from intake.store.models import Lease


def acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take lease ``name`` for ``holder`` until ``now + ttl``; True when ``holder`` has it.

    One statement does insert, renew (same holder) and takeover (expired lease), so two
    daemons racing for the same lease cannot both win: the row lock (PostgreSQL) or the write
    lock of BEGIN IMMEDIATE (SQLite) orders them, and the loser's WHERE is false.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stmt = insert(Lease).values(name=name, holder=holder, expires_at=now + ttl, acquired_at=now)
    # Keep acquired_at across renewals so status shows how long one holder has had it.
    same_holder = Lease.holder == stmt.excluded.holder
    upsert = stmt.on_conflict_do_update(
        index_elements=[Lease.name],
        set_={
            "holder": stmt.excluded.holder,
            "expires_at": stmt.excluded.expires_at,
            "acquired_at": case((same_holder, Lease.acquired_at), else_=stmt.excluded.acquired_at),
        },
        where=(Lease.expires_at < now) | same_holder,
    ).returning(Lease.holder)
    won = session.execute(upsert).scalar_one_or_none()
    return won == holder


def release(session: Session, name: str, holder: str) -> bool:
    """Give up lease ``name`` if ``holder`` has it; True when a row was removed."""
    result = session.execute(
        delete(Lease).where(Lease.name == name, Lease.holder == holder).returning(Lease.name)
    )
    return result.first() is not None


def get(session: Session, name: str) -> Lease | None:
    return session.get(Lease, name)


def all_leases(session: Session) -> list[Lease]:
    return list(session.scalars(select(Lease).order_by(Lease.name)))
