"""the meetings family: meetings (agenda, attendance, votes), ballots, decisions, actions

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DOC = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "board_meetings",
        sa.Column("meeting_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("agenda_version", sa.Integer, nullable=False),
        sa.Column("doc", DOC, nullable=False))
    op.create_index("ix_board_meetings_tenant_start", "board_meetings", ["tenant", "starts_at", "meeting_id"])
    op.create_table(
        "board_vote_ballots",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("vote_id", sa.String(36), nullable=False),
        sa.Column("director_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("vote_id", "director_id", name="pk_board_vote_ballots"))
    op.create_table(
        "board_statutory_items",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("tenant", "year", "kind", name="pk_board_statutory_items"))
    op.create_table(
        "board_pending_minutes",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("minutes_id", sa.String(100), nullable=False),
        sa.Column("title", DOC, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "minutes_id", name="pk_board_pending_minutes"))
    op.create_table(
        "board_decisions",
        sa.Column("decision_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("doc", DOC, nullable=False),
        sa.UniqueConstraint("tenant", "item_id", name="uq_board_decisions_item"))
    op.create_index("ix_board_decisions_tenant_time", "board_decisions", ["tenant", "decided_at", "decision_id"])
    op.create_index("ix_board_decisions_meeting", "board_decisions", ["tenant", "meeting_id"])
    op.create_table(
        "board_actions",
        sa.Column("action_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("owner_id", sa.String(100), nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("done_on", sa.Date),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("description", DOC, nullable=False))
    op.create_index("ix_board_actions_tenant_due", "board_actions", ["tenant", "due_on", "action_id"])


def downgrade() -> None:
    for table in ("board_actions", "board_decisions", "board_pending_minutes", "board_statutory_items",
                  "board_vote_ballots", "board_meetings"):
        op.drop_table(table)
