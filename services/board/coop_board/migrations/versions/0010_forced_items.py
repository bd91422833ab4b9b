"""forced agenda items and promoters' speaking slots

Forced items live in the meeting's document (no column: `forced`, `due_by` on the item). Here:
members' questions referred to the board while no agenda is open (board_pending_concerns), the
presenters' flag on observer registrations, and sessions of 0 seats (presenters only, until the
secretary opens the meeting to members).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

DOC = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "board_pending_concerns",
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("question_id", sa.String(100), nullable=False),
        sa.Column("title", DOC, nullable=False),
        sa.Column("text", DOC, nullable=False),
        sa.PrimaryKeyConstraint("tenant", "question_id", name="pk_board_pending_concerns"),
    )
    with op.batch_alter_table("observer_registrations") as batch:
        batch.add_column(sa.Column("speaking_slot", sa.Boolean, nullable=False, server_default=sa.false()))
    with op.batch_alter_table("observer_sessions") as batch:
        batch.drop_constraint("ck_observer_sessions_seats", type_="check")
        batch.create_check_constraint("ck_observer_sessions_seats", "seats >= 0")


def downgrade() -> None:
    op.execute("DELETE FROM observer_registrations WHERE meeting_id IN "
               "(SELECT meeting_id FROM observer_sessions WHERE seats = 0)")
    op.execute("DELETE FROM observer_sessions WHERE seats = 0")
    with op.batch_alter_table("observer_sessions") as batch:
        batch.drop_constraint("ck_observer_sessions_seats", type_="check")
        batch.create_check_constraint("ck_observer_sessions_seats", "seats >= 1")
    with op.batch_alter_table("observer_registrations") as batch:
        batch.drop_column("speaking_slot")
    op.drop_table("board_pending_concerns")
