"""the service guide: service items, every version of them, the items a visit explained (issue 24)

Revision ID: 0012
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("field_versions", sa.JSON(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("eligibility", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("materials", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("window", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hours", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("time_limit_days", sa.Integer(), nullable=False),
        sa.Column("fees", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("online_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("service_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_item_version"), ["version"], unique=False)
    op.create_table(
        "service_item_revision",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("item_id", sa.Uuid(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["service_item.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("item_id", "revision"),
    )
    with op.batch_alter_table("service_item_revision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_item_revision_item_id"), ["item_id"], unique=False)
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("explained_items", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("visit", schema=None) as batch_op:
        batch_op.drop_column("explained_items")
    with op.batch_alter_table("service_item_revision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_item_revision_item_id"))
    op.drop_table("service_item_revision")
    with op.batch_alter_table("service_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_item_version"))
    op.drop_table("service_item")
