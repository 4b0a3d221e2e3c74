"""Queries for the health report and retention: outbox counts, overdue claims, old raw mail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from intake.store.models import Consent, Location, MailboxState, Message, Outbox

#: Outbox states that need no more sending (``held`` waits for staff, not for a sender).
DONE_OUTBOX_STATES = ("sent", "failed", "held")


def outbox_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Outbox.state, func.count()).group_by(Outbox.state))
    return {state: int(n) for state, n in rows}


def outbox_failed_since(session: Session, since: datetime) -> int:
    """Replies that gave up whose last attempt was due at or after ``since``."""
    query = select(func.count()).where(Outbox.state == "failed", Outbox.next_attempt_at >= since)
    return int(session.scalar(query) or 0)


def outbox_due_before(session: Session, before: datetime, *, staff_only: bool = False) -> int:
    """Replies still waiting to be sent that were due before ``before`` (only staff letters:
    not the automatic replies)."""
    query = select(func.count()).where(
        Outbox.state.not_in(DONE_OUTBOX_STATES), Outbox.next_attempt_at < before
    )
    if staff_only:
        query = query.where(Outbox.automatic.is_(False))
    return int(session.scalar(query) or 0)


def raw_of_kinds_before(
    session: Session, kinds: Sequence[str], before: datetime, limit: int
) -> list[tuple[int, str]]:
    """(id, raw_path) of messages of ``kinds`` ingested before ``before`` that still have raw."""
    rows = session.execute(
        select(Message.id, Message.raw_path)
        .where(Message.kind.in_(list(kinds)), Message.ingested_at < before, Message.raw_path != "")
        .order_by(Message.id)
        .limit(limit)
    )
    return [(int(pk), str(path)) for pk, path in rows]


def forget_raw(session: Session, message_pks: Sequence[int]) -> None:
    if message_pks:
        session.execute(
            update(Message).where(Message.id.in_(list(message_pks))).values(raw_path="")
        )


def raw_paths_in_use(session: Session, paths: Sequence[str]) -> set[str]:
    """Which of ``paths`` a message or a consent record still points at."""
    if not paths:
        return set()
    used = set(session.scalars(select(Message.raw_path).where(Message.raw_path.in_(list(paths)))))
    used |= set(session.scalars(select(Consent.raw_path).where(Consent.raw_path.in_(list(paths)))))
    return used


def unmoved_before(session: Session, before: datetime) -> dict[tuple[str, str], int]:
    """Per (mailbox, folder): messages recorded before ``before`` and still not moved to the
    processed folder under the folder's current UIDVALIDITY (oversize mail stays on purpose)."""
    rows = session.execute(
        select(Location.mailbox, Location.folder, func.count())
        .join(Message, Message.id == Location.message_pk)
        .join(
            MailboxState,
            (MailboxState.mailbox == Location.mailbox)
            & (MailboxState.folder == Location.folder)
            & (MailboxState.uidvalidity == Location.uidvalidity),
        )
        .where(Location.moved_at.is_(None), Location.seen_at < before, Message.kind != "oversize")
        .group_by(Location.mailbox, Location.folder)
    )
    return {(mailbox, folder): int(n) for mailbox, folder, n in rows}
