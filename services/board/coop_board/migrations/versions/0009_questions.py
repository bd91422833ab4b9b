"""questions: members' questions to the General Assembly and their support

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ACTIVE_SUPPORT = "withdrawn_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "board_questions",
        sa.Column("question_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("assembly_id", sa.String(64), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author_public", sa.Boolean, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("support_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("answer_fr", sa.Text, nullable=False),
        sa.Column("answer_nl", sa.Text, nullable=False),
        sa.Column("answer_en", sa.Text, nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True)),
        sa.Column("answered_by", sa.String(200)),
        sa.Column("referred_at", sa.DateTime(timezone=True)),
        sa.Column("referred_by", sa.String(200)),
        sa.Column("referral_item_id", sa.String(64)),
        sa.CheckConstraint("support_count >= 0", name="ck_board_questions_support_count"),
        sa.CheckConstraint("status IN ('unanswered', 'in_writing', 'in_plenary')", name="ck_board_questions_status"),
        sa.CheckConstraint("language IN ('fr', 'nl', 'en')", name="ck_board_questions_language"),
    )
    op.create_index("ix_board_questions_assembly", "board_questions", ["tenant", "assembly_id", "submitted_at"])
    op.create_index("ix_board_questions_author", "board_questions", ["tenant", "author_id", "submitted_at"])
    op.create_table(
        "board_question_supports",
        sa.Column("support_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("question_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(200), nullable=False),
        sa.Column("supported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.ForeignKeyConstraint(["question_id"], ["board_questions.question_id"],
                                name="fk_board_question_supports_question"),
    )
    op.create_index("uq_board_question_supports_active", "board_question_supports", ["question_id", "member_id"],
                    unique=True, postgresql_where=sa.text(ACTIVE_SUPPORT), sqlite_where=sa.text(ACTIVE_SUPPORT))
    op.create_index("ix_board_question_supports_member", "board_question_supports",
                    ["tenant", "member_id", "question_id"])
    op.create_index("ix_board_question_supports_question", "board_question_supports", ["question_id", "supported_at"])


def downgrade() -> None:
    op.drop_table("board_question_supports")
    op.drop_table("board_questions")
