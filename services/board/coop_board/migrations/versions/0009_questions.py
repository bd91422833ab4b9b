"""questions: members' questions to the General Assembly and their support

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # questions family (issue 12)


def downgrade() -> None:
    pass
