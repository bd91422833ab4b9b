"""the frozen roll per election (elections' election.roll_frozen): the results' audience

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "election_voters",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("election_id", sa.String(64), primary_key=True),
        sa.Column("voter_id", sa.String(64), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("election_voters")
