"""Tables of the dossiers family (adapters/orm.py's metadata).

A dossier's versions and their proposals are inserted once and never updated (the proposal row's
state columns, `status`, `text_to_vote`, `decision_id`, `decided_at`, are the board's work on
it). Texts in three languages are JSON objects {"fr", "nl", "en"}. Every row carries the tenant.
Documents' bytes are files named by their SHA-256 (COOP_BOARD_DOCUMENTS_DIR); their
descriptions are rows here."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from coop_board.adapters.orm import metadata

ID = 36       # UUIDs
TENANT = 100
SUBJECT = 200  # a caller's subject (member id)

dossiers = Table(
    "board_dossiers", metadata,
    Column("dossier_id", String(ID), primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("title", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("latest_version", Integer, nullable=False, default=0),
    Column("created_by", String(SUBJECT), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_board_dossiers_tenant_created", "tenant", "created_at", "dossier_id"),
    Index("ix_board_dossiers_tenant_status", "tenant", "status", "created_at", "dossier_id"),
)

dossier_versions = Table(
    "board_dossier_versions", metadata,
    Column("dossier_id", String(ID), ForeignKey("board_dossiers.dossier_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("submitted_by", String(SUBJECT), nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("change_note", JSON, nullable=False),
    Column("document_ids", JSON, nullable=False),
    CheckConstraint("version >= 1", name="ck_board_dossier_versions_version"),
)

dossier_proposals = Table(
    "board_dossier_proposals", metadata,
    Column("proposal_id", String(ID), primary_key=True),
    Column("dossier_id", String(ID), nullable=False),
    Column("version", Integer, nullable=False),
    Column("tenant", String(TENANT), nullable=False),
    Column("position", Integer, nullable=False),
    Column("title", JSON, nullable=False),
    Column("text", JSON, nullable=False),
    Column("recommended", Boolean, nullable=False),
    Column("rationale", JSON, nullable=False),
    Column("revises", String(ID), nullable=True),
    # the board's work on it (the columns above never change)
    Column("status", String(20), nullable=False),
    Column("text_to_vote", JSON, nullable=False),
    Column("decision_id", String(ID), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    ForeignKeyConstraint(["dossier_id", "version"], ["board_dossier_versions.dossier_id",
                                                     "board_dossier_versions.version"]),
    UniqueConstraint("dossier_id", "version", "position", name="uq_board_dossier_proposals_position"),
)

dossier_amendments = Table(
    "board_dossier_amendments", metadata,
    Column("amendment_id", String(ID), primary_key=True),
    Column("dossier_id", String(ID), ForeignKey("board_dossiers.dossier_id"), nullable=False),
    Column("seq", Integer, nullable=False),  # proposed order within the dossier
    Column("tenant", String(TENANT), nullable=False),
    Column("version", Integer, nullable=False),
    Column("proposal_id", String(ID), ForeignKey("board_dossier_proposals.proposal_id"), nullable=False),
    Column("parent_id", String(ID), nullable=False),
    Column("level", Integer, nullable=False),
    Column("author_id", String(SUBJECT), nullable=False),
    Column("proposed_text", JSON, nullable=False),
    Column("text", JSON, nullable=False),
    Column("diff", JSON, nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("decision_id", String(ID), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("level BETWEEN 1 AND 2", name="ck_board_dossier_amendments_level"),
    UniqueConstraint("dossier_id", "seq", name="uq_board_dossier_amendments_seq"),
)

dossier_send_backs = Table(
    "board_dossier_send_backs", metadata,
    Column("dossier_id", String(ID), ForeignKey("board_dossiers.dossier_id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("tenant", String(TENANT), nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("due_on", Date, nullable=False),
    Column("meeting_id", String(ID), nullable=False),
    Column("item_id", String(ID), nullable=False),
    Column("decision_id", String(ID), nullable=False),
    Column("sent_back_at", DateTime(timezone=True), nullable=False),
)

dossier_documents = Table(
    "board_dossier_documents", metadata,
    Column("document_id", String(ID), primary_key=True),
    Column("dossier_id", String(ID), ForeignKey("board_dossiers.dossier_id"), nullable=False),
    Column("tenant", String(TENANT), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(SUBJECT), nullable=False),
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Index("ix_board_dossier_documents_dossier", "dossier_id"),
)
