"""idempotency keys (request_id of CreateInvoice, RecordPayment, RequestContract and
RecordShareFeePayment), and bank references unique per payer and year

Revision ID: 0007_idempotency
Revises: 0006_client_verification
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from coop_platform.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0007_idempotency"
down_revision = "0006_client_verification"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)
    op.create_table(
        "payment_references",
        sa.Column("client_id", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("payment_id", sa.String(length=100), nullable=False),
        sa.Column("invoice_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.invoice_id"]),
        sa.PrimaryKeyConstraint("client_id", "year", "payment_id"),
    )
    # The payments so far; where one reference was used on several invoices of a client in a year,
    # the first invoice (by id) keeps it.
    year = ("EXTRACT(YEAR FROM p.paid_on)" if op.get_bind().dialect.name == "postgresql"
            else "CAST(strftime('%Y', p.paid_on) AS INTEGER)")
    op.execute(
        f"INSERT INTO payment_references (client_id, year, payment_id, invoice_id) "
        f"SELECT i.client_id, {year}, p.payment_id, min(p.invoice_id) FROM payments p "
        f"JOIN invoices i ON i.invoice_id = p.invoice_id GROUP BY i.client_id, {year}, p.payment_id")


def downgrade() -> None:
    op.drop_table("payment_references")
    drop_idempotency_table(op)
