"""Queries for the editorial queue: filtered and searched listings, a submission's conversation
and outbox, and the aggregate statistics of ``intake stats``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    Text,
    and_,
    case,
    cast,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from intake.models import Attachment, Message, Outbox, Submission
from intake.store import claims as claim_store
from intake.store import is_postgres
from intake.workflow import OPEN_STATUSES, Status

#: Search terms shorter than this cannot use a trigram index (SQLite FTS5 trigram, PostgreSQL
#: pg_trgm): they fall back to LIKE over the columns.
TRIGRAM = 3

_Ts = TypeVarTuple("_Ts")

_fts = table("submissions_fts", column("rowid"), column("submissions_fts"))


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """The filters of ``intake list``; empty fields do not filter."""

    statuses: tuple[str, ...] = ()
    copyright: tuple[str, ...] = ()
    assignee: str | None = None  # "" means unassigned
    sender: str = ""  # an address, "@domain", or part of an address or name
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    overdue: bool = False
    search: str = ""


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One line of the queue, without the (long) texts."""

    id: int
    status: str
    copyright_status: str
    sender: str
    sender_name: str
    subject: str
    received_at: datetime
    decision_due: datetime | None
    assignee: str
    attachment_count: int


#: ``--sort`` keys; a leading "-" means descending. Ties fall back to the id, newest first.
SORT_KEYS: Mapping[str, InstrumentedAttribute[Any]] = {
    "received": Submission.received_at,
    "id": Submission.id,
    "status": Submission.status,
    "due": Submission.decision_due,
    "copyright": Submission.copyright_status,
    "sender": Submission.sender,
    "assignee": Submission.assignee,
}
SORTS: tuple[str, ...] = tuple(k for key in SORT_KEYS for k in (key, f"-{key}"))


def _document() -> ColumnElement[str]:
    """Everything ``--search`` looks at, as one text.

    On PostgreSQL the GIN trigram index of migration 0002 is built on exactly this expression
    (keep the two in step). The body is left out when the article *is* the body, which halves
    the index for the common case of an article written into the mail itself.
    """
    space = literal_column("' '", Text)
    body = case(
        (Submission.body_text == Submission.article_text, literal_column("''", Text)),
        else_=Submission.body_text,
    )
    return (
        Submission.subject
        + space
        + Submission.sender
        + space
        + Submission.sender_name
        + space
        + body
        + space
        + Submission.article_text
    )


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_condition(session: Session, text: str) -> ColumnElement[bool] | None:
    """Rows whose subject, sender, body or article contain every whitespace-separated term.

    Matching is by substring, so it works for Chinese, which has no spaces between words.
    """
    terms = text.split()
    if not terms:
        return None
    conditions: list[ColumnElement[bool]] = []
    if is_postgres(session):
        document = _document()
        for term in terms:
            pattern = _like_pattern(term)
            # ILIKE lower-cases every row's whole text first, three times slower than LIKE:
            # spend that only on terms that have letter case at all (not on Chinese).
            cased = term.lower() != term.upper()
            conditions.append(
                document.ilike(pattern, escape="\\")
                if cased
                else document.like(pattern, escape="\\")
            )
        return and_(*conditions)
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    if long_terms:
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        conditions.append(
            Submission.id.in_(select(_fts.c.rowid).where(_fts.c.submissions_fts.op("MATCH")(match)))
        )
    columns = (
        Submission.subject,
        Submission.sender,
        Submission.sender_name,
        Submission.body_text,
        Submission.article_text,
    )
    for term in terms:
        if len(term) < TRIGRAM:
            # SQLite's LIKE already ignores ASCII case; Chinese has none.
            pattern = _like_pattern(term)
            conditions.append(or_(*(c.like(pattern, escape="\\") for c in columns)))
    return and_(*conditions)


