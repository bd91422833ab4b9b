"""outbox v2: quarantined rows and the retention purge's index (platform tables)

The relay sets aside a row the broker refuses alone (quarantined_at, with its last_error)
instead of retrying it for ever in front of every later row; the worker purges sent rows
after COOP_OUTBOX_RETENTION_DAYS by published_at. See coop_platform.tables.

Revision ID: 0008_outbox_v2
Revises: 0007_idempotency
Create Date: 2026-12-06
"""

from alembic import op

from coop_platform.tables import downgrade_outbox_quarantine, upgrade_outbox_quarantine

revision = "0008_outbox_v2"
down_revision = "0007_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    upgrade_outbox_quarantine(op)


def downgrade() -> None:
    downgrade_outbox_quarantine(op)
