"""member projection: the time of the membership event that set a member's status, category
and good standing

Membership's events reach the worker on one queue per event type, so a member.status_changed
may be handled after a newer share.paid; these times let the older fact lose.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("member_projection") as batch:
        batch.add_column(sa.Column("status_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("category_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("standing_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member_projection") as batch:
        batch.drop_column("standing_at")
        batch.drop_column("category_at")
        batch.drop_column("status_at")
