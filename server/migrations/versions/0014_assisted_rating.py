"""the resident's rating of an assisted application after 已送达, and the rectification a 差评 needs (issue 24)

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("assisted_application") as batch:
        batch.add_column(sa.Column("rating", TEXT(), nullable=True))
        batch.add_column(sa.Column("rating_comment", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rating_channel", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rated_by", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("rating_token", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rectification", TEXT(), nullable=False, server_default=""))
        batch.add_column(sa.Column("rectified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("rectified_by", sa.Uuid(), nullable=True))
        batch.create_foreign_key("fk_assisted_application_rated_by_user", "user", ["rated_by"], ["id"])
        batch.create_foreign_key("fk_assisted_application_rectified_by_user", "user", ["rectified_by"], ["id"])
        batch.create_index("ix_assisted_application_rating_token", ["rating_token"])


def downgrade() -> None:
    with op.batch_alter_table("assisted_application") as batch:
        batch.drop_index("ix_assisted_application_rating_token")
        batch.drop_constraint("fk_assisted_application_rectified_by_user", type_="foreignkey")
        batch.drop_constraint("fk_assisted_application_rated_by_user", type_="foreignkey")
        for name in ("rectified_by", "rectified_at", "rectification", "rating_token", "rating_channel",
                     "rated_by", "rating_comment", "rating"):  # fmt: skip
            batch.drop_column(name)
