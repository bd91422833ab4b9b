"""Tables of the initiatives family (adapters/orm.py's metadata); created by migration 0007.

One row per initiative (its texts as JSON {fr, nl, en}), one per member of its promoter committee,
one per signature (the primary key keeps one per member), and the signature counter split into
shards: a signature adds 1 to one shard chosen at random, so concurrent signatures do not queue
on one row; the count is the sum of the shards. Transitions lock the initiative row; a signature
never does (a progress mark is a conditional update of it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
)

from coop_board.adapters.orm import metadata

SHARDS = 32  # counter shards per initiative (more than the api's concurrent requests)

STATUS_CHECK = ("status IN ('draft', 'submitted', 'refused', 'collecting', 'expired', 'qualified', 'discussed', "
                "'closed')")

board_initiatives = Table(
    "board_initiatives", metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("author_id", String(64), nullable=False),
    Column("language", String(2), nullable=False),
    Column("title", JSON, nullable=False),
    Column("text", JSON, nullable=False),
    Column("question", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("required_promoters", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True)),
    Column("admissibility_due_at", DateTime(timezone=True)),
    Column("decided_at", DateTime(timezone=True)),
    Column("decided_by", String(200)),
    Column("admissible_by_default", Boolean, nullable=False, default=False),
    Column("refusal_reason", JSON),
    Column("opens_at", DateTime(timezone=True)),
    Column("closes_at", DateTime(timezone=True)),
    Column("threshold", Integer, nullable=False, default=0),
    Column("threshold_rule", String(8), nullable=False, default=""),
    Column("threshold_percent", Float, nullable=False, default=0.0),
    Column("members_base", Integer, nullable=False, default=0),
    Column("progress", Integer, nullable=False, default=0),
    Column("qualified_at", DateTime(timezone=True)),
    Column("verified_signatures", Integer, nullable=False, default=0),
    Column("expired_at", DateTime(timezone=True)),
    Column("forced_meeting_id", String(64)),
    Column("forced_item_id", String(64)),
    Column("forced_meeting_starts_at", DateTime(timezone=True)),
    Column("forced_extra_meeting", Boolean, nullable=False, default=False),
    Column("outcome_due_at", DateTime(timezone=True)),
    Column("discussed_at", DateTime(timezone=True)),
    Column("decision_id", String(64)),
    Column("overdue_since", DateTime(timezone=True)),
    Column("outcome_kind", String(24)),
    Column("outcome_text", JSON),
    Column("outcome_published_at", DateTime(timezone=True)),
    Column("outcome_published_by", String(200)),
    Column("outcome_assembly_id", String(64)),
    CheckConstraint(STATUS_CHECK, name="ck_board_initiatives_status"),
    CheckConstraint("progress IN (0, 33, 66, 100)", name="ck_board_initiatives_progress"),
    Index("ix_board_initiatives_listing", "tenant", "created_at", "initiative_id"),
    Index("ix_board_initiatives_status", "status", "tenant"),
)

board_initiative_promoters = Table(
    "board_initiative_promoters", metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("status", String(10), nullable=False),
    Column("invited_at", DateTime(timezone=True), nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('author', 'invited', 'accepted', 'declined')",
                    name="ck_board_initiative_promoters_status"),
    Index("ix_board_initiative_promoters_member", "member_id"),
)

board_initiative_signatures = Table(
    "board_initiative_signatures", metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("member_id", String(64), primary_key=True),
    Column("signed_at", DateTime(timezone=True), nullable=False),
    Index("ix_board_initiative_signatures_order", "initiative_id", "signed_at", "member_id"),
)

board_initiative_signature_counts = Table(
    "board_initiative_signature_counts", metadata,
    Column("initiative_id", String(36), primary_key=True),
    Column("shard", Integer, primary_key=True),
    Column("count", Integer, nullable=False),  # one shard may go below 0 (a withdrawal); the sum never does
)
