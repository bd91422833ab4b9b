"""observers: open sessions (seat limit, deadline) and observer registrations

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

ACTIVE = "status IN ('seated', 'waiting')"


def upgrade() -> None:
    op.create_table(
        "observer_sessions",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("meeting_id", sa.String(64), primary_key=True),
        sa.Column("seats", sa.Integer, nullable=False),
        sa.Column("registration_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("meeting_starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_sequence", sa.Integer, nullable=False),
        sa.CheckConstraint("seats >= 1", name="ck_observer_sessions_seats"),
    )
    op.create_table(
        "observer_registrations",
        sa.Column("registration_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("meeting_id", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(200), nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_by", sa.String(200)),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("code_issued_at", sa.DateTime(timezone=True)),
        sa.Column("checked_in_at", sa.DateTime(timezone=True)),
        sa.Column("checked_in_by", sa.String(200)),
        sa.ForeignKeyConstraint(["tenant", "meeting_id"], ["observer_sessions.tenant", "observer_sessions.meeting_id"],
                                name="fk_observer_registrations_session"),
        sa.CheckConstraint("status IN ('seated', 'waiting', 'cancelled')", name="ck_observer_registrations_status"),
    )
    op.create_index("uq_observer_registrations_sequence", "observer_registrations",
                    ["tenant", "meeting_id", "sequence"], unique=True)
    op.create_index("uq_observer_registrations_active_member", "observer_registrations",
                    ["tenant", "meeting_id", "member_id"], unique=True,
                    postgresql_where=sa.text(ACTIVE), sqlite_where=sa.text(ACTIVE))
    op.create_index("uq_observer_registrations_code", "observer_registrations",
                    ["tenant", "meeting_id", "code_hash"], unique=True,
                    postgresql_where=sa.text("code_hash IS NOT NULL"), sqlite_where=sa.text("code_hash IS NOT NULL"))
    op.create_index("ix_observer_registrations_member", "observer_registrations",
                    ["tenant", "member_id", "registered_at"])


def downgrade() -> None:
    op.drop_table("observer_registrations")
    op.drop_table("observer_sessions")
