"""closed years (fiscal_years) and the date of each numbering series' latest document

Revision ID: 0005_closed_years
Revises: 0004_paid_basis
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_closed_years"
down_revision = "0004_paid_basis"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fiscal_years",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("year"),
    )
    with op.batch_alter_table("number_counters") as batch:
        batch.add_column(sa.Column("last_on", sa.Date(), nullable=True))
    conn = op.get_bind()
    # The latest date of each series so far: invoices by issue date, credit notes by their date.
    dated = {"": "SELECT max(issued_on) FROM invoices WHERE year = :y",
             "CN": "SELECT max(credit_note_on) FROM invoices WHERE credit_note_on BETWEEN :first AND :last"}
    for series, year in conn.execute(sa.text("SELECT series, year FROM number_counters")).all():
        if series in dated:
            last = conn.execute(sa.text(dated[series]), {"y": year, "first": f"{year}-01-01",
                                                         "last": f"{year}-12-31"}).scalar()
            conn.execute(sa.text("UPDATE number_counters SET last_on = :d WHERE series = :s AND year = :y"),
                         {"d": last, "s": series, "y": year})


def downgrade() -> None:
    with op.batch_alter_table("number_counters") as batch:
        batch.drop_column("last_on")
    op.drop_table("fiscal_years")
