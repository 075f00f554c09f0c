"""time limits in working days: the limit each request's deadline was set with, its stopped clock (issue 20)

The setting `demand.deadline_hours` becomes `demand.time_limits`; an admin's stored
hours are kept as limits in hours ("72h"), so no deadline changes by the upgrade.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("demand") as batch:
        batch.add_column(sa.Column("time_limit", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default=""))
        batch.add_column(sa.Column("suspended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    preference = sa.table("preference", sa.column("key", sa.String), sa.column("value", sa.JSON))
    conn = op.get_bind()
    row = conn.execute(sa.select(preference.c.value).where(preference.c.key == "demand.deadline_hours")).first()
    if row is not None:
        hours = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        limits = {kind: {p: f"{int(h)}h" for p, h in by.items()} for kind, by in hours.items()}
        conn.execute(
            sa.update(preference)
            .where(preference.c.key == "demand.deadline_hours")
            .values(key="demand.time_limits", value=limits)
        )


def downgrade() -> None:
    with op.batch_alter_table("demand") as batch:
        batch.drop_column("suspended_at")
        batch.drop_column("time_limit")
