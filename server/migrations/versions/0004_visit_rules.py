"""visit rules: whom a community's workers should see, and how often (issue 17)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "visit_rule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("field_versions", sa.JSON(), nullable=False),
        sa.Column("community_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tag_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("min_age", sa.Integer(), nullable=True),
        sa.Column("household_status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("interval_days", sa.Integer(), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("visit_rule", schema=None) as batch_op:
        batch_op.create_index("ix_visit_rule_community_id_version", ["community_id", "version"], unique=False)
        batch_op.create_index(batch_op.f("ix_visit_rule_version"), ["version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("visit_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_visit_rule_version"))
        batch_op.drop_index("ix_visit_rule_community_id_version")
    op.drop_table("visit_rule")
