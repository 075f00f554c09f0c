"""how each rating reached us (居民本人, 入户代录, 电话回访, 代录) and who recorded it (issue 20)

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demand") as batch:
        batch.add_column(
            sa.Column("rating_channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("rated_by", sa.Uuid(), nullable=True))
        batch.create_foreign_key("fk_demand_rated_by_user", "user", ["rated_by"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("demand") as batch:
        batch.drop_constraint("fk_demand_rated_by_user", type_="foreignkey")
        batch.drop_column("rated_by")
        batch.drop_column("rating_channel")
