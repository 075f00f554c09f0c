"""who holds a blob's bytes; references made before the bytes arrive

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "blob_holder",
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", "user_id"),
    )
    with op.batch_alter_table("blob_holder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blob_holder_created_at"), ["created_at"], unique=False)
    # Whoever stored a blob so far holds it.
    op.execute(
        "INSERT INTO blob_holder (sha256, user_id, created_at) "
        "SELECT sha256, created_by, created_at FROM blob WHERE created_by IS NOT NULL"
    )
    with op.batch_alter_table("blob_ref", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("pending", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("blob_ref", schema=None) as batch_op:
        batch_op.drop_column("pending")
        batch_op.drop_column("created_by")
    with op.batch_alter_table("blob_holder", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blob_holder_created_at"))
    op.drop_table("blob_holder")
