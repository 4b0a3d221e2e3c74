"""the desk's notices and digests

``desk_notices`` records each submission and claim the desk was told about, once (unique), and
``desk_digests`` each digest period, once: together they make a notice or a digest happen
exactly once, even with two daemons or after a crash. Everything received before this
revision is recorded as known, so switching ``[desk] notify`` on never mails the backlog.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from intake.store.schema import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "desk_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"],
            name=op.f("fk_desk_notices_submission_id_submissions"),
        ),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_desk_notices_claim_id_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_desk_notices")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_desk_notices_submission_id")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_desk_notices_claim_id")),
    )
    op.create_table(
        "desk_digests",
        sa.Column("period", sa.String(length=40), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("period", name=op.f("pk_desk_digests")),
    )
    # What came in before the desk existed is known already.
    op.execute(
        "INSERT INTO desk_notices (submission_id, claim_id, digest, note, at) "
        "SELECT id, NULL, '', '', received_at FROM submissions"
    )
    op.execute(
        "INSERT INTO desk_notices (submission_id, claim_id, digest, note, at) "
        "SELECT NULL, id, '', '', received_at FROM claims"
    )


def downgrade() -> None:
    op.drop_table("desk_digests")
    op.drop_table("desk_notices")
