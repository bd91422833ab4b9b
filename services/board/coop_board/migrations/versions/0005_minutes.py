"""minutes: drafts, approvals and errata, translation tasks, published minutes and decisions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_minutes",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("minutes_id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("meeting_minutes_of", sa.String(100), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("erratum_of", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content", sa.JSON, nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("tenant", "meeting_minutes_of", name="uq_board_minutes_meeting"),
    )
    op.create_index("ix_board_minutes_erratum_of", "board_minutes", ["tenant", "erratum_of"])
    op.create_table(
        "board_translation_tasks",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("minutes_id", sa.String(36), primary_key=True),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("missing", sa.JSON, nullable=False),
        sa.Column("opened_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("done_on", sa.Date, nullable=True),
    )
    op.create_index("ix_board_translation_tasks_open", "board_translation_tasks",
                    ["tenant", "done_on", "due_on", "minutes_id"])
    op.create_table(
        "board_published_minutes",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("minutes_id", sa.String(36), primary_key=True),
        sa.Column("language", sa.String(2), primary_key=True),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("meeting_date", sa.Date, nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("sections", sa.JSON, nullable=False),
        sa.Column("erratum_of", sa.String(36), nullable=True),
        sa.Column("search", sa.Text, nullable=False),
    )
    op.create_index("ix_board_published_minutes_list", "board_published_minutes",
                    ["tenant", "language", "meeting_date", "minutes_id"])
    op.create_table(
        "board_published_decisions",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("decision_id", sa.String(100), primary_key=True),
        sa.Column("language", sa.String(2), primary_key=True),
        sa.Column("minutes_id", sa.String(36), nullable=False),
        sa.Column("meeting_id", sa.String(100), nullable=False),
        sa.Column("meeting_date", sa.Date, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("adopted_text", sa.Text, nullable=False),
        sa.Column("in_favour", sa.Integer, nullable=False),
        sa.Column("against", sa.Integer, nullable=False),
        sa.Column("abstentions", sa.Integer, nullable=False),
        sa.Column("effective_on", sa.Date, nullable=True),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("search", sa.Text, nullable=False),
    )
    op.create_index("ix_board_published_decisions_list", "board_published_decisions",
                    ["tenant", "language", "meeting_date", "decision_id"])


def downgrade() -> None:
    for name in ("board_published_decisions", "board_published_minutes", "board_translation_tasks", "board_minutes"):
        op.drop_table(name)
