"""encrypted elections: the per-election setting, the election key, the trustees' published
commitments, the mixes and the decryption shares

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
    op.create_table(
        "mixes",
        sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), primary_key=True),
        sa.Column("question_id", sa.String(64), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),
        sa.Column("mixer", sa.String(100), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("outputs", sa.LargeBinary, nullable=False),
        sa.Column("proof", sa.LargeBinary, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decryption_shares",
        sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), primary_key=True),
        sa.Column("trustee", sa.Integer, primary_key=True),
        sa.Column("shares", sa.LargeBinary, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("decryption_shares")
    op.drop_table("mixes")
    op.drop_table("trustee_keys")
    with op.batch_alter_table("elections") as batch:
        batch.drop_column("election_key")
        batch.drop_column("encryption")
