"""Tables of the board-meetings service (SQLAlchemy Core), one module per family of aggregates
sharing this `metadata`. Every table carries the tenant or hangs off a row that does."""

from __future__ import annotations

from sqlalchemy import MetaData

from coop_platform.idempotency import idempotency_table
from coop_platform.tables import add_platform_tables

metadata = MetaData()
add_platform_tables(metadata)
idempotency_keys = idempotency_table(metadata)  # request_id -> first answer (every retryable write)

# Each family's module adds its tables to `metadata` when imported.
from coop_board.adapters import (  # noqa: E402,F401
    orm_assembly,
    orm_dossiers,
    orm_initiatives,
    orm_meetings,
    orm_minutes,
    orm_observers,
    orm_roster,
)
