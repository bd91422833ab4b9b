"""idempotency keys (request_id of RegisterMember)

Revision ID: 0002_idempotency
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

from coop_platform.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0002_idempotency"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
