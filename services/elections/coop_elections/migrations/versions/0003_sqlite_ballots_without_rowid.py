"""SQLite: the ballots and the register of who voted are stored WITHOUT ROWID

On SQLite a table's rowid numbers its rows in insertion order, so in any copy of the file the
n-th register row and the n-th ballot were cast together (up to a batch of casts). Stored by
their primary keys instead (the random tracker; the voter id), neither table keeps an
insertion order. The old tables' pages are overwritten as they are freed (secure_delete).
PostgreSQL has no such storage; nothing changes there (docs/elections.md, "Secrecy").

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _election_fk() -> sa.Column:
    return sa.Column("election_id", sa.String(36), sa.ForeignKey("elections.election_id"), primary_key=True)


TABLES: dict[str, Callable[[], list[sa.Column]]] = {
    "ballots": lambda: [
        _election_fk(),
        sa.Column("tracker", sa.String(14), primary_key=True),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("weight", sa.BigInteger, nullable=False),
        sa.Column("ballot_hash", sa.String(64), nullable=False),
        sa.Column("revote_hash", sa.String(64), nullable=True),
    ],
    "voters_who_voted": lambda: [
        _election_fk(),
        sa.Column("voter_id", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(10), nullable=False),
    ],
}


def _rebuild(with_rowid: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("PRAGMA secure_delete = ON")
    for name, columns in TABLES.items():
        fresh = columns()
        listed = ", ".join(c.name for c in fresh)
        op.create_table(f"{name}_rebuilt", *fresh, sqlite_with_rowid=with_rowid)
        op.execute(f"INSERT INTO {name}_rebuilt ({listed}) SELECT {listed} FROM {name}")
        op.drop_table(name)
        op.rename_table(f"{name}_rebuilt", name)


def upgrade() -> None:
    _rebuild(with_rowid=False)


def downgrade() -> None:
    _rebuild(with_rowid=True)
