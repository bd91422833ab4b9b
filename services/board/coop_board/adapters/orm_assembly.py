"""Tables of the assembly family (adapters/orm.py's metadata); created by migration 0008.

One row per Assembly (its texts as JSON, the convocation's progress), per referred initiative,
per workshop, per workshop seat, per registration and per workshop choice ("place").

Why seat rows: a registration takes a free seat with UPDATE ... FOR UPDATE SKIP LOCKED, so
concurrent registrations never queue on one hot row per workshop, and a workshop can never seat
more members than it has seat rows. Arrival numbers come from one sequence; a waiting place takes
its number after it found no free seat, so every waiting member arrived after every seated one
(promotions excepted: they follow the waiting list's order)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    Sequence,
    SmallInteger,
    String,
    Table,
    text,
)

from coop_board.adapters.orm import metadata

arrival_sequence = Sequence("board_assembly_arrival_seq", metadata=metadata)

assemblies = Table(
    "board_assemblies", metadata,
    Column("assembly_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("title", JSON, nullable=False),                 # {"fr": ..., "nl": ..., "en": ...}
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("place", String(500), nullable=False),
    Column("registration_deadline", DateTime(timezone=True), nullable=False),
    Column("election_id", String(64), nullable=False),
    Column("documents", JSON, nullable=False),             # [{"title": {...}, "reference": {...}}]
    Column("status", String(16), nullable=False),
    Column("scheduled_at", DateTime(timezone=True), nullable=False),
    Column("scheduled_by", String(200), nullable=False),
    Column("convened_at", DateTime(timezone=True)),
    Column("convened_by", String(200)),
    Column("convene_all_members", Boolean, nullable=False),
    Column("convocation_total", Integer, nullable=False),
    Column("convocation_sent", Integer, nullable=False),
    Column("convocation_cursor", String(64), nullable=False),
    Column("convocation_completed_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('scheduled', 'convening', 'convened', 'cancelled')", name="ck_board_assemblies_status"),
    Index("ix_board_assemblies_tenant_start", "tenant", "starts_at", "assembly_id"),
    Index("ix_board_assemblies_convening", "status", postgresql_where=text("status = 'convening'"),
          sqlite_where=text("status = 'convening'")),
)

referrals = Table(
    "board_assembly_referrals", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("initiative_id", String(64), primary_key=True),
    Column("title", JSON, nullable=False),
    Column("referred_at", DateTime(timezone=True), nullable=False),
    Column("assembly_id", String(36)),                      # NULL: waiting for the next Assembly
    Index("ix_board_assembly_referrals_assembly", "tenant", "assembly_id"),
)

workshops = Table(
    "board_assembly_workshops", metadata,
    Column("workshop_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("assembly_id", String(36), nullable=False),
    Column("title", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("language", String(2), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("capacity >= 1", name="ck_board_assembly_workshops_capacity"),
    Index("ix_board_assembly_workshops_assembly", "tenant", "assembly_id", "starts_at"),
)

seats = Table(
    "board_assembly_seats", metadata,
    Column("workshop_id", String(36), primary_key=True),
    Column("seat_no", Integer, primary_key=True),
    Column("registration_id", String(36)),                  # NULL: free
    Index("uq_board_assembly_seats_holder", "workshop_id", "registration_id", unique=True,
          postgresql_where=text("registration_id IS NOT NULL"), sqlite_where=text("registration_id IS NOT NULL")),
    Index("ix_board_assembly_seats_free", "workshop_id", "seat_no",
          postgresql_where=text("registration_id IS NULL"), sqlite_where=text("registration_id IS NULL")),
)

registrations = Table(
    "board_assembly_registrations", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("assembly_id", String(36), nullable=False),
    Column("member_id", String(200), nullable=False),
    Column("attendance", String(16), nullable=False),
    Column("interpretation_language", String(2), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancelled_by", String(200)),
    Column("code_hash", String(64)),                        # sha256 of the check-in code, never the code
    Column("code_issued_at", DateTime(timezone=True)),
    Column("checked_in_at", DateTime(timezone=True)),
    Column("checked_in_by", String(200)),
    CheckConstraint("attendance IN ('in_person', 'remote')", name="ck_board_assembly_registrations_attendance"),
    Index("uq_board_assembly_registrations_active_member", "tenant", "assembly_id", "member_id", unique=True,
          postgresql_where=text("cancelled_at IS NULL"), sqlite_where=text("cancelled_at IS NULL")),
    Index("uq_board_assembly_registrations_code", "tenant", "assembly_id", "code_hash", unique=True,
          postgresql_where=text("code_hash IS NOT NULL"), sqlite_where=text("code_hash IS NOT NULL")),
)

places = Table(
    "board_assembly_places", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("workshop_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("assembly_id", String(36), nullable=False),
    Column("choice", SmallInteger, nullable=False),
    Column("arrival", BigInteger, nullable=False),
    Column("seated", Boolean, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("promoted_at", DateTime(timezone=True)),
    Index("ix_board_assembly_places_waiting", "workshop_id", "arrival",
          postgresql_where=text("active AND NOT seated"), sqlite_where=text("active AND NOT seated")),
    Index("ix_board_assembly_places_listing", "workshop_id", "seated", "arrival"),
)
