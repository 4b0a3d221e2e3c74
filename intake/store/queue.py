"""Queries for the editorial queue: filtered and searched listings, a submission's conversation
and outbox, and the aggregate statistics of ``intake stats``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVarTuple

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Float,
    Row,
    Select,
    Table,
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

from intake.core.errors import NotFound
from intake.store import is_postgres, schema
from intake.text.addresses import normalised_or_empty, normalised_or_lower
from intake.workflow.claim import OPEN_STATUSES as OPEN_CLAIM_STATUSES
from intake.workflow.submission import OPEN_STATUSES, Status

# Core tables, not the ORM: these are the staff CLI's read-only queries, and a command that
# loads no ORM starts about 0.1 s sooner.
_s = schema.submissions.c

#: Search terms shorter than this cannot use a trigram index (SQLite FTS5 trigram, PostgreSQL
#: pg_trgm): they fall back to LIKE over the columns.
TRIGRAM = 3

_Ts = TypeVarTuple("_Ts")

#: A row of any columns, read by name (``row.status``).
Record = Row[*tuple[Any, ...]]

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
    flagged: bool = False  # only those intake asked staff to look at


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
    flagged: str = ""


#: ``--sort`` keys; a leading "-" means descending. Ties fall back to the id, newest first.
SORT_KEYS: Mapping[str, Column[Any]] = {
    "received": _s.received_at,
    "id": _s.id,
    "status": _s.status,
    "due": _s.decision_due,
    "copyright": _s.copyright_status,
    "sender": _s.sender,
    "assignee": _s.assignee,
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
        (_s.body_text == _s.article_text, literal_column("''", Text)),
        else_=_s.body_text,
    )
    return (
        _s.subject
        + space
        + _s.sender
        + space
        + _s.sender_name
        + space
        + body
        + space
        + _s.article_text
    )


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def search_condition(conn: Connection, text: str) -> ColumnElement[bool] | None:
    """Rows whose subject, sender, body or article contain every whitespace-separated term.

    Matching is by substring, so it works for Chinese, which has no spaces between words.
    """
    terms = text.split()
    if not terms:
        return None
    conditions: list[ColumnElement[bool]] = []
    if is_postgres(conn):
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
            _s.id.in_(select(_fts.c.rowid).where(_fts.c.submissions_fts.op("MATCH")(match)))
        )
    columns = (
        _s.subject,
        _s.sender,
        _s.sender_name,
        _s.body_text,
        _s.article_text,
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
        # Senders are stored normalised: a domain is matched in its A-label form.
        domain = normalised_or_empty(f"x{value}").partition("@")[2] or value[1:]
        return _s.sender.like("%" + _like_pattern("@" + domain)[1:], escape="\\")
    if "@" in value:
        # Any spelling of the address finds what its mailbox sent (stored normalised).
        return _s.sender.in_(sorted({normalised_or_lower(value), value}))
    pattern = _like_pattern(value)
    return or_(
        _s.sender.like(pattern, escape="\\"),
        func.lower(_s.sender_name).like(pattern, escape="\\"),
    )


def overdue_condition(now: datetime) -> ColumnElement[bool]:
    """Undecided and past the decision deadline (:func:`intake.workflow.submission.is_overdue`)."""
    return and_(
        _s.status.in_(sorted(OPEN_STATUSES)),
        _s.decision_due.is_not(None),
        _s.decision_due < now,
    )


def _where_clause(conn: Connection, filters: QueueFilter, now: datetime) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if filters.statuses:
        conditions.append(_s.status.in_(filters.statuses))
    if filters.copyright:
        conditions.append(_s.copyright_status.in_(filters.copyright))
    if filters.assignee is not None:
        conditions.append(_s.assignee == filters.assignee)
    if filters.sender:
        conditions.append(_sender_condition(filters.sender))
    if filters.since is not None:
        conditions.append(_s.received_at >= filters.since)
    if filters.until is not None:
        conditions.append(_s.received_at < filters.until)
    if filters.overdue:
        conditions.append(overdue_condition(now))
    if filters.flagged:
        conditions.append(_s.flagged != "")
    if filters.search:
        condition = search_condition(conn, filters.search)
        if condition is not None:
            conditions.append(condition)
    return and_(true(), *conditions)


#: How many of the newest rows a PostgreSQL search reads first (see :func:`list_queue`).
SEARCH_WINDOW = 2000


def list_queue(
    conn: Connection,
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
    orders = [order] if key is _s.id else [order, _s.id.desc() if descending else _s.id.asc()]
    if filters.search.strip() and limit is not None and is_postgres(conn):
        ids = _search_newest(conn, filters, now, orders, limit + offset, search_window)
        if ids is not None:
            return _rows(conn, _s.id.in_(ids), orders, limit, offset)
    return _rows(conn, _where_clause(conn, filters, now), orders, limit, offset)


def _search_newest(
    conn: Connection,
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
    condition = search_condition(conn, filters.search)
    assert condition is not None
    rest = _where_clause(conn, replace(filters, search=""), now)
    window = (
        select(_s.id.label("id"), condition.label("hit"))
        .where(rest)
        .order_by(*orders)
        .limit(window_size)
        .subquery("newest")
    )
    # The LIMIT keeps PostgreSQL from pushing the search into the index scan: each of the
    # newest rows is tested once, in order.
    ids = list(conn.scalars(select(window.c.id).where(window.c.hit).limit(need)))
    return ids if len(ids) >= need else None


def _rows(
    conn: Connection,
    where: ColumnElement[bool],
    orders: list[ColumnElement[Any]],
    limit: int | None,
    offset: int,
) -> list[QueueRow]:
    # The page's ids first, then their rows: sorting the ids needs only indexed columns, and
    # on SQLite a column stored after the long texts (assignee) costs a walk through their
    # overflow pages, which should happen for the 50 rows shown, not for every match.
    page = select(_s.id).where(where).order_by(*orders)
    if limit is not None:
        page = page.limit(limit)
    if offset:
        page = page.offset(offset)
    attachment_count = (
        select(func.count())
        .where(schema.attachments.c.submission_id == _s.id)
        .correlate(schema.submissions)
        .scalar_subquery()
    )
    query = (
        select(
            _s.id,
            _s.status,
            _s.copyright_status,
            _s.sender,
            _s.sender_name,
            _s.subject,
            _s.received_at,
            _s.decision_due,
            _s.assignee,
            attachment_count,
            _s.flagged,
        )
        .where(_s.id.in_(page.scalar_subquery()))
        .order_by(*orders)
    )
    return [QueueRow(*tuple(row)) for row in conn.execute(query)]


def count_queue(conn: Connection, filters: QueueFilter, *, now: datetime) -> int:
    query = select(func.count()).select_from(schema.submissions)
    return conn.execute(query.where(_where_clause(conn, filters, now))).scalar_one()


# --------------------------------------------------------------------------- one submission
# What ``intake show`` prints, each as plain rows (column names as in :mod:`intake.store.schema`).


def submission(conn: Connection, submission_id: int) -> Record:
    """A submission's columns, with its original message's ``message_id`` and ``raw_path``."""
    m = schema.messages.c
    row = conn.execute(
        select(schema.submissions, m.message_id, m.raw_path)
        .outerjoin(schema.messages, m.id == _s.message_pk)
        .where(_s.id == submission_id)
    ).first()
    if row is None:
        raise NotFound(f"no submission with id {submission_id}")
    return row


def attachments(conn: Connection, submission_id: int) -> Sequence[Record]:
    """The submission's files, in the order they came (extracted texts left out)."""
    return _belonging(conn, schema.attachments, submission_id, leave_out="text")


