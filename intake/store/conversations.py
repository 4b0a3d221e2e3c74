"""Queries and writes for conversations: the last-resort thread lookup, article versions sent
as replies, the outbox rows a bounce names (suppression lives in ``store.outbox``), and the
submissions whose latest mail nobody on the desk has acted on since."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, or_, select, update
from sqlalchemy.orm import Session

from intake.core.events import ThreadMatch
from intake.store import schema
from intake.store.models import Attachment, Outbox, Submission, Version
from intake.text import threads as threading
from intake.text.addresses import normalised_or_lower


@dataclass(frozen=True, slots=True)
class RecentSubmission:
    id: int
    subject: str
    received_at: datetime


def recent_from(session: Session, sender: str, since: datetime) -> list[RecentSubmission]:
    """A sender's submissions received since ``since``, newest first."""
    rows = session.execute(
        select(Submission.id, Submission.subject, Submission.received_at)
        .where(Submission.sender == normalised_or_lower(sender), Submission.received_at >= since)
        .order_by(Submission.received_at.desc(), Submission.id.desc())
        .limit(200)
    )
    return [RecentSubmission(*row) for row in rows]


def thread_by_subject(
    session: Session, sender: str, subject: str, *, has_thread_headers: bool, now: datetime
) -> ThreadMatch | None:
    """The last-resort rule (``intake.text.threads``): the newest submission from ``sender``
    in the last 30 days whose subject, without reply prefixes, is this reply's subject."""
    if not sender or not threading.looks_like_reply(subject, has_thread_headers):
        return None
    wanted = threading.normalise_subject(subject)
    if not wanted:
        return None
    for row in recent_from(session, sender, now - threading.SUBJECT_WINDOW):
        if threading.normalise_subject(row.subject) == wanted:
            return ThreadMatch(row.id, None, f"subject, same sender as #{row.id}")
    return None


def add_version(
    session: Session,
    *,
    submission_id: int,
    message_pk: int,
    article_text: str,
    char_count: int,
    created_at: datetime,
    attachment_ids: Sequence[int] = (),
) -> Version:
    """The next version of a submission's article, with the attachments it came from."""
    latest = session.scalar(
        select(func.max(Version.number)).where(Version.submission_id == submission_id)
    )
    version = Version(
        submission_id=submission_id,
        message_pk=message_pk,
        number=(latest or 0) + 1,
        article_text=article_text,
        char_count=char_count,
        created_at=created_at,
    )
    session.add(version)
    session.flush()
    if attachment_ids:
        session.execute(
            update(Attachment)
            .where(Attachment.id.in_(list(attachment_ids)))
            .values(version_id=version.id)
            .execution_options(synchronize_session=False)
        )
    return version


def outbox_by_message_ids(session: Session, message_ids: Sequence[str]) -> list[Outbox]:
    """Our outgoing replies with any of these Message-IDs."""
    if not message_ids:
        return []
    return list(
        session.scalars(
            select(Outbox).where(Outbox.message_id.in_(list(message_ids))).order_by(Outbox.id)
        )
    )


def unanswered(conn: Connection, submission_ids: Sequence[int], system_actor: str) -> set[int]:
    """Those of ``submission_ids`` with a reply filed on them after the last thing anyone on
    the desk did to them (any event not by ``system_actor``): mail an editor has yet to read."""
    if not submission_ids:
        return set()
    m, e = schema.messages.c, schema.events.c
    ids = list(submission_ids)
    mail = (
        select(m.submission_id.label("id"), func.max(m.received_at).label("at"))
        .where(m.submission_id.in_(ids), m.kind == "reply")
        .group_by(m.submission_id)
        .subquery("mail")
    )
    desk = (
        select(e.submission_id.label("id"), func.max(e.at).label("at"))
        .where(e.submission_id.in_(ids), e.actor != system_actor)
        .group_by(e.submission_id)
        .subquery("desk")
    )
    query = (
        select(mail.c.id)
        .outerjoin(desk, desk.c.id == mail.c.id)
        .where(or_(desk.c.at.is_(None), mail.c.at > desk.c.at))
    )
    return set(conn.scalars(query))
