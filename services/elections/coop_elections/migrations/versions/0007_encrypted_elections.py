"""encrypted elections: the per-election setting, the election key and the trustees' published
commitments

Revision ID: 0007
Revises: 0006_outbox_v2
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006_outbox_v2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("elections", sa.Column("encryption", sa.Text, nullable=True))
    op.add_column("elections", sa.Column("election_key", sa.String(64), nullable=True))
    op.create_table(
        "trustee_keys",
        sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), primary_key=True),
        sa.Column("trustee", sa.Integer, primary_key=True),
        sa.Column("commitment", sa.Text, nullable=False),
        sa.Column("transport_key", sa.String(64), nullable=False),
        sa.Column("published_by", sa.String(100), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trustee_keys")
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("election_key")
        batch.drop_column("encryption")