def _sender_condition(value: str) -> ColumnElement[bool]:
    value = value.strip().lower()
    if value.startswith("@"):
        return Submission.sender.like("%" + _like_pattern(value)[1:], escape="\\")
    if "@" in value:
        return Submission.sender == value
    pattern = _like_pattern(value)
    return or_(
        Submission.sender.like(pattern, escape="\\"),
        func.lower(Submission.sender_name).like(pattern, escape="\\"),
    )


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Not decided and past the decision deadline (see :func:`intake.workflow.is_overdue`)."""
    return and_(
        Submission.status.in_(sorted(OPEN_STATUSES)),
        Submission.decision_due.is_not(None),
        Submission.decision_due < now,
    )


def _where_clause(session: Session, filters: QueueFilter, now: datetime) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(Submission.status.in_(filters.statuses))
    if filters.copyright:
        conditions.append(Submission.copyright_status.in_(filters.copyright))
    if filters.assignee is not None:
        conditions.append(Submission.assignee == filters.assignee)
    if filters.sender:
        conditions.append(_sender_condition(filters.sender))
    if filters.since is not None:
        conditions.append(Submission.received_at >= filters.since)
    if filters.until is not None:
        conditions.append(Submission.received_at < filters.until)
    if filters.overdue:
        conditions.append(overdue_condition(now))
    if filters.search:
        condition = search_condition(session, filters.search)
        if condition is not None:
            conditions.append(condition)
    return and_(true(), *conditions)


#: How many of the newest rows a PostgreSQL search reads first (see :func:`list_queue`).
SEARCH_WINDOW = 2000


def list_queue(
    session: Session,
    filters: QueueFilter,
    *,
    now: datetime,
    sort: str = "-received",
    limit: int | None = 50,
    offset: int = 0,
    search_window: int = SEARCH_WINDOW,
) -> list[QueueRow]:
    """One page of the queue, filtered and sorted."""
    descending = sort.startswith("-")
    key = SORT_KEYS[sort.lstrip("-")]
    # NULLS LAST only where there can be NULLs: on PostgreSQL it would stop a plain index
    # from giving the order (a backward scan yields NULLS FIRST).
    order: ColumnElement[Any] = key.desc() if descending else key.asc()
    if key.nullable:
        order = order.nulls_last()
    orders = (
        [order]
        if key is Submission.id
        else [order, Submission.id.desc() if descending else Submission.id.asc()]
    )
    if filters.search.strip() and limit is not None and is_postgres(session):
        ids = _search_newest(session, filters, now, orders, limit + offset, search_window)
        if ids is not None:
            return _rows(session, Submission.id.in_(ids), orders, limit, offset)
    return _rows(session, _where_clause(session, filters, now), orders, limit, offset)


def _search_newest(
    session: Session,
    filters: QueueFilter,
    now: datetime,
    orders: list[ColumnElement[Any]],
    need: int,
    window_size: int,
) -> list[int] | None:
    """The first ``need`` matches among the first rows in the listing's order (the newest,
    by default), or None when those hold fewer.

    PostgreSQL must re-read every candidate the trigram index yields, and it cannot estimate
    how common a term is (the texts are too long for its statistics), so a common word makes
    it read thousands of long texts to keep the first 50. Reading rows in order and stopping
    is cheap exactly then; when they hold too few matches, the term is rare and the index is
    the cheap way after all. Either way the page is the same: a match outside the window comes
    after every row in it.
    """
    condition = search_condition(session, filters.search)
    assert condition is not None
    rest = _where_clause(session, replace(filters, search=""), now)
    window = (
        select(Submission.id.label("id"), condition.label("hit"))
        .where(rest)
        .order_by(*orders)
        .limit(window_size)
        .subquery("newest")
    )
    # The LIMIT keeps PostgreSQL from pushing the search into the index scan: each of the
    # newest rows is tested once, in order.
    ids = list(session.scalars(select(window.c.id).where(window.c.hit).limit(need)))
    return ids if len(ids) >= need else None


def _rows(
    session: Session,
    where: ColumnElement[bool],
    orders: list[ColumnElement[Any]],
    limit: int | None,
    offset: int,
) -> list[QueueRow]:
    # The page's ids first, then their rows: sorting the ids needs only indexed columns, and
    # on SQLite a column stored after the long texts (assignee) costs a walk through their
    # overflow pages, which should happen for the 50 rows shown, not for every match.
    page = select(Submission.id).where(where).order_by(*orders)
    if limit is not None:
        page = page.limit(limit)
    if offset:
        page = page.offset(offset)
    attachment_count = (
        select(func.count())
        .where(Attachment.submission_id == Submission.id)
        .correlate(Submission)
        .scalar_subquery()
    )
    query = (
        select(
            Submission.id,
            Submission.status,
            Submission.copyright_status,
            Submission.sender,
            Submission.sender_name,
            Submission.subject,
            Submission.received_at,
            Submission.decision_due,
            Submission.assignee,
            attachment_count,
        )
        .where(Submission.id.in_(page.scalar_subquery()))
        .order_by(*orders)
    )
    return [QueueRow(*row) for row in session.execute(query)]


def count_queue(session: Session, filters: QueueFilter, *, now: datetime) -> int:
    query = select(func.count()).select_from(Submission)
    return session.execute(query.where(_where_clause(session, filters, now))).scalar_one()


def conversation(session: Session, submission: Submission) -> list[Message]:
    """The contributor's messages about a submission, oldest first (the original included)."""
    return list(
        session.scalars(
            select(Message)
            .options(defer(Message.body_text), defer(Message.auth_results))
            .where(or_(Message.submission_id == submission.id, Message.id == submission.message_pk))
            .order_by(Message.received_at, Message.id)
        )
    )


