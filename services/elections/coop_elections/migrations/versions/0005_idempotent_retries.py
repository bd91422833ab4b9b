"""retries get the first answer: CreateElection's request id (unique per tenant) with the
fingerprint of its request; a counted paper ballot's tracker (answered to a teller's retry,
emptied at the close)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("elections") as batch:
        batch.add_column(sa.Column("creation_request_id", sa.String(100), nullable=True))
        batch.add_column(sa.Column("creation_request_sha256", sa.String(64), nullable=True))
        batch.create_index("uq_elections_creation_request", ["tenant", "creation_request_id"], unique=True)
    with op.batch_alter_table("paper_ballots") as batch:
        batch.add_column(sa.Column("tracker", sa.String(14), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("paper_ballots") as batch:
        batch.drop_column("tracker")
    with op.batch_alter_table("elections") as batch:
        batch.drop_index("uq_elections_creation_request")
        batch.drop_column("creation_request_sha256")
        batch.drop_column("creation_request_id")
