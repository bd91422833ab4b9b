"""What every elections repository module shares: the session, its dialect, and the cached
statements of the hot paths (a ballot, a sign-in), built once per dialect with bound parameters
(coop_platform.sqlkit.statement): building a statement and its cache key on each call cost about
as much CPU as running it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from coop_domain.clock import as_utc
from coop_elections.adapters import orm
from coop_platform.sqlkit import Dialect, dialect_of, statement


def utc_or_none(value: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return None if value is None else as_utc(value)


@statement
def election_by_id(dialect: Dialect, lock: str) -> Any:
    """One election of a tenant; lock "", "share" or "update" (row locks on PostgreSQL)."""
    e = orm.elections.c
    query = select(orm.elections).where(e.election_id == bindparam("election_id"), e.tenant == bindparam("tenant"))
    return dialect.for_update(query, read=lock == "share") if lock else query


@statement
def roll_entry_by_voter() -> Any:
    r = orm.voter_roll.c
    return select(r.weight, r.category).where(r.election_id == bindparam("election_id"),
                                              r.voter_id == bindparam("voter_id"))


@statement
def mark_voted(dialect: Dialect, returning: bool) -> Any:
    """Into the register unless there already; `returning` (an executemany: one multi-row INSERT,
    compiled once) gives the voters newly in it."""
    stmt = dialect.insert(orm.voters_who_voted).on_conflict_do_nothing(index_elements=["election_id", "voter_id"])
    return stmt.returning(orm.voters_who_voted.c.voter_id) if returning else stmt


@statement
def add_ballots(dialect: Dialect) -> Any:
    return (dialect.insert(orm.ballots).on_conflict_do_nothing(index_elements=["election_id", "tracker"])
            .returning(orm.ballots.c.tracker))


class Rows:
    """Base of the repository parts: one session and its dialect."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.dialect = dialect_of(session)

    def _locked_row(self, table: Any, election_id: str, key: str, value: str) -> Any:
        """One row of an election by its key, locked for this transaction on PostgreSQL (SQLite's
        transactions hold the whole file already)."""
        query = select(table).where(table.c.election_id == election_id, table.c[key] == value)
        return self.session.execute(self.dialect.for_update(query)).first()
