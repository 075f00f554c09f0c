"""tombstones read by scope in version order (issue 23): (scope, version) indexes replace the single-column ones

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPES = ("community_id", "grid_id", "department_id")


def upgrade() -> None:
    with op.batch_alter_table("tombstone", schema=None) as batch_op:
        for column in SCOPES:
            batch_op.drop_index(f"ix_tombstone_{column}")
            batch_op.create_index(f"ix_tombstone_{column}_version", [column, "version"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tombstone", schema=None) as batch_op:
        for column in SCOPES:
            batch_op.drop_index(f"ix_tombstone_{column}_version")
            batch_op.create_index(f"ix_tombstone_{column}", [column], unique=False)
