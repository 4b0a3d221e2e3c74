"""Work started on new messages and not finished (``parse_attempts``), per server location.

Counted and committed before parsing starts, so a message that stops the poll (a parse that
never ends, a worker or a whole process that dies on it) is known at the next start without
parsing it again. Core statements: one per batch on the hot path.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, select, update
from sqlalchemy.orm import Session

from intake.store.schema import locations
from intake.store.schema import parse_attempts as attempts_table

#: (mailbox, folder, uidvalidity): the folder a batch's UIDs belong to.
Folder = tuple[str, str, int]


def _where(folder: Folder, uids: Sequence[int]) -> ColumnElement[bool]:
    mailbox, name, uidvalidity = folder
    c = attempts_table.c
    return and_(
        c.mailbox == mailbox, c.folder == name, c.uidvalidity == uidvalidity, c.uid.in_(uids)
    )


@dataclass(frozen=True, slots=True)
class Started:
    """What is known of the earlier work on one message."""

    attempts: int  # started and not finished
    failures: int  # of those, parses that ran out of time or crashed the worker
    last_error: str


def started(session: Session, folder: Folder, uids: Sequence[int]) -> dict[int, Started]:
    """The earlier work counted for ``uids``."""
    if not uids:
        return {}
    c = attempts_table.c
    rows = session.execute(
        select(c.uid, c.attempts, c.failures, c.last_error).where(_where(folder, uids))
    ).all()
    return {int(uid): Started(int(n), int(f), str(error)) for uid, n, f, error in rows}


def count(
    session: Session,
    folder: Folder,
    uids: Sequence[int],
    *,
    now: datetime,
    known: Container[int],
    error: str = "",
) -> None:
    """One more attempt for each of ``uids`` (``known``: those :func:`started` found); with
    ``error``, one more failure too, and its reason."""
    if not uids:
        return
    mailbox, name, uidvalidity = folder
    again = [uid for uid in uids if uid in known]
    new = [uid for uid in uids if uid not in known]
    if again:
        values: dict[str, object] = {
            "attempts": attempts_table.c.attempts + 1,
            "updated_at": now,
        }
        if error:
            values["last_error"] = error[:2000]
            values["failures"] = attempts_table.c.failures + 1
        session.execute(update(attempts_table).where(_where(folder, again)).values(**values))
    if new:
        session.execute(
            attempts_table.insert(),
            [
                {
                    "mailbox": mailbox,
                    "folder": name,
                    "uidvalidity": uidvalidity,
                    "uid": uid,
                    "attempts": 1,
                    "failures": 1 if error else 0,
                    "last_error": error[:2000],
                    "updated_at": now,
                }
                for uid in new
            ],
        )


def uncount(session: Session, folder: Folder, uids: Sequence[int]) -> None:
    """Take back one attempt from each of ``uids`` (work that was handed back unfinished,
    not stopped by the message); rows left at zero go."""
    if not uids:
        return
    session.execute(
        update(attempts_table)
        .where(_where(folder, uids))
        .values(attempts=attempts_table.c.attempts - 1)
    )
    session.execute(
        delete(attempts_table).where(_where(folder, uids), attempts_table.c.attempts <= 0)
    )


def finish(session: Session, folder: Folder, uids: Sequence[int]) -> None:
    """The messages at ``uids`` are recorded (or quarantined): nothing left to count."""
    if uids:
        session.execute(delete(attempts_table).where(_where(folder, uids)))


def forget_recorded(session: Session, folder: Folder) -> None:
    """Drop the counts of messages recorded since (a poll that died after recording them,
    before it could say so) and of an earlier UIDVALIDITY: none of them is fetched again."""
    mailbox, name, uidvalidity = folder
    c, loc = attempts_table.c, locations.c
    recorded = select(loc.uid).where(
        loc.mailbox == mailbox, loc.folder == name, loc.uidvalidity == uidvalidity
    )
    session.execute(
        delete(attempts_table).where(
            c.mailbox == mailbox,
            c.folder == name,
            (c.uidvalidity != uidvalidity) | c.uid.in_(recorded),
        )
    )
