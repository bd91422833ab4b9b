"""tellers: the sign-in audit (which teller signed whom in, undo requests and undos) and the
undos waiting for a second teller

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from coop_platform.tables import BigIntPK

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_audit",
        sa.Column("sequence", BigIntPK, primary_key=True, autoincrement=True),
        sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), nullable=False),
        sa.Column("voter_id", sa.String(100), nullable=False),
        sa.Column("teller_id", sa.String(200), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sign_in_audit_election_voter", "sign_in_audit", ["election_id", "voter_id"])
    op.create_table(
        "pending_sign_in_undos",
        sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), primary_key=True),
        sa.Column("voter_id", sa.String(100), primary_key=True),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_sign_in_undos")
    op.drop_index("ix_sign_in_audit_election_voter", table_name="sign_in_audit")
    op.drop_table("sign_in_audit")
