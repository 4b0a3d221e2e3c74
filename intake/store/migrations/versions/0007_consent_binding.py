"""consent bound to our request: authenticity, the letter answered, the deciding clause, pending
decisions, one reading per message, and the addresses staff add for a contributor

Rows recorded before this revision keep an empty ``authenticity`` (nothing was checked then);
their ``state`` is ``applied``, or ``not_applied`` for the unclear readings that decided nothing.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from intake.store.schema import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The batch reflects consents alone: the tables it refers to (submissions, with 0002's
# expression index that SQLAlchemy cannot reflect) are not needed to copy it.
_NOT_REFERRED = {"resolve_fks": False}


def upgrade() -> None:
    # A batch: SQLite adds a foreign key only by copying the table (consents has no expression
    # index that the copy would have to reflect); PostgreSQL gets plain ALTERs.
    empty = sa.text("''")
    with op.batch_alter_table("consents", reflect_kwargs=_NOT_REFERRED) as batch:
        batch.add_column(
            sa.Column("authenticity", sa.String(length=20), nullable=False, server_default=empty)
        )
        batch.add_column(sa.Column("answers_outbox_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("clause", sa.Text(), nullable=False, server_default=empty))
        batch.add_column(
            sa.Column("state", sa.String(length=20), nullable=False, server_default=empty)
        )
        batch.add_column(
            sa.Column("reviewed_by", sa.String(length=100), nullable=False, server_default=empty)
        )
        batch.add_column(sa.Column("reviewed_at", UTCDateTime(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_consents_answers_outbox_id_outbox"), "outbox", ["answers_outbox_id"], ["id"]
        )
        batch.create_index(
            op.f("ix_consents_answers_outbox_id"), ["answers_outbox_id"], unique=False
        )
        batch.create_index("uq_consents_message_pk", ["message_pk"], unique=True)
    op.execute(
        "UPDATE consents SET state = CASE WHEN decision = 'unclear' THEN 'not_applied' "
        "ELSE 'applied' END"
    )
    op.create_table(
        "contributor_addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"],
            name=op.f("fk_contributor_addresses_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contributor_addresses")),
        sa.UniqueConstraint(
            "submission_id", "address", name=op.f("uq_contributor_addresses_submission_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("contributor_addresses")
    with op.batch_alter_table("consents", reflect_kwargs=_NOT_REFERRED) as batch:
        batch.drop_index("uq_consents_message_pk")
        batch.drop_index(op.f("ix_consents_answers_outbox_id"))
        batch.drop_constraint(op.f("fk_consents_answers_outbox_id_outbox"), type_="foreignkey")
        for column in (
            "reviewed_at", "reviewed_by", "state", "clause", "answers_outbox_id", "authenticity",
        ):  # fmt: skip
            batch.drop_column(column)
