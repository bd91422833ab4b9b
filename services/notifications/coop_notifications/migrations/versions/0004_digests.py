"""digest frequency per member (daily or weekly)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "digest_frequencies",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("frequency", sa.String(8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_deliveries_digestible", "deliveries", ["priority_rank", "state", "channel", "recipient_id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_digestible", "deliveries")
    op.drop_table("digest_frequencies")
