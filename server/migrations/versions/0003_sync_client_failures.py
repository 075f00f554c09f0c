"""sync_client counts the failures of its next mutation (poison pills are rejected, not retried forever)

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_mutation_id", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("sync_client", schema=None) as batch_op:
        batch_op.drop_column("failures")
        batch_op.drop_column("failing_mutation_id")
