"""payroll runs on contracts (and what they paid and spent), partial share-fee payments

Revision ID: 0002_payroll_shares
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_payroll_shares"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("gross_paid_cents", sa.BigInteger(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("spent_cents", sa.BigInteger(), nullable=False, server_default="0"))
    with op.batch_alter_table("share_fees") as batch:  # room for "partially_paid"
        batch.alter_column("state", existing_type=sa.String(length=10), type_=sa.String(length=20),
                           existing_nullable=False)
    op.create_table(
        "payroll_runs",
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("payroll_reference", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("activity_id", sa.String(length=36), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("gross_cents", sa.BigInteger(), nullable=False),
        sa.Column("social_charges_cents", sa.BigInteger(), nullable=False),
        sa.Column("employment_contribution_cents", sa.BigInteger(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["contract_id"], ["contracts.contract_id"]),
        sa.PrimaryKeyConstraint("contract_id", "payroll_reference"),
    )
    op.create_index("ix_payroll_runs_member", "payroll_runs", ["member_id", "paid_on"], unique=False)
    op.create_table(
        "share_fee_payments",
        sa.Column("bank_reference", sa.String(length=100), nullable=False),
        sa.Column("fee_id", sa.String(length=36), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fee_id"], ["share_fees.fee_id"]),
        sa.PrimaryKeyConstraint("bank_reference"),
    )
    op.create_index("ix_share_fee_payments_fee", "share_fee_payments", ["fee_id", "recorded_at"], unique=False)
    # Fees paid before partial payments existed were paid in full by one payment.
    op.execute(
        "INSERT INTO share_fee_payments (bank_reference, fee_id, amount_cents, recorded_at) "
        "SELECT bank_reference, fee_id, paid_cents, COALESCE(paid_at, created_at) FROM share_fees "
        "WHERE bank_reference IS NOT NULL AND paid_cents > 0")


def downgrade() -> None:
    # Back to "paid in full only": a partly paid fee shows as billed again (paid_cents is kept).
    op.execute("UPDATE share_fees SET state = 'billed' WHERE state = 'partially_paid'")
    op.drop_index("ix_share_fee_payments_fee", table_name="share_fee_payments")
    op.drop_table("share_fee_payments")
    op.drop_index("ix_payroll_runs_member", table_name="payroll_runs")
    op.drop_table("payroll_runs")
    with op.batch_alter_table("share_fees") as batch:
        batch.alter_column("state", existing_type=sa.String(length=20), type_=sa.String(length=10),
                           existing_nullable=False)
    with op.batch_alter_table("contracts") as batch:
        batch.drop_column("spent_cents")
        batch.drop_column("gross_paid_cents")
