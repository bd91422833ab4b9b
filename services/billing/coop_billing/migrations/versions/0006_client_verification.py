"""clients: the member who created one, and its verification by the back office; a member's
unverified client keeps its VAT number apart (claimed_vat_number), so it never locks out the
real company's record

Revision ID: 0006_client_verification
Revises: 0005_closed_years
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_client_verification"
down_revision = "0005_closed_years"
branch_labels = None
depends_on = None

COLUMNS = ("owner_member_id", "claimed_vat_number", "verified_at", "verified_by")


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite: invoices reference clients).
    op.add_column("clients", sa.Column("owner_member_id", sa.String(36), nullable=True))
    op.add_column("clients", sa.Column("claimed_vat_number", sa.String(20), nullable=True))
    op.add_column("clients", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("clients", sa.Column("verified_by", sa.String(100), nullable=True))
    # Every client so far was the one shared record of its VAT number: it stays verified (by no
    # one in particular; the back office may review them).
    op.execute("UPDATE clients SET verified_at = created_at, verified_by = 'revision 0006'")
    unverified = sa.text("verified_at IS NULL")
    op.create_index("uq_clients_member_vat", "clients", ["owner_member_id", "claimed_vat_number"], unique=True,
                    postgresql_where=unverified, sqlite_where=unverified)


def downgrade() -> None:
    # A member's unverified client stays, without its claimed VAT number (as a private client).
    op.drop_index("uq_clients_member_vat", table_name="clients")
    for column in reversed(COLUMNS):
        op.execute(f"ALTER TABLE clients DROP COLUMN {column}")  # native on SQLite >= 3.35 too
