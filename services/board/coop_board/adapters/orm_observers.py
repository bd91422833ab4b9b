"""Tables of the observers family (adapters/orm.py's metadata); created by migration 0006.

One row per meeting open to observers (its seat limit and deadline, and the next registration
number) and one per registration. The session row is the lock that serializes a meeting's
registrations and cancellations; the partial unique indexes keep one active registration per
member and one holder per check-in code hash."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    false,
    text,
)

from coop_board.adapters.orm import metadata

observer_sessions = Table(
    "observer_sessions", metadata,
    Column("tenant", String(100), primary_key=True),
    Column("meeting_id", String(64), primary_key=True),
    Column("seats", Integer, nullable=False),
    Column("registration_deadline", DateTime(timezone=True), nullable=False),
    Column("meeting_starts_at", DateTime(timezone=True), nullable=False),  # the meeting's, kept up to date
    Column("opened_by", String(200), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("next_sequence", Integer, nullable=False),
    CheckConstraint("seats >= 0", name="ck_observer_sessions_seats"),
)

ACTIVE = "status IN ('seated', 'waiting')"

observer_registrations = Table(
    "observer_registrations", metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("meeting_id", String(64), nullable=False),
    Column("member_id", String(200), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("promoted_at", DateTime(timezone=True)),
    Column("cancelled_at", DateTime(timezone=True)),
    Column("cancelled_by", String(200)),
    Column("code_hash", String(64)),  # sha256 of the check-in code; the code itself is never stored
    Column("code_issued_at", DateTime(timezone=True)),
    Column("checked_in_at", DateTime(timezone=True)),
    Column("checked_in_by", String(200)),
    Column("speaking_slot", Boolean, nullable=False, server_default=false()),  # a presenter (0010)
    ForeignKeyConstraint(["tenant", "meeting_id"], ["observer_sessions.tenant", "observer_sessions.meeting_id"],
                         name="fk_observer_registrations_session"),
    CheckConstraint("status IN ('seated', 'waiting', 'cancelled')", name="ck_observer_registrations_status"),
    Index("uq_observer_registrations_sequence", "tenant", "meeting_id", "sequence", unique=True),
    Index("uq_observer_registrations_active_member", "tenant", "meeting_id", "member_id", unique=True,
          postgresql_where=text(ACTIVE), sqlite_where=text(ACTIVE)),
    Index("uq_observer_registrations_code", "tenant", "meeting_id", "code_hash", unique=True,
          postgresql_where=text("code_hash IS NOT NULL"), sqlite_where=text("code_hash IS NOT NULL")),
    Index("ix_observer_registrations_member", "tenant", "member_id", "registered_at"),
)
