"""Platform tables every service database carries: the outbox and the inbox.

`outbox_table` and `inbox_table` give the current shape (what the code reads and writes).
Each shape change reaches every service through a revision in that service's own Alembic
history calling one helper below; the first revision of every service calls
`create_platform_tables`, which therefore keeps creating the first shape for ever.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL wants a BIGINT identity.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

#: Rows the relay still has to publish: neither sent nor set aside by the relay.
PENDING_ROWS = "published_at IS NULL AND quarantined_at IS NULL"
_PENDING_ROWS_V1 = "published_at IS NULL"
_SENT_ROWS = "published_at IS NOT NULL"
_QUARANTINED_ROWS = "quarantined_at IS NOT NULL"


def _outbox_columns() -> list[Column]:
    return [
        Column("seq", BigIntPK, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("exchange", String(100), nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        Column("last_error", Text, nullable=True),
    ]


def outbox_table(metadata: MetaData) -> Table:
    """The outbox as the code uses it. A row is pending, sent (`published_at`) or quarantined
    (`quarantined_at`: the broker refused it alone while rows after it went through, so the
    relay set it aside with its `last_error` until an operator releases it)."""
    return Table(
        "outbox",
        metadata,
        *_outbox_columns(),
        Column("quarantined_at", DateTime(timezone=True), nullable=True),
        Index("ix_outbox_pending", "seq",
              postgresql_where=text(PENDING_ROWS), sqlite_where=text(PENDING_ROWS)),
        # the retention purge deletes sent rows by age, and quarantined ones by quarantine age
        Index("ix_outbox_sent_created_at", "created_at",
              postgresql_where=text(_SENT_ROWS), sqlite_where=text(_SENT_ROWS)),
        Index("ix_outbox_quarantined", "quarantined_at",
              postgresql_where=text(_QUARANTINED_ROWS), sqlite_where=text(_QUARANTINED_ROWS)),
    )


def _outbox_table_v1(metadata: MetaData) -> Table:
    return Table(
        "outbox",
        metadata,
        *_outbox_columns(),
        Index("ix_outbox_pending", "seq",
              postgresql_where=text(_PENDING_ROWS_V1), sqlite_where=text(_PENDING_ROWS_V1)),
    )


def inbox_table(metadata: MetaData) -> Table:
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(200), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def add_platform_tables(metadata: MetaData) -> tuple[Table, Table]:
    return outbox_table(metadata), inbox_table(metadata)


def create_platform_tables(op: Any) -> None:
    """For a service's first Alembic migration: create the outbox and inbox tables (v1 shape;
    later shapes come from the upgrade helpers below, called by later revisions)."""
    scratch = MetaData()
    _outbox_table_v1(scratch)
    inbox_table(scratch)
    scratch.create_all(bind=op.get_bind())


def drop_platform_tables(op: Any) -> None:
    op.drop_table("processed_events")
    op.drop_table("outbox")


def upgrade_outbox_quarantine(op: Any) -> None:
    """Outbox v2 (hardening, points 4 and 7): `quarantined_at`, pending rows exclude quarantined
    ones, and the indexes the retention purge of sent and quarantined rows needs."""
    import sqlalchemy as sa

    op.add_column("outbox", sa.Column("quarantined_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.create_index("ix_outbox_pending", "outbox", ["seq"],
                    postgresql_where=sa.text(PENDING_ROWS), sqlite_where=sa.text(PENDING_ROWS))
    op.create_index("ix_outbox_sent_created_at", "outbox", ["created_at"],
                    postgresql_where=sa.text(_SENT_ROWS), sqlite_where=sa.text(_SENT_ROWS))
    op.create_index("ix_outbox_quarantined", "outbox", ["quarantined_at"],
                    postgresql_where=sa.text(_QUARANTINED_ROWS), sqlite_where=sa.text(_QUARANTINED_ROWS))


def downgrade_outbox_quarantine(op: Any) -> None:
    """Back to outbox v1: quarantined rows become pending again (the relay retries them)."""
    import sqlalchemy as sa

    op.drop_index("ix_outbox_quarantined", table_name="outbox")
    op.drop_index("ix_outbox_sent_created_at", table_name="outbox")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("quarantined_at")
    op.create_index("ix_outbox_pending", "outbox", ["seq"],
                    postgresql_where=sa.text(_PENDING_ROWS_V1), sqlite_where=sa.text(_PENDING_ROWS_V1))
