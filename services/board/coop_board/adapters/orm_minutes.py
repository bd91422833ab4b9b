"""Tables of the minutes family (adapters/orm.py's metadata).

Minutes are stored whole (their sections and decisions as JSON: they are read and written as
one aggregate); the members' reads go to the published tables, one denormalized row per
language, keyed and indexed for the reads they serve (by id; by tenant, language and meeting
date, newest first)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from coop_board.adapters.orm import metadata


def minutes_tables(meta: MetaData) -> tuple[Table, Table, Table, Table]:
    """The family's tables on `meta` (migration 0005 creates them; a test compares both)."""
    minutes = Table(
        "board_minutes", meta,
        Column("tenant", String(100), primary_key=True),
        Column("minutes_id", String(36), primary_key=True),
        Column("meeting_id", String(100), nullable=False),
        Column("meeting_minutes_of", String(100), nullable=True),  # meeting_id for kind "minutes": one per meeting
        Column("kind", String(16), nullable=False),
        Column("erratum_of", String(36), nullable=True),
        Column("status", String(16), nullable=False),
        Column("revision", Integer, nullable=False),
        Column("content", JSON, nullable=False),
        Column("drafted_at", DateTime(timezone=True), nullable=False),
        Column("approved_at", DateTime(timezone=True), nullable=True),
        Column("published_at", DateTime(timezone=True), nullable=True),
        UniqueConstraint("tenant", "meeting_minutes_of", name="uq_board_minutes_meeting"),
        Index("ix_board_minutes_erratum_of", "tenant", "erratum_of"),
    )
    tasks = Table(
        "board_translation_tasks", meta,
        Column("tenant", String(100), primary_key=True),
        Column("minutes_id", String(36), primary_key=True),
        Column("meeting_id", String(100), nullable=False),
        Column("missing", JSON, nullable=False),
        Column("opened_on", Date, nullable=False),
        Column("due_on", Date, nullable=False),
        Column("done_on", Date, nullable=True),
        Index("ix_board_translation_tasks_open", "tenant", "done_on", "due_on", "minutes_id"),
    )
    published = Table(
        "board_published_minutes", meta,
        Column("tenant", String(100), primary_key=True),
        Column("minutes_id", String(36), primary_key=True),
        Column("language", String(2), primary_key=True),
        Column("meeting_id", String(100), nullable=False),
        Column("meeting_date", Date, nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=False),
        Column("title", Text, nullable=False),
        Column("sections", JSON, nullable=False),
        Column("erratum_of", String(36), nullable=True),
        Column("search", Text, nullable=False),  # casefolded title and text, in that language
        Index("ix_board_published_minutes_list", "tenant", "language", "meeting_date", "minutes_id"),
    )
    decisions = Table(
        "board_published_decisions", meta,
        Column("tenant", String(100), primary_key=True),
        Column("decision_id", String(100), primary_key=True),
        Column("language", String(2), primary_key=True),
        Column("minutes_id", String(36), nullable=False),
        Column("meeting_id", String(100), nullable=False),
        Column("meeting_date", Date, nullable=False),
        Column("title", Text, nullable=False),
        Column("adopted_text", Text, nullable=False),
        Column("in_favour", Integer, nullable=False),
        Column("against", Integer, nullable=False),
        Column("abstentions", Integer, nullable=False),
        Column("effective_on", Date, nullable=True),
        Column("closed", Boolean, nullable=False),
        Column("search", Text, nullable=False),
        Index("ix_board_published_decisions_list", "tenant", "language", "meeting_date", "decision_id"),
    )
    return minutes, tasks, published, decisions


board_minutes, board_translation_tasks, board_published_minutes, board_published_decisions = minutes_tables(metadata)
