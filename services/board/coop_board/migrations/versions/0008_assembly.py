"""assembly: General Assemblies, convocation, registrations, workshops; members' language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # assembly family (issue 12)


def downgrade() -> None:
    pass
