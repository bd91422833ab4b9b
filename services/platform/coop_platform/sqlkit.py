"""What repositories need beyond SQLAlchemy: one statement cache and the few dialect differences.

- `@statement`: build a statement once per shape (its hashable arguments) and reuse it. Building
  a Core statement and its cache key on every call cost about as much CPU as running it, on the
  hot paths (a ballot, a registration batch, an outbox insert).
- `Dialect`: PostgreSQL and SQLite differ in a handful of places only (upserts, row locks, one
  multi-row driver statement). Repositories ask `dialect_of(session)` instead of testing
  `dialect.name`, so the differences sit here, once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

P = ParamSpec("P")
R = TypeVar("R")


def statement(builder: Callable[P, R]) -> Callable[P, R]:
    """Cache what `builder` returns for each combination of its (hashable) arguments."""
    return functools.lru_cache(maxsize=512)(builder)  # type: ignore[return-value]


@dataclass(frozen=True)
class Dialect:
    name: str

    @property
    def is_postgresql(self) -> bool:
        return self.name == "postgresql"

    @property
    def is_sqlite(self) -> bool:
        return self.name == "sqlite"

    def insert(self, table: Table) -> Any:
        """An INSERT that supports `on_conflict_do_nothing/update` on this database."""
        return (postgresql.insert if self.is_postgresql else sqlite.insert)(table)

    def for_update(self, query: Any, *, read: bool = False, skip_locked: bool = False) -> Any:
        """Lock the selected rows until commit (PostgreSQL; `skip_locked`: leave rows another
        transaction holds to it); SQLite's BEGIN IMMEDIATE already serialises writers, and it
        has no row locks."""
        return query.with_for_update(read=read, skip_locked=skip_locked) if self.is_postgresql else query

    @property
    def has_row_locks(self) -> bool:
        """Whether a transaction can lock rows alone (PostgreSQL); on SQLite a write
        transaction locks the whole file, so it must never span I/O such as publishing."""
        return self.is_postgresql

    @property
    def one_driver_statement(self) -> bool:
        """Whether many rows go best as one multi-row VALUES text handed to the driver
        (psycopg2); elsewhere an executemany is as good."""
        return self.is_postgresql


POSTGRESQL, SQLITE = Dialect("postgresql"), Dialect("sqlite")


def dialect_of(bind: Session | Connection | Engine) -> Dialect:
    name = (bind.get_bind() if isinstance(bind, Session) else bind).dialect.name
    return POSTGRESQL if name == "postgresql" else SQLITE if name == "sqlite" else Dialect(name)
