"""Queries and writes for incoming messages, their server locations and mailbox state."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Update,
    and_,
    bindparam,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from intake.core.errors import NotFound
from intake.core.mail import OVERSIZE_RULE, Kind, MessageRef
from intake.store.models import Location, MailboxState, Message, table


@dataclass(frozen=True, slots=True)
class Known:
    """What we already know about a UID on the server."""

    message_pk: int
    kind: str
    moved: bool
    rule: str = ""

    @property
    def stays(self) -> bool:
        """Left on the server: oversize mail, of which only the header is stored (recorded,
        or quarantined when even that failed)."""
        return self.kind == Kind.OVERSIZE or self.rule == OVERSIZE_RULE


def known_uids(session: Session, mailbox: str, folder: str, uidvalidity: int) -> dict[int, Known]:
    rows = session.execute(
        select(Location.uid, Location.message_pk, Location.moved_at, Message.kind, Message.rule)
        .join(Message, Message.id == Location.message_pk)
        .where(
            Location.mailbox == mailbox,
            Location.folder == folder,
            Location.uidvalidity == uidvalidity,
        )
    )
    return {
        int(uid): Known(message_pk=pk, kind=kind, moved=moved_at is not None, rule=rule)
        for uid, pk, moved_at, kind, rule in rows
    }


def location(session: Session, ref: MessageRef) -> Location | None:
    return session.scalars(
        select(Location).where(
            Location.mailbox == ref.mailbox,
            Location.folder == ref.folder,
            Location.uidvalidity == ref.uidvalidity,
            Location.uid == ref.uid,
        )
    ).first()


@dataclass(frozen=True, slots=True)
class Recorded:
    """A message already recorded, as ingest's duplicate check sees it."""

    id: int
    kind: str
    submission_id: int | None
    claim_id: int | None
    same_bytes: bool  # False: the same Message-ID and body with other trace headers


def recorded(
    session: Session, sha256: str, message_id: str = "", body_sha256: str = ""
) -> Recorded | None:
    """The message recorded with these exact bytes, else the first one with the same
    Message-ID and body (the same mail delivered again); one indexed query."""
    with_identity = bool(message_id and body_sha256)
    params = (
        {"sha": sha256, "mid": message_id, "body": body_sha256}
        if with_identity
        else {"sha": sha256}
    )
    row = session.execute(_recorded_query(with_identity), params).first()
    if row is None:
        return None
    return Recorded(row.id, row.kind, row.submission_id, row.claim_id, row.sha256 == sha256)


@functools.cache
def _recorded_query(with_identity: bool) -> Select[int, str, int | None, int | None, str]:
    # Built once (ingest asks for every message; building the query costs more than running it).
    messages = table(Message)
    same_bytes = messages.c.sha256 == bindparam("sha")
    match: ColumnElement[bool] = same_bytes
    if with_identity:
        match = or_(
            same_bytes,
            and_(
                messages.c.message_id == bindparam("mid"),
                messages.c.body_sha256 == bindparam("body"),
            ),
        )
    return (
        select(
            messages.c.id,
            messages.c.kind,
            messages.c.submission_id,
            messages.c.claim_id,
            messages.c.sha256,
        )
        .where(match)
        .order_by(same_bytes.desc(), messages.c.id)
        .limit(1)
    )


def update_message(session: Session, pk: int, fields: Mapping[str, object]) -> None:
    """Overwrite columns of a ``messages`` row (a reprocessed message filled in again)."""
    session.execute(_update_message(), {"message_pk": pk, **fields})


@functools.cache
def _update_message() -> Update:
    messages = table(Message)
    return update(messages).where(messages.c.id == bindparam("message_pk"))


def add_location(
    session: Session, message_pk: int, ref: MessageRef, now: datetime, *, duplicate: bool
) -> None:
    """Record where on the server a message was seen (unique: a racing poller fails here)."""
    session.execute(
        _insert_location(),
        {
            "message_pk": message_pk,
            "mailbox": ref.mailbox,
            "folder": ref.folder,
            "uidvalidity": ref.uidvalidity,
            "uid": ref.uid,
            "seen_at": now,
            "moved_at": None,
            "duplicate": duplicate,
        },
    )


@functools.cache
def _insert_location() -> Insert:
    return insert(table(Location))


def mark_moved(
    session: Session,
    mailbox: str,
    folder: str,
    uidvalidity: int,
    uids: Sequence[int],
    now: datetime,
) -> None:
    if not uids:
        return
    session.execute(
        update(Location)
        .where(
            Location.mailbox == mailbox,
            Location.folder == folder,
            Location.uidvalidity == uidvalidity,
            Location.uid.in_(list(uids)),
        )
        .values(moved_at=now)
    )


def mailbox_state(session: Session, mailbox: str, folder: str) -> MailboxState:
    state = session.get(MailboxState, (mailbox, folder))
    if state is None:
        state = MailboxState(mailbox=mailbox, folder=folder, uidvalidity=None, last_error="")
        session.add(state)
        session.flush()
    return state


def all_mailbox_states(session: Session) -> list[MailboxState]:
    return list(session.scalars(select(MailboxState).order_by(MailboxState.mailbox)))


def get_message(session: Session, pk: int) -> Message:
    message = session.get(Message, pk)
    if message is None:
        raise NotFound(f"no message with id {pk}")
    return message


def list_messages(
    session: Session, kind: str | None = None, limit: int | None = None, offset: int = 0
) -> list[Message]:
    query = select(Message).order_by(Message.id)
    if kind:
        query = query.where(Message.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return list(session.scalars(query))


def first_location(session: Session, message_pk: int) -> Location | None:
    return session.scalars(
        select(Location).where(Location.message_pk == message_pk).order_by(Location.id)
    ).first()


def count_by_kind(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(select(Message.kind, func.count()).group_by(Message.kind))
    return {kind: int(n) for kind, n in rows}


def quarantined(session: Session) -> list[Message]:
    return list_messages(session, kind=Kind.QUARANTINED.value)
