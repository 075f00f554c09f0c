"""push: browsers' subscriptions, the notification outbox, deliveries and the attempt log

Revision ID: 0004
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

String = sqlmodel.sql.sqltypes.AutoString
Moment = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "push_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("endpoint_hash", String(length=64), nullable=False),
        sa.Column("p256dh", String(), nullable=False),
        sa.Column("auth", String(), nullable=False),
        sa.Column("expiration_time", Moment(), nullable=True),
        sa.Column("user_agent", String(), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("updated_at", Moment(), nullable=False),
        sa.Column("last_success_at", Moment(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("endpoint_hash"),
    )
    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.create_index("ix_push_subscription_client_id", ["client_id"], unique=False)
        batch_op.create_index("ix_push_subscription_user_id", ["user_id"], unique=False)

    op.create_table(
        "push_notification",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", String(), nullable=False),
        sa.Column("title", String(), nullable=False),
        sa.Column("body", String(), nullable=False),
        sa.Column("url", String(), nullable=False),
        sa.Column("tag", String(), nullable=False),
        sa.Column("urgency", String(), nullable=False),
        sa.Column("ttl", sa.Integer(), nullable=False),
        sa.Column("record_type", String(), nullable=True),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.Column("dedupe_key", String(), nullable=True),
        sa.Column("status", String(), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("sent_at", Moment(), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("push_notification", schema=None) as batch_op:
        batch_op.create_index("ix_push_notification_status_created_at", ["status", "created_at"], unique=False)
        batch_op.create_index("ix_push_notification_user_id", ["user_id"], unique=False)

    op.create_table(
        "push_delivery",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("topic", String(), nullable=False),
        sa.Column("urgency", String(), nullable=False),
        sa.Column("expires_at", Moment(), nullable=False),
        sa.Column("status", String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment(), nullable=False),
        sa.Column("lease_until", Moment(), nullable=True),
        sa.Column("claimed_by", String(), nullable=False),
        sa.Column("created_at", Moment(), nullable=False),
        sa.Column("finished_at", Moment(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("push_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_push_delivery_group_id", ["group_id"], unique=False)
        batch_op.create_index(
            "ix_push_delivery_status_next_attempt_at", ["status", "next_attempt_at"], unique=False
        )
        batch_op.create_index("ix_push_delivery_subscription_id", ["subscription_id"], unique=False)
        batch_op.create_index("ix_push_delivery_user_id", ["user_id"], unique=False)

    op.create_table(
        "push_attempt",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("origin", String(), nullable=False),
        sa.Column("at", Moment(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("outcome", String(), nullable=False),
        sa.Column("detail", String(), nullable=False),
        sa.Column("retry_at", Moment(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("push_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_push_attempt_at", ["at"], unique=False)
        batch_op.create_index("ix_push_attempt_delivery_id", ["delivery_id"], unique=False)


def downgrade() -> None:
    op.drop_table("push_attempt")
    op.drop_table("push_delivery")
    op.drop_table("push_notification")
    op.drop_table("push_subscription")
