"""dossiers: dossiers, versions, proposals, amendments, send backs and documents

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "board_dossiers",
        sa.Column("dossier_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_board_dossiers_tenant_created", "board_dossiers", ["tenant", "created_at", "dossier_id"])
    op.create_index("ix_board_dossiers_tenant_status", "board_dossiers", ["tenant", "status", "created_at", "dossier_id"])
    op.create_table(
        "board_dossier_versions",
        sa.Column("dossier_id", sa.String(36), sa.ForeignKey("board_dossiers.dossier_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("submitted_by", sa.String(200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("change_note", sa.JSON, nullable=False),
        sa.Column("document_ids", sa.JSON, nullable=False),
        sa.CheckConstraint("version >= 1", name="ck_board_dossier_versions_version"),
    )
    op.create_table(
        "board_dossier_proposals",
        sa.Column("proposal_id", sa.String(36), primary_key=True),
        sa.Column("dossier_id", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("text", sa.JSON, nullable=False),
        sa.Column("recommended", sa.Boolean, nullable=False),
        sa.Column("rationale", sa.JSON, nullable=False),
        sa.Column("revises", sa.String(36), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("text_to_vote", sa.JSON, nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id", "version"], ["board_dossier_versions.dossier_id",
                                                         "board_dossier_versions.version"]),
        sa.UniqueConstraint("dossier_id", "version", "position", name="uq_board_dossier_proposals_position"),
    )
    op.create_table(
        "board_dossier_amendments",
        sa.Column("amendment_id", sa.String(36), primary_key=True),
        sa.Column("dossier_id", sa.String(36), sa.ForeignKey("board_dossiers.dossier_id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),  # proposed order within the dossier
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("proposal_id", sa.String(36), sa.ForeignKey("board_dossier_proposals.proposal_id"), nullable=False),
        sa.Column("parent_id", sa.String(36), nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("proposed_text", sa.JSON, nullable=False),
        sa.Column("text", sa.JSON, nullable=False),
        sa.Column("diff", sa.JSON, nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("level BETWEEN 1 AND 2", name="ck_board_dossier_amendments_level"),
        sa.UniqueConstraint("dossier_id", "seq", name="uq_board_dossier_amendments_seq"),
    )
    op.create_table(
        "board_dossier_send_backs",
        sa.Column("dossier_id", sa.String(36), sa.ForeignKey("board_dossiers.dossier_id"), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("meeting_id", sa.String(36), nullable=False),
        sa.Column("item_id", sa.String(36), nullable=False),
        sa.Column("decision_id", sa.String(36), nullable=False),
        sa.Column("sent_back_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "board_dossier_documents",
        sa.Column("document_id", sa.String(36), primary_key=True),
        sa.Column("dossier_id", sa.String(36), sa.ForeignKey("board_dossiers.dossier_id"), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_board_dossier_documents_dossier", "board_dossier_documents", ["dossier_id"])


def downgrade() -> None:
    op.drop_table("board_dossier_documents")
    op.drop_table("board_dossier_send_backs")
    op.drop_table("board_dossier_amendments")
    op.drop_table("board_dossier_proposals")
    op.drop_table("board_dossier_versions")
    op.drop_table("board_dossiers")
