"""travel cards: the review visit link, and an index for the yearly reviews due

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("travel_card", schema=None) as batch_op:
        batch_op.add_column(sa.Column("review_visit_id", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_travel_card_review_due"), ["review_due"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("travel_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_travel_card_review_due"))
        batch_op.drop_column("review_visit_id")
