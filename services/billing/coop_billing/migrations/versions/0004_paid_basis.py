"""contracts keep the rates of their reservation (statements show the rates applied); budgets are
credited by payments from now on (no schema change for that: see domain/postings.py)

Revision ID: 0004_paid_basis
Revises: 0003_member_event_times
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_paid_basis"
down_revision = "0003_member_event_times"
branch_labels = None
depends_on = None

# The published defaults in force since 2000 (domain/contribution.py), when no rate row applies.
DEFAULTS = {"social_charges": ("social_charges_rate_bp", 2700), "employment": ("employment_rate_bp", 750)}


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("social_charges_rate_bp", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("employment_rate_bp", sa.Integer(), nullable=False, server_default="0"))
    # Existing contracts were reserved at the rates in force on their start date.
    for kind, (column, default) in DEFAULTS.items():
        op.execute(
            f"UPDATE contracts SET {column} = COALESCE((SELECT r.basis_points FROM rates r "
            f"WHERE r.kind = '{kind}' AND r.effective_from <= contracts.start_date "
            f"ORDER BY r.effective_from DESC LIMIT 1), {default})")


def downgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("employment_rate_bp")
        batch.drop_column("social_charges_rate_bp")
