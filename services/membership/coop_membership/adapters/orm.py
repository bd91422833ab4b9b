"""Tables and the imperative mapping of the pure domain classes onto them (cosmicpython style)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from coop_membership.domain.model import (
    Category,
    Member,
    Share,
    ShareState,
    ShareYear,
    Status,
)
from coop_platform.idempotency import idempotency_table
from coop_platform.tables import BigIntPK, add_platform_tables

metadata = MetaData()
mapper_registry = registry(metadata=metadata)
add_platform_tables(metadata)
idempotency_keys = idempotency_table(metadata)  # request_id -> first answer (RegisterMember)


def _enum(cls: type) -> Enum:
    return Enum(cls, name=cls.__name__.lower(), native_enum=False, length=20,
                values_callable=lambda e: [m.value for m in e], validate_strings=True)


members = Table(
    "members",
    metadata,
    Column("member_no", Integer, primary_key=True, autoincrement=True),
    Column("member_id", String(36), nullable=False, unique=True),
    Column("given_name", String(100), nullable=False),
    Column("family_name", String(100), nullable=False),
    Column("email", String(254), nullable=True, unique=True),
    Column("phone", String(30), nullable=True),
    Column("street", String(200), nullable=True),
    Column("postal_code", String(20), nullable=True),
    Column("city", String(100), nullable=True),
    Column("address_country", String(2), nullable=True),
    Column("country_of_residence", String(2), nullable=False),
    Column("preferred_language", String(8), nullable=False),
    Column("category", _enum(Category), nullable=False),
    Column("status", _enum(Status), nullable=False),
    Column("joined_on", Date, nullable=True),
    Column("paid_through_year", Integer, nullable=True),
    Column("erased", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_members_status_no", "status", "member_no"),
    Index("ix_members_language", "preferred_language"),
    Index("ix_members_country", "country_of_residence"),
    Index("ix_members_category", "category"),
)

status_history = Table(
    "member_status_history",
    metadata,
    Column("id", BigIntPK, primary_key=True, autoincrement=True),
    Column("member_no", Integer, ForeignKey("members.member_no"), nullable=False, index=True),
    Column("from_status", _enum(Status), nullable=True),
    Column("to_status", _enum(Status), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

share_years = Table(
    "share_years",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("amount_cents", Integer, nullable=False),
    Column("grace_days", Integer, nullable=False),
)

shares = Table(
    "shares",
    metadata,
    Column("share_id", String(36), primary_key=True),
    Column("member_no", Integer, ForeignKey("members.member_no"), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_cents", Integer, nullable=False),
    Column("state", _enum(ShareState), nullable=False),
    Column("payment_reference", String(100), nullable=True, unique=True),
    Column("paid_at", DateTime(timezone=True), nullable=True),
    Column("refunded_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("member_no", "year", name="uq_shares_member_year"),
)

_mapped = False


def start_mappers() -> None:
    """Map the domain dataclasses once per process. StatusChange stays a plain dataclass: the
    history is only appended and listed, through Core (repository), and registration creates
    two changes per member, which as mapped objects cost an instrumented set per field."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Member, members)
    mapper_registry.map_imperatively(ShareYear, share_years)
    mapper_registry.map_imperatively(Share, shares)
    _mapped = True
