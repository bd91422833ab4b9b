"""assembly: General Assemblies, convocation, registrations, workshops; members' language

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ACTIVE_MEMBER = "cancelled_at IS NULL"
HAS_CODE = "code_hash IS NOT NULL"
HELD = "registration_id IS NOT NULL"
FREE = "registration_id IS NULL"
WAITING = "active AND NOT seated"
CONVENING = "status = 'convening'"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    # the members projection learns each member's language (the convocation is in it)
    op.add_column("board_member_standing", sa.Column("language", sa.String(16), nullable=True))
    op.add_column("board_member_standing", sa.Column("language_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_board_member_standing_tenant_member", "board_member_standing", ["tenant", "member_id"])

    if _postgres():
        op.execute("CREATE SEQUENCE board_assembly_arrival_seq")
    op.create_table(
        "board_assemblies",
        sa.Column("assembly_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place", sa.String(500), nullable=False),
        sa.Column("registration_deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("election_id", sa.String(64), nullable=False),
        sa.Column("documents", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scheduled_by", sa.String(200), nullable=False),
        sa.Column("convened_at", sa.DateTime(timezone=True)),
        sa.Column("convened_by", sa.String(200)),
        sa.Column("convene_all_members", sa.Boolean, nullable=False),
        sa.Column("convocation_total", sa.Integer, nullable=False),
        sa.Column("convocation_sent", sa.Integer, nullable=False),
        sa.Column("convocation_cursor", sa.String(64), nullable=False),
        sa.Column("convocation_completed_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('scheduled', 'convening', 'convened', 'cancelled')",
                           name="ck_board_assemblies_status"),
    )
    op.create_index("ix_board_assemblies_tenant_start", "board_assemblies", ["tenant", "starts_at", "assembly_id"])
    op.create_index("ix_board_assemblies_convening", "board_assemblies", ["status"],
                    postgresql_where=sa.text(CONVENING), sqlite_where=sa.text(CONVENING))
    op.create_table(
        "board_assembly_referrals",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("initiative_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("referred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assembly_id", sa.String(36)),
    )
    op.create_index("ix_board_assembly_referrals_assembly", "board_assembly_referrals", ["tenant", "assembly_id"])
    op.create_table(
        "board_assembly_workshops",
        sa.Column("workshop_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("assembly_id", sa.String(36), nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity >= 1", name="ck_board_assembly_workshops_capacity"),
    )
    op.create_index("ix_board_assembly_workshops_assembly", "board_assembly_workshops",
                    ["tenant", "assembly_id", "starts_at"])
    op.create_table(
        "board_assembly_seats",
        sa.Column("workshop_id", sa.String(36), primary_key=True),
        sa.Column("seat_no", sa.Integer, primary_key=True),
        sa.Column("registration_id", sa.String(36)),
    )
    op.create_index("uq_board_assembly_seats_holder", "board_assembly_seats", ["workshop_id", "registration_id"],
                    unique=True, postgresql_where=sa.text(HELD), sqlite_where=sa.text(HELD))
    op.create_index("ix_board_assembly_seats_free", "board_assembly_seats", ["workshop_id", "seat_no"],
                    postgresql_where=sa.text(FREE), sqlite_where=sa.text(FREE))
    op.create_table(
        "board_assembly_registrations",
        sa.Column("registration_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("assembly_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(200), nullable=False),
        sa.Column("attendance", sa.String(16), nullable=False),
        sa.Column("interpretation_language", sa.String(2), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True)),
        sa.Column("cancelled_by", sa.String(200)),
        sa.Column("code_hash", sa.String(64)),
        sa.Column("code_issued_at", sa.DateTime(timezone=True)),
        sa.Column("checked_in_at", sa.DateTime(timezone=True)),
        sa.Column("checked_in_by", sa.String(200)),
        sa.CheckConstraint("attendance IN ('in_person', 'remote')", name="ck_board_assembly_registrations_attendance"),
    )
    op.create_index("uq_board_assembly_registrations_active_member", "board_assembly_registrations",
                    ["tenant", "assembly_id", "member_id"], unique=True,
                    postgresql_where=sa.text(ACTIVE_MEMBER), sqlite_where=sa.text(ACTIVE_MEMBER))
    op.create_index("uq_board_assembly_registrations_code", "board_assembly_registrations",
                    ["tenant", "assembly_id", "code_hash"], unique=True,
                    postgresql_where=sa.text(HAS_CODE), sqlite_where=sa.text(HAS_CODE))
    op.create_table(
        "board_assembly_places",
        sa.Column("registration_id", sa.String(36), primary_key=True),
        sa.Column("workshop_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("assembly_id", sa.String(36), nullable=False),
        sa.Column("choice", sa.SmallInteger, nullable=False),
        sa.Column("arrival", sa.BigInteger, nullable=False),
        sa.Column("seated", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_board_assembly_places_waiting", "board_assembly_places", ["workshop_id", "arrival"],
                    postgresql_where=sa.text(WAITING), sqlite_where=sa.text(WAITING))
    op.create_index("ix_board_assembly_places_listing", "board_assembly_places", ["workshop_id", "seated", "arrival"])


def downgrade() -> None:
    for table in ("board_assembly_places", "board_assembly_registrations", "board_assembly_seats",
                  "board_assembly_workshops", "board_assembly_referrals", "board_assemblies"):
        op.drop_table(table)
    if _postgres():
        op.execute("DROP SEQUENCE board_assembly_arrival_seq")
    op.drop_index("ix_board_member_standing_tenant_member", table_name="board_member_standing")
    with op.batch_alter_table("board_member_standing") as batch:
        batch.drop_column("language_at")
        batch.drop_column("language")
