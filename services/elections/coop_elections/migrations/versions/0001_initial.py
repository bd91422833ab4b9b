"""elections, voter roll, register, ballots, paper ballots, candidacies, proxies, results,
member projection, outbox and inbox

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from coop_platform.tables import create_platform_tables, drop_platform_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _election_fk() -> sa.Column:
    return sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"),
                     primary_key=True)


def upgrade() -> None:
    create_platform_tables(op)
    op.create_table(
        "elections",
        sa.Column("election_id", sa.String(36), primary_key=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("texts", sa.Text, nullable=False),
        sa.Column("questions", sa.Text, nullable=False),
        sa.Column("opens_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("assembly_day", sa.Date, nullable=False),
        sa.Column("closes_local", sa.String(5), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("roll_cutoff", sa.DateTime(timezone=True), nullable=False),
        sa.Column("allow_revote", sa.Boolean, nullable=False),
        sa.Column("max_proxies_held", sa.Integer, nullable=False),
        sa.Column("nominations_open", sa.DateTime(timezone=True), nullable=True),
        sa.Column("nominations_close", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_permanent_staff_seats", sa.Integer, nullable=False),
        sa.Column("tie_break_seed", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("roll_frozen", sa.Boolean, nullable=False),
        sa.Column("roll_size", sa.BigInteger, nullable=True),
        sa.Column("roll_weight", sa.BigInteger, nullable=True),
        sa.Column("roll_hash", sa.String(64), nullable=True),
        sa.Column("closing_soon_sent", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_elections_tenant", "elections", ["tenant"])
    op.create_index("ix_elections_status", "elections", ["status"])
    op.create_table(
        "voter_roll",
        _election_fk(),
        sa.Column("voter_id", sa.String(100), primary_key=True),
        sa.Column("weight", sa.BigInteger, nullable=False),
        sa.Column("category", sa.String(30), nullable=True),
    )
    op.create_table(
        "voters_who_voted",
        _election_fk(),
        sa.Column("voter_id", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
    )
    op.create_table(
        "ballots",
        _election_fk(),
        sa.Column("tracker", sa.String(14), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("weight", sa.BigInteger, nullable=False),
        sa.Column("ballot_hash", sa.String(64), nullable=False),
        sa.Column("revote_hash", sa.String(64), nullable=True),
    )
    op.create_table(
        "superseded_ballots",
        _election_fk(),
        sa.Column("marker", sa.String(36), primary_key=True),
    )
    op.create_table(
        "paper_ballots",
        _election_fk(),
        sa.Column("paper_id", sa.String(40), primary_key=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("content", sa.Text, nullable=True),
        sa.Column("first_teller", sa.String(100), nullable=True),
    )
    op.create_table(
        "candidacies",
        _election_fk(),
        sa.Column("question_id", sa.String(64), primary_key=True),
        sa.Column("candidate_id", sa.String(100), primary_key=True),
        sa.Column("statement", sa.Text, nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("withdrawn", sa.Boolean, nullable=False),
    )
    op.create_table(
        "proxies",
        _election_fk(),
        sa.Column("giver_id", sa.String(100), primary_key=True),
        sa.Column("holder_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
    )
    op.create_table(
        "election_results",
        _election_fk(),
        sa.Column("results_json", sa.Text, nullable=False),
        sa.Column("box_json", sa.Text, nullable=False),
        sa.Column("election_json", sa.Text, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "member_projection",
        sa.Column("member_id", sa.String(36), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("in_good_standing", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    for table in ("member_projection", "election_results", "proxies", "candidacies",
                  "paper_ballots", "superseded_ballots", "ballots", "voters_who_voted", "voter_roll", "elections"):
        op.drop_table(table)
    drop_platform_tables(op)