def conversation(conn: Connection, submission_id: int, message_pk: int) -> Sequence[Record]:
    """The contributor's messages about a submission, oldest first (the original included)."""
    m = schema.messages.c
    return conn.execute(
        select(
            m.id,
            m.message_id,
            m.received_at,
            m.sender,
            m.sender_name,
            m.subject,
            m.kind,
            m.body_text,
        )  # fmt: skip
        .where(or_(m.submission_id == submission_id, m.id == message_pk))
        .order_by(m.received_at, m.id)
    ).all()


def outbox_for(conn: Connection, submission_id: int) -> Sequence[Record]:
    """Our replies about a submission (queued, sent or failed), oldest first; no bytes."""
    return _belonging(conn, schema.outbox, submission_id, leave_out="raw")


def letters_raw(conn: Connection, submission_id: int) -> dict[int, bytes]:
    """The bytes of our letters about a submission, by outbox id (their text for ``show``)."""
    o = schema.outbox.c
    rows = conn.execute(select(o.id, o.raw).where(o.submission_id == submission_id))
    return {row.id: bytes(row.raw) for row in rows}


def attachment_file(conn: Connection, submission_id: int, number: int) -> Record:
    """The ``number``-th file of a submission (1 is the first, in the order they came), with
    where its bytes are stored."""
    a = schema.attachments.c
    row = conn.execute(
        select(a.id, a.filename, a.safe_name, a.content_type, a.size, a.blob_path, a.kind)
        .where(a.submission_id == submission_id)
        .order_by(a.id)
        .offset(number - 1)
        .limit(1)
    ).first()
    if row is None:
        count = conn.execute(
            select(func.count()).where(a.submission_id == submission_id)
        ).scalar_one()
        if not count:
            submission(conn, submission_id)  # NotFound for an unknown submission
        raise NotFound(
            f"submission {submission_id} has "
            + (f"{count} attachment{'' if count == 1 else 's'}" if count else "no attachments")
            + f": there is no number {number}"
        )
    return row


def consents_for(conn: Connection, submission_id: int) -> Sequence[Record]:
    """Every copyright decision recorded for a submission, oldest first."""
    return _belonging(conn, schema.consents, submission_id)


