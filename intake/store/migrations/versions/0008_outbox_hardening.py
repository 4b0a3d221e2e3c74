"""outbox hardening: one address normalisation in stored rows, the time a row was
handed to SMTP, and what the SMTP server offers

``outbox.to_key`` (the recipient's ``rate_key``) is what per-recipient limits, suppression and
the holds after a bounce match; ``to_addr`` stays as written to SMTP, since that is the address
that is delivered to. ``outbox.handed_at`` is when a row was handed to SMTP: a row left
``sending`` with it may have been sent, and the hourly cap counts by it (sent rows get their
``sent_at``). ``suppressions.key`` is the suppressed address's ``rate_key``; the addresses
themselves, and the senders of messages, submissions and claims, are rewritten in their
normalised form (``intake.text.addresses.normalise``: NFKC, IDNA domain, lower case), so a
full-width or upper-case variant of a mailbox stored before is one mailbox with the ones
stored after. Suppressions of one mailbox under several spellings become one, the longest.
``smtp_servers`` remembers the EHLO keywords of the SMTP server (SMTPUTF8 decides whether a
letter to a non-ASCII address can be queued).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from intake.text.addresses import normalised_or_lower, rate_key_or_lower

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ADD COLUMNs (SQLite takes them with a constant default): a batch copy of a table would
# have to reflect 0002's expression index, which SQLAlchemy cannot.


def upgrade() -> None:
    op.add_column(
        "outbox", sa.Column("to_key", sa.String(length=320), nullable=False, server_default="")
    )
    op.add_column("outbox", sa.Column("handed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_outbox_to_key"), "outbox", ["to_key"])
    op.create_index(op.f("ix_outbox_handed_at"), "outbox", ["handed_at"])
    op.add_column(
        "suppressions",
        sa.Column("key", sa.String(length=320), nullable=False, server_default=""),
    )
    op.create_index(op.f("ix_suppressions_key"), "suppressions", ["key"])
    op.create_table(
        "smtp_servers",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("extensions", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("host", "port", name=op.f("pk_smtp_servers")),
    )
    bind = op.get_bind()
    _outbox_keys(bind)
    _suppressions(bind)
    for table, column in (
        ("messages", "sender"),
        ("submissions", "sender"),
        ("claims", "claimant"),
    ):
        _normalise_column(bind, table, column)


def _outbox_keys(bind: sa.Connection) -> None:
    outbox = sa.table(
        "outbox",
        sa.column("to_addr", sa.String),
        sa.column("to_key", sa.String),
        sa.column("sent_at", sa.DateTime),
        sa.column("handed_at", sa.DateTime),
    )
    # What was sent was handed to SMTP then: the hourly cap and the recipient limit count it.
    bind.execute(
        outbox.update().where(outbox.c.sent_at.is_not(None)).values(handed_at=outbox.c.sent_at)
    )
    for (addr,) in bind.execute(sa.select(outbox.c.to_addr).distinct()).all():
        bind.execute(
            outbox.update()
            .where(outbox.c.to_addr == addr)
            .values(to_key=rate_key_or_lower(addr)[:320])
        )


def _suppressions(bind: sa.Connection) -> None:
    rows = sa.table(
        "suppressions",
        sa.column("address", sa.String),
        sa.column("key", sa.String),
        sa.column("reason", sa.Text),
        sa.column("created_at", sa.DateTime),
        sa.column("until", sa.DateTime),
    )
    found = bind.execute(
        sa.select(rows.c.address, rows.c.reason, rows.c.created_at, rows.c.until)
    ).all()
    merged: dict[str, tuple[str, datetime, datetime]] = {}
    for address, reason, created_at, until in found:
        normal = normalised_or_lower(address)[:320]
        kept = merged.get(normal)
        if kept is None or _naive(until) > _naive(kept[2]):
            merged[normal] = (reason, created_at, until)
    bind.execute(rows.delete())
    if merged:
        bind.execute(
            rows.insert(),
            [
                {
                    "address": normal,
                    "key": rate_key_or_lower(normal)[:320],
                    "reason": reason,
                    "created_at": created_at,
                    "until": until,
                }
                for normal, (reason, created_at, until) in merged.items()
            ],
        )


def _naive(value: datetime | str) -> datetime:
    # SQLite hands back text or naive datetimes (UTC); PostgreSQL aware ones: compare in UTC.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


def _normalise_column(bind: sa.Connection, table: str, column: str) -> None:
    rows = sa.table(table, sa.column(column, sa.String))
    values = [value for (value,) in bind.execute(sa.select(rows.c[column]).distinct()).all()]
    for value in values:
        if not value:
            continue
        normal = normalised_or_lower(value)[:320]
        if normal != value:
            bind.execute(rows.update().where(rows.c[column] == value).values({column: normal}))


def downgrade() -> None:
    # The normalised addresses stay: they are valid spellings of the same mailboxes.
    op.drop_table("smtp_servers")
    op.drop_index(op.f("ix_suppressions_key"), table_name="suppressions")
    op.drop_column("suppressions", "key")
    op.drop_index(op.f("ix_outbox_handed_at"), table_name="outbox")
    op.drop_index(op.f("ix_outbox_to_key"), table_name="outbox")
    op.drop_column("outbox", "handed_at")
    op.drop_column("outbox", "to_key")
