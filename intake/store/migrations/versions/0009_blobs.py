"""blobs: raw mail and attachments in the database (``[storage] backend = "database"``)

``blobs`` has one row per stored object, under the path the file-system store gives it
(``<kind>/<aa>/<bb>/<sha256>``); ``blob_chunks`` its bytes in pieces of at most 1 MiB, so a large
message is never written or read in one statement. Nothing is moved by this migration:
``intake storage migrate --to database`` does that.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blobs",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("path", name=op.f("pk_blobs")),
    )
    op.create_table(
        "blob_chunks",
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["path"],
            ["blobs.path"],
            name=op.f("fk_blob_chunks_path_blobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("path", "seq", name=op.f("pk_blob_chunks")),
    )


def downgrade() -> None:
    op.drop_table("blob_chunks")
    op.drop_table("blobs")
