"""initiatives: drafts, promoters, admissibility, signatures, outcomes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # initiatives family (issue 12)


def downgrade() -> None:
    pass
