"""sync_client keeps its phone's latest report of itself (issue 22: reconciliation, 对账)

Revision ID: 0011
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_client", schema=None) as batch_op:
        batch_op.add_column(sa.Column("device", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("device_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_client", schema=None) as batch_op:
        batch_op.drop_column("device_at")
        batch_op.drop_column("device")