def outbox_for(session: Session, submission_id: int) -> list[Outbox]:
    """Our replies about a submission (queued, sent or failed), oldest first; bytes deferred."""
    return list(
        session.scalars(
            select(Outbox)
            .options(defer(Outbox.raw))
            .where(Outbox.submission_id == submission_id)
            .order_by(Outbox.id)
        )
    )


# --------------------------------------------------------------------------- statistics


@dataclass(frozen=True, slots=True)
class QueueStats:
    """What ``intake stats`` shows; counts cover submissions received since ``since``."""

    since: datetime | None
    total: int
    by_status: dict[str, int]
    by_copyright: dict[str, int]
    per_day: list[tuple[date, int]]
    decided: int
    median_decision_seconds: float | None
    overdue: int
    open_claims: int | None


def _local_day(session: Session, utc_offset: timedelta) -> ColumnElement[object]:
    minutes = int(utc_offset.total_seconds() // 60)
    if is_postgres(session):
        return literal_column(
            f"date((submissions.received_at AT TIME ZONE 'UTC') + interval '{minutes} minutes')"
        )
    return func.date(Submission.received_at, f"{minutes:+d} minutes")


def _decision_time(session: Session) -> tuple[ColumnElement[Any], ColumnElement[float]]:
    """Receipt to decision: the expression migration 0002 indexes (so the median is read in
    index order, not sorted), and the same in seconds."""
    if is_postgres(session):
        interval = Submission.decided_at - Submission.received_at
        return interval, cast(func.extract("epoch", interval), Float)
    days = func.julianday(Submission.decided_at) - func.julianday(Submission.received_at)
    return days, cast(days * 86400.0, Float)


def queue_stats(
    session: Session,
    *,
    now: datetime,
    since: datetime | None = None,
    days: int = 30,
    utc_offset: timedelta = timedelta(0),
) -> QueueStats:
    """Counts, submissions per local day over the last ``days`` days, time to decision."""

    def scoped(query: Select[*_Ts]) -> Select[*_Ts]:
        return query.where(Submission.received_at >= since) if since is not None else query

    by_status = {str(s): 0 for s in Status}
    for key, count in session.execute(
        scoped(select(Submission.status, func.count()).group_by(Submission.status))
    ):
        by_status[key] = count
    by_copyright: dict[str, int] = {}
    for key, count in session.execute(
        scoped(
            select(Submission.copyright_status, func.count()).group_by(Submission.copyright_status)
        )
    ):
        by_copyright[key] = count

    local_now = now + utc_offset
    first_day = local_now.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo) - utc_offset
    day = _local_day(session, utc_offset).label("day")
    counted: dict[str, int] = {
        str(d): int(n)
        for d, n in session.execute(
            select(day, func.count()).where(Submission.received_at >= start).group_by(day)
        )
    }
    per_day = [
        (first_day + timedelta(days=i), counted.get(str(first_day + timedelta(days=i)), 0))
        for i in range(days)
    ]

    decided_q = scoped(
        select(func.count()).select_from(Submission).where(Submission.decided_at.is_not(None))
    )
    decided = session.execute(decided_q).scalar_one()
    median: float | None = None
    if decided:
        span, seconds = _decision_time(session)
        middle = session.execute(
            scoped(select(seconds).where(span.is_not(None)))
            .order_by(span)
            .offset((decided - 1) // 2)
            .limit(1 if decided % 2 else 2)
        ).scalars()
        values = [float(v) for v in middle]
        median = sum(values) / len(values) if values else None

    overdue = session.execute(
        scoped(select(func.count()).select_from(Submission).where(overdue_condition(now)))
    ).scalar_one()
    return QueueStats(
        since=since,
        total=sum(by_status.values()),
        by_status=by_status,
        by_copyright=by_copyright,
        per_day=per_day,
        decided=decided,
        median_decision_seconds=median,
        overdue=overdue,
        open_claims=open_claims(session),
    )


def open_claims(session: Session) -> int:
    """Rights holders' claims not yet resolved (received, investigating or needs_info)."""
    return claim_store.open_claims_count(session)


def submission_ids(session: Session, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` exist."""
    if not ids:
        return set()
    return set(session.scalars(select(Submission.id).where(Submission.id.in_(list(ids)))))
