"""recipients, the delivery ledger, preferences and suppressed addresses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("member_number", sa.String(32), nullable=True),
        sa.Column("given_name", sa.String(200), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("in_good_standing", sa.Boolean, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("contact_as_of", TS, nullable=True),
        sa.Column("status_as_of", TS, nullable=True),
        sa.Column("standing_as_of", TS, nullable=True),
    )
    op.create_table(
        "deliveries",
        sa.Column("delivery_key", sa.String(40), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("recipient_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("notification", sa.String(64), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger, nullable=False),
        sa.Column("category", sa.String(24), nullable=False),
        sa.Column("context", sa.JSON, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True),
        sa.Column("last_code", sa.Integer, nullable=True),
        sa.Column("last_detail", sa.String(500), nullable=True),
        sa.Column("read_at", TS, nullable=True),
        sa.Column("archived_at", TS, nullable=True),
        sa.UniqueConstraint("event_id", "recipient_id", "channel", name="uq_deliveries_event_recipient_channel"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["channel", "state", "priority_rank", "due_at"])
    op.create_index("ix_deliveries_inbox", "deliveries", ["tenant", "recipient_id", "channel", "created_at"])
    op.create_table(
        "preferences",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(24), primary_key=True),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "suppressions",
        sa.Column("address_sha256", sa.String(64), primary_key=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("suppressed_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("suppressions")
    op.drop_table("preferences")
    op.drop_index("ix_deliveries_inbox", "deliveries")
    op.drop_index("ix_deliveries_due", "deliveries")
    op.drop_table("deliveries")
    op.drop_table("recipients")
