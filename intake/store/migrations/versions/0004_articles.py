"""the contributor's details on each submission

``submissions.author`` holds what intake read of the contributor's name, pen name, phone,
address, postcode, organisation, ID number, bank and account (from the cover note or the
document's end), for staff to see masked and for the fee ledger. Existing submissions get
an empty object; nothing is read back from their stored text.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# A plain ADD COLUMN (SQLite takes it with a constant default): a batch copy of the table
# would have to reflect 0002's expression index, which SQLAlchemy cannot.


def upgrade() -> None:
    op.add_column(
        "submissions",
        sa.Column("author", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )


def downgrade() -> None:
    op.drop_column("submissions", "author")
