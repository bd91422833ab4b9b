"""the roster: mandates, officer terms, management appointments, the members projection

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


def upgrade() -> None:
    op.create_table(
        "board_mandates",
        sa.Column("mandate_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("director_id", sa.String(64), nullable=False),
        sa.Column("seat_id", sa.String(32), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=False),
        sa.Column("election_id", sa.String(64), nullable=True),
        sa.Column("ended_on", sa.Date, nullable=True),
        sa.Column("end_reason", sa.String(20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "election_id", "director_id", name="uq_board_mandates_election_director"),
    )
    op.create_index("ix_board_mandates_tenant_start", "board_mandates", ["tenant", "start_date", "mandate_id"])
    op.create_index("ix_board_mandates_tenant_seat", "board_mandates", ["tenant", "seat_id"])
    op.create_index("ix_board_mandates_open_end", "board_mandates", ["end_date"],
                    postgresql_where=sa.text("end_reason IS NULL"))
    op.create_table(
        "board_officer_terms",
        sa.Column("term_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("office", sa.String(20), nullable=False),
        sa.Column("director_id", sa.String(64), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("decision_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_board_officer_terms_tenant_office", "board_officer_terms", ["tenant", "office"])
    op.create_table(
        "board_management_appointments",
        sa.Column("appointment_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False),
        sa.Column("manager_id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("end_date", sa.Date, nullable=True),
        sa.Column("decision_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_board_management_tenant", "board_management_appointments", ["tenant"])
    op.create_table(
        "board_member_standing",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(63), nullable=False, server_default="coop"),
        sa.Column("status", sa.String(20), nullable=True),
        sa.Column("category", sa.String(30), nullable=True),
        sa.Column("in_good_standing", sa.Boolean, nullable=False),
        sa.Column("status_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("category_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("standing_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("board_member_standing")
    op.drop_table("board_management_appointments")
    op.drop_table("board_officer_terms")
    op.drop_table("board_mandates")
