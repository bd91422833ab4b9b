"""forced agenda items and promoters' speaking slots

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # meetings family (issue 12)


def downgrade() -> None:
    pass