def contributor_addresses(conn: Connection, submission_id: int) -> Sequence[Record]:
    """The addresses staff added for a submission's contributor, oldest first."""
    return _belonging(conn, schema.contributor_addresses, submission_id)


def versions_for(conn: Connection, submission_id: int) -> Sequence[Record]:
    """The versions of a submission's article, the first one first."""
    return _belonging(conn, schema.versions, submission_id, order="number")


def claims_naming(conn: Connection, submission_id: int) -> Sequence[Record]:
    """Rights holders' claims linked to a (published) submission, oldest first."""
    return _belonging(
        conn, schema.claims, submission_id, only=("id", "status", "claimant", "received_at")
    )


def history(conn: Connection, submission_id: int) -> Sequence[Record]:
    """The submission's audit log, oldest first."""
    return _belonging(conn, schema.events, submission_id)


def _belonging(
    conn: Connection,
    rows: Table,
    submission_id: int,
    *,
    order: str = "id",
    leave_out: str = "",
    only: Sequence[str] = (),
) -> Sequence[Record]:
    """The rows of ``rows`` that name the submission, in ``order``: ``only`` these columns, or
    all but ``leave_out`` (a long text or the bytes no listing shows)."""
    columns = [rows.c[name] for name in only] or [c for c in rows.c if c.key != leave_out]
    return conn.execute(
        select(*columns).where(rows.c.submission_id == submission_id).order_by(rows.c[order])
    ).all()


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


def _local_day(conn: Connection, utc_offset: timedelta) -> ColumnElement[object]:
    minutes = int(utc_offset.total_seconds() // 60)
    if is_postgres(conn):
        return literal_column(
            f"date((submissions.received_at AT TIME ZONE 'UTC') + interval '{minutes} minutes')"
        )
    return func.date(_s.received_at, f"{minutes:+d} minutes")


def _decision_time(conn: Connection) -> tuple[ColumnElement[Any], ColumnElement[float]]:
    """Receipt to decision: the expression migration 0002 indexes (0003 on PostgreSQL), so the
    median is read in index order, not sorted; and the same in seconds."""
    if is_postgres(conn):
        interval = _s.decided_at - _s.received_at
        return interval, cast(func.extract("epoch", interval), Float)
    days = func.julianday(_s.decided_at) - func.julianday(_s.received_at)
    return days, cast(days * 86400.0, Float)


def queue_stats(
    conn: Connection,
    *,
    now: datetime,
    since: datetime | None = None,
    days: int = 30,
    utc_offset: timedelta = timedelta(0),
) -> QueueStats:
    """Counts, submissions per local day over the last ``days`` days, time to decision."""

    def scoped(query: Select[*_Ts]) -> Select[*_Ts]:
        return query.where(_s.received_at >= since) if since is not None else query

    by_status = {str(s): 0 for s in Status}
    for key, count in conn.execute(scoped(select(_s.status, func.count()).group_by(_s.status))):
        by_status[key] = count
    by_copyright: dict[str, int] = {}
    for key, count in conn.execute(
        scoped(select(_s.copyright_status, func.count()).group_by(_s.copyright_status))
    ):
        by_copyright[key] = count

    local_now = now + utc_offset
    first_day = local_now.date() - timedelta(days=days - 1)
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=now.tzinfo) - utc_offset
    day = _local_day(conn, utc_offset).label("day")
    counted: dict[str, int] = {
        str(d): int(n)
        for d, n in conn.execute(
            select(day, func.count()).where(_s.received_at >= start).group_by(day)
        )
    }
    per_day = [
        (first_day + timedelta(days=i), counted.get(str(first_day + timedelta(days=i)), 0))
        for i in range(days)
    ]

    decided_q = scoped(
        select(func.count()).select_from(schema.submissions).where(_s.decided_at.is_not(None))
    )
    decided = conn.execute(decided_q).scalar_one()
    median: float | None = None
    if decided:
        span, seconds = _decision_time(conn)
        middle = conn.execute(
            scoped(select(seconds).where(span.is_not(None)))
            .order_by(span)
            .offset((decided - 1) // 2)
            .limit(1 if decided % 2 else 2)
        ).scalars()
        values = [float(v) for v in middle]
        median = sum(values) / len(values) if values else None

    overdue = conn.execute(
        scoped(select(func.count()).select_from(schema.submissions).where(overdue_condition(now)))
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
        open_claims=open_claims(conn),
    )


def open_claims(conn: Connection) -> int:
    """Rights holders' claims not yet resolved (received, investigating or needs_info)."""
    c = schema.claims.c
    query = select(func.count()).where(c.status.in_(sorted(OPEN_CLAIM_STATUSES)))
    return int(conn.execute(query).scalar_one())


def submission_ids(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` exist."""
    if not ids:
        return set()
    return set(conn.scalars(select(_s.id).where(_s.id.in_(list(ids)))))
