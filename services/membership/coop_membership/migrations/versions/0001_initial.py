"""members, history, shares, share years, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from coop_platform.tables import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _enum(name: str, values: list[str]) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=20, create_constraint=False)


STATUS = ["applicant", "active", "suspended", "resigned", "excluded"]


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table(
        "members",
        sa.Column("member_no", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("member_id", sa.String(36), nullable=False, unique=True),
        sa.Column("given_name", sa.String(100), nullable=False),
        sa.Column("family_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=True, unique=True),
        sa.Column("phone", sa.String(30), nullable=True),
        sa.Column("street", sa.String(200), nullable=True),
        sa.Column("postal_code", sa.String(20), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("address_country", sa.String(2), nullable=True),
        sa.Column("country_of_residence", sa.String(2), nullable=False),
        sa.Column("preferred_language", sa.String(8), nullable=False),
        sa.Column("category", _enum("category", ["user", "permanent_staff", "external_partner"]), nullable=False),
        sa.Column("status", _enum("status", STATUS), nullable=False),
        sa.Column("joined_on", sa.Date, nullable=True),
        sa.Column("paid_through_year", sa.Integer, nullable=True),
        sa.Column("erased", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_members_status_no", "members", ["status", "member_no"])
    op.create_index("ix_members_language", "members", ["preferred_language"])
    op.create_index("ix_members_country", "members", ["country_of_residence"])
    op.create_index("ix_members_category", "members", ["category"])
    op.create_table(
        "member_status_history",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("member_no", sa.Integer, sa.ForeignKey("members.member_no"), nullable=False),
        sa.Column("from_status", _enum("status", STATUS), nullable=True),
        sa.Column("to_status", _enum("status", STATUS), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_member_status_history_member_no", "member_status_history", ["member_no"])
    op.create_table(
        "share_years",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("grace_days", sa.Integer, nullable=False),
    )
    op.create_table(
        "shares",
        sa.Column("share_id", sa.String(36), primary_key=True),
        sa.Column("member_no", sa.Integer, sa.ForeignKey("members.member_no"), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("amount_cents", sa.Integer, nullable=False),
        sa.Column("state", _enum("sharestate", ["subscribed", "paid", "refunded"]), nullable=False),
        sa.Column("payment_reference", sa.String(100), nullable=True, unique=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("refunded_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("member_no", "year", name="uq_shares_member_year"),
    )


def downgrade() -> None:
    op.drop_table("shares")
    op.drop_table("share_years")
    op.drop_table("member_status_history")
    op.drop_table("members")
    drop_platform_tables(op)
