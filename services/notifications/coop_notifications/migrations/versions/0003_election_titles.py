"""election titles, remembered from election.opened for the reminder and the results

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "election_titles",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("election_id", sa.String(64), primary_key=True),
        sa.Column("titles", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("election_titles")
