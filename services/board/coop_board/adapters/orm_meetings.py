"""Tables of the meetings family (adapters/orm.py's metadata).

A meeting is one row: its agenda, attendance, declarations and votes (with their counts and, for
open votes only, who voted what) are the aggregate's document, read and written whole under a
row lock, which serialises a meeting's writes. Who took part in a vote is also a row of
board_vote_ballots, whose primary key makes a second ballot of one director impossible (never
what they chose). Decisions and follow-up actions are rows of their own, listed and paged."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from coop_board.adapters.orm import metadata

Doc = JSON().with_variant(JSONB(), "postgresql")

board_meetings = Table(
    "board_meetings", metadata,
    Column("meeting_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("agenda_version", Integer, nullable=False),
    Column("doc", Doc, nullable=False),
    Index("ix_board_meetings_tenant_start", "tenant", "starts_at", "meeting_id"),
)

board_vote_ballots = Table(
    "board_vote_ballots", metadata,
    Column("tenant", String(100), nullable=False),
    Column("meeting_id", String(36), nullable=False),
    Column("vote_id", String(36), nullable=False),
    Column("director_id", String(100), nullable=False),
    PrimaryKeyConstraint("vote_id", "director_id", name="pk_board_vote_ballots"),
)

board_statutory_items = Table(
    "board_statutory_items", metadata,
    Column("tenant", String(100), nullable=False),
    Column("year", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("meeting_id", String(36), nullable=False),
    PrimaryKeyConstraint("tenant", "year", "kind", name="pk_board_statutory_items"),
)

board_pending_minutes = Table(
    "board_pending_minutes", metadata,
    Column("tenant", String(100), nullable=False),
    Column("minutes_id", String(100), nullable=False),
    Column("title", Doc, nullable=False),
    PrimaryKeyConstraint("tenant", "minutes_id", name="pk_board_pending_minutes"),
)

board_pending_concerns = Table(  # members' questions referred to the board, waiting for a meeting
    "board_pending_concerns", metadata,
    Column("tenant", String(100), nullable=False),
    Column("question_id", String(100), nullable=False),
    Column("title", Doc, nullable=False),
    Column("text", Doc, nullable=False),
    PrimaryKeyConstraint("tenant", "question_id", name="pk_board_pending_concerns"),
)

board_decisions = Table(
    "board_decisions", metadata,
    Column("decision_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("meeting_id", String(36), nullable=False),
    Column("item_id", String(36), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    Column("doc", Doc, nullable=False),
    UniqueConstraint("tenant", "item_id", name="uq_board_decisions_item"),
    Index("ix_board_decisions_tenant_time", "tenant", "decided_at", "decision_id"),
    Index("ix_board_decisions_meeting", "tenant", "meeting_id"),
)

board_actions = Table(
    "board_actions", metadata,
    Column("action_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("decision_id", String(36), nullable=False),
    Column("meeting_id", String(36), nullable=False),
    Column("owner_id", String(100), nullable=False),
    Column("due_on", Date, nullable=False),
    Column("done_on", Date),
    Column("closed", Boolean, nullable=False),
    Column("description", Doc, nullable=False),
    Index("ix_board_actions_tenant_due", "tenant", "due_on", "action_id"),
)
