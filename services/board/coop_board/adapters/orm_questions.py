"""Tables of the questions family (adapters/orm.py's metadata); created by migration 0009.

One row per question, with its live support count (changed by one in the statement that adds or
withdraws a support, so concurrent supports never lose a count), its answer and its referral; one
row per support, kept when withdrawn (`withdrawn_at`) so a list can be ordered on the counts of a
past instant (ListQuestions' snapshot). The partial unique index keeps one active support per
member and question."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from coop_board.adapters.orm import metadata

ACTIVE_SUPPORT = "withdrawn_at IS NULL"

board_questions = Table(
    "board_questions", metadata,
    Column("question_id", String(36), primary_key=True),
    Column("tenant", String(100), nullable=False),
    Column("assembly_id", String(64), nullable=False),
    Column("author_id", String(200), nullable=False),
    Column("language", String(2), nullable=False),
    Column("text", Text, nullable=False),
    Column("author_public", Boolean, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("support_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("answer_fr", Text, nullable=False),
    Column("answer_nl", Text, nullable=False),
    Column("answer_en", Text, nullable=False),
    Column("answered_at", DateTime(timezone=True)),
    Column("answered_by", String(200)),
    Column("referred_at", DateTime(timezone=True)),
    Column("referred_by", String(200)),
    Column("referral_item_id", String(64)),
    CheckConstraint("support_count >= 0", name="ck_board_questions_support_count"),
    CheckConstraint("status IN ('unanswered', 'in_writing', 'in_plenary')", name="ck_board_questions_status"),
    CheckConstraint("language IN ('fr', 'nl', 'en')", name="ck_board_questions_language"),
    Index("ix_board_questions_assembly", "tenant", "assembly_id", "submitted_at"),
    Index("ix_board_questions_author", "tenant", "author_id", "submitted_at"),
)

board_question_supports = Table(
    "board_question_supports", metadata,
    Column("support_id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("tenant", String(100), nullable=False),
    Column("question_id", String(36), ForeignKey("board_questions.question_id",
                                                 name="fk_board_question_supports_question"), nullable=False),
    Column("member_id", String(200), nullable=False),
    Column("supported_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Index("uq_board_question_supports_active", "question_id", "member_id", unique=True,
          postgresql_where=text(ACTIVE_SUPPORT), sqlite_where=text(ACTIVE_SUPPORT)),
    Index("ix_board_question_supports_member", "tenant", "member_id", "question_id"),
    Index("ix_board_question_supports_question", "question_id", "supported_at"),
)
