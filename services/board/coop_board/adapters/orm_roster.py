"""Tables of the roster family (adapters/orm.py's metadata)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, String, Table, UniqueConstraint

from coop_board.adapters.orm import metadata

mandates = Table(
    "board_mandates",
    metadata,
    Column("mandate_id", String(36), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("director_id", String(64), nullable=False),   # member id
    Column("seat_id", String(32), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),             # exclusive: the successor's first day
    Column("election_id", String(64), nullable=True),     # NULL: loaded by an admin
    Column("ended_on", Date, nullable=True),
    Column("end_reason", String(20), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # the natural key of election.results_published: a second copy of the event creates nothing
    UniqueConstraint("tenant", "election_id", "director_id", name="uq_board_mandates_election_director"),
    Index("ix_board_mandates_tenant_start", "tenant", "start_date", "mandate_id"),
    Index("ix_board_mandates_tenant_seat", "tenant", "seat_id"),
    Index("ix_board_mandates_open_end", "end_date", postgresql_where="end_reason IS NULL"),
)

officer_terms = Table(
    "board_officer_terms",
    metadata,
    Column("term_id", String(36), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("office", String(20), nullable=False),
    Column("director_id", String(64), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("decision_id", String(64), nullable=False),
    Index("ix_board_officer_terms_tenant_office", "tenant", "office"),
)

management_appointments = Table(
    "board_management_appointments",
    metadata,
    Column("appointment_id", String(36), primary_key=True),
    Column("tenant", String(63), nullable=False),
    Column("manager_id", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True),
    Column("decision_id", String(64), nullable=False),
    Index("ix_board_management_tenant", "tenant"),
)

# membership's events projected: the cooperative's own members (tenant "coop")
member_standing = Table(
    "board_member_standing",
    metadata,
    Column("member_id", String(64), primary_key=True),
    Column("tenant", String(63), nullable=False, server_default="coop"),
    Column("status", String(20), nullable=True),
    Column("category", String(30), nullable=True),
    Column("in_good_standing", Boolean, nullable=False),
    Column("status_at", DateTime(timezone=True), nullable=True),
    Column("category_at", DateTime(timezone=True), nullable=True),
    Column("standing_at", DateTime(timezone=True), nullable=True),
    Column("language", String(16), nullable=True),      # migration 0008 (assembly: the convocation's language)
    Column("language_at", DateTime(timezone=True), nullable=True),
    Index("ix_board_member_standing_tenant_member", "tenant", "member_id"),
)
