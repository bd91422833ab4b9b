"""outbox, inbox (current shape) and the request_id store

Revision ID: 0001
Revises:
Create Date: 2026-12-06
"""

from alembic import op

from coop_platform.idempotency import create_idempotency_table, drop_idempotency_table
from coop_platform.tables import (
    create_platform_tables,
    downgrade_outbox_quarantine,
    drop_platform_tables,
    upgrade_outbox_quarantine,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_platform_tables(op)
    upgrade_outbox_quarantine(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    downgrade_outbox_quarantine(op)
    drop_platform_tables(op)
