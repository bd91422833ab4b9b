"""minutes: drafts, approvals and errata, translation tasks, published minutes and decisions

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op
from sqlalchemy import MetaData

from coop_board.adapters.orm_minutes import minutes_tables

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("board_published_decisions", "board_published_minutes", "board_translation_tasks", "board_minutes")


def upgrade() -> None:
    scratch = MetaData()
    minutes_tables(scratch)  # the tables as adapters/orm_minutes.py defines them at this revision
    scratch.create_all(bind=op.get_bind())


def downgrade() -> None:
    for name in TABLES:
        op.drop_table(name)
