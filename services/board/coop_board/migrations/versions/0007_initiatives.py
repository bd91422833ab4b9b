"""initiatives: drafts, promoters, admissibility, signatures, outcomes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUS_CHECK = ("status IN ('draft', 'submitted', 'refused', 'collecting', 'expired', 'qualified', 'discussed', "
                "'closed')")


def _at(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True))


def upgrade() -> None:
    op.create_table(
        "board_initiatives",
        sa.Column("initiative_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("author_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("title", sa.JSON, nullable=False),
        sa.Column("text", sa.JSON, nullable=False),
        sa.Column("question", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("required_promoters", sa.Integer, nullable=False),
        _at("submitted_at"),
        _at("admissibility_due_at"),
        _at("decided_at"),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("admissible_by_default", sa.Boolean, nullable=False),
        sa.Column("refusal_reason", sa.JSON),
        _at("opens_at"),
        _at("closes_at"),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("threshold_rule", sa.String(8), nullable=False),
        sa.Column("threshold_percent", sa.Float, nullable=False),
        sa.Column("members_base", sa.Integer, nullable=False),
        sa.Column("progress", sa.Integer, nullable=False),
        _at("qualified_at"),
        sa.Column("verified_signatures", sa.Integer, nullable=False),
        _at("expired_at"),
        sa.Column("forced_meeting_id", sa.String(64)),
        sa.Column("forced_item_id", sa.String(64)),
        _at("forced_meeting_starts_at"),
        sa.Column("forced_extra_meeting", sa.Boolean, nullable=False),
        _at("outcome_due_at"),
        _at("discussed_at"),
        sa.Column("decision_id", sa.String(64)),
        _at("overdue_since"),
        sa.Column("outcome_kind", sa.String(24)),
        sa.Column("outcome_text", sa.JSON),
        _at("outcome_published_at"),
        sa.Column("outcome_published_by", sa.String(200)),
        sa.Column("outcome_assembly_id", sa.String(64)),
        sa.CheckConstraint(STATUS_CHECK, name="ck_board_initiatives_status"),
        sa.CheckConstraint("progress IN (0, 33, 66, 100)", name="ck_board_initiatives_progress"),
    )
    op.create_index("ix_board_initiatives_listing", "board_initiatives", ["tenant", "created_at", "initiative_id"])
    op.create_index("ix_board_initiatives_status", "board_initiatives", ["status", "tenant"])
    op.create_table(
        "board_initiative_promoters",
        sa.Column("initiative_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=False),
        _at("answered_at"),
        sa.CheckConstraint("status IN ('author', 'invited', 'accepted', 'declined')",
                           name="ck_board_initiative_promoters_status"),
    )
    op.create_index("ix_board_initiative_promoters_member", "board_initiative_promoters", ["member_id"])
    op.create_table(
        "board_initiative_signatures",
        sa.Column("initiative_id", sa.String(36), primary_key=True),
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_board_initiative_signatures_order", "board_initiative_signatures",
                    ["initiative_id", "signed_at", "member_id"])
    op.create_table(
        "board_initiative_signature_counts",
        sa.Column("initiative_id", sa.String(36), primary_key=True),
        sa.Column("shard", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("board_initiative_signature_counts")
    op.drop_table("board_initiative_signatures")
    op.drop_table("board_initiative_promoters")
    op.drop_table("board_initiatives")
