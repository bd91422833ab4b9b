"""SQLAlchemy repository and unit of work for members and shares."""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from coop_membership.adapters import orm
from coop_membership.adapters.messages import member_to_pb, to_message
from coop_membership.domain.events import Event
from coop_membership.domain.model import (
    Category,
    Member,
    Share,
    ShareYear,
    Status,
    StatusChange,
    format_member_number,
)
from coop_platform.db import multirow_values
from coop_platform.unit_of_work import UnitOfWork

_MEMBER_COLUMNS = [c.name for c in orm.members.columns if c.name != "member_no"]

#: Another api process sees a changed share year after at most this delay.
SHARE_YEAR_CACHE_SECONDS = 5.0
_SHARE_YEAR_CACHE: dict[tuple[int, int], tuple[ShareYear, float]] = {}

# Map the domain classes as soon as the adapters are in use: an instance created
# before mapping would be invisible to the session.
orm.start_mappers()


@dataclass(frozen=True)
class MemberQuery:
    """Filters for listing and counting; empty means "any"."""

    statuses: tuple[Status, ...] = ()
    categories: tuple[Category, ...] = ()
    languages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    good_standing: bool | None = None
    text: str = ""
    after_member_no: int = 0
    limit: int = 50


def good_standing_clause(today: date, policy: ShareYear):
    """SQL twin of domain.model.good_standing (tests keep them equal)."""
    m = orm.members.c
    grace = timedelta(days=policy.grace_days)
    in_year_grace = today <= date(today.year, 1, 1) + grace
    paid = func.coalesce(m.paid_through_year, 0)
    # joined_on IS NOT NULL keeps NOT(clause) true for never-admitted rows (SQL NULL logic)
    clauses = [paid >= today.year, and_(m.joined_on.is_not(None), m.joined_on >= today - grace)]
    if in_year_grace:
        clauses.append(paid >= today.year - 1)
    return and_(m.status == Status.ACTIVE.value, or_(*clauses))


# built once: building a statement and its cache key costs about as much as running it
_ROW_BY_ID = select(orm.members).where(orm.members.c.member_id == bindparam("key"))
_ROW_BY_NUMBER = select(orm.members).where(orm.members.c.member_no == bindparam("key"))
_INSERT_HISTORY = insert(orm.status_history)
_SHARE_YEAR = select(orm.share_years).where(orm.share_years.c.year == bindparam("year"))


# SQLite's registration insert (PostgreSQL's is _members_with_history_text), sent as executemany
# of one statement built once: a .values(rows) statement would be compiled anew for every batch
_ADD_MEMBERS_SQLITE = sqlite.insert(orm.members).on_conflict_do_nothing(index_elements=["email"]).returning(
    orm.members.c.member_id, orm.members.c.member_no)


class SqlMemberRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- members
    def add_many(self, members: list[Member], history: Sequence[tuple[StatusChange, Member]] = ()) -> set[str]:
        """Insert new members (distinct emails) and, for those inserted, their first status
        changes (`history`: (change, its member) pairs, in order; each change gets the member's
        number); give each member its number; return the ids inserted. A member whose
        email is already taken (also by a concurrent insert) is skipped, not an error, so one
        duplicate never fails the others. On PostgreSQL this is one statement (one round trip
        instead of two: the api's batch is waiting on the database, and on the interpreter lock
        after each reply)."""
        if not members:
            return set()
        conn = self.session.connection()
        one_statement = conn.dialect.name == "postgresql"
        if one_statement:
            numbers = dict(conn.exec_driver_sql(*_members_with_history_sql(members, history)).all())
        else:
            rows = [dict(zip(_MEMBER_COLUMNS, _member_values(member), strict=True)) for member in members]
            numbers = dict(conn.execute(_ADD_MEMBERS_SQLITE, rows).all())
        for member in members:
            member.member_no = numbers.get(member.member_id)
        for change, member in history:
            change.member_no = member.member_no
        if not one_statement:
            self.insert_history([change for change, member in history if member.member_no is not None])
        return set(numbers)

    def get(self, member_id: str) -> Member | None:
        return self.session.scalars(select(Member).where(orm.members.c.member_id == member_id)).first()

    def get_for_update(self, member_id: str) -> Member | None:
        query = select(Member).where(orm.members.c.member_id == member_id)
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def get_by_no(self, member_no: int) -> Member | None:
        return self.session.get(Member, member_no)

    def email_taken(self, email: str, except_member_id: str | None = None) -> bool:
        query = select(orm.members.c.member_id).where(orm.members.c.email == email)
        with self.session.no_autoflush:  # a pending change to this email must not flush (and clash) first
            found = self.session.execute(query).scalars().all()
        return any(mid != except_member_id for mid in found)

    def emails_taken(self, emails: Iterable[str]) -> set[str]:
        wanted = list(set(emails))
        taken: set[str] = set()
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            taken.update(self.session.execute(
                select(orm.members.c.email).where(orm.members.c.email.in_(chunk))).scalars())
        return taken

    def _where(self, q: MemberQuery, today: date, policy: ShareYear) -> list[Any]:
        m = orm.members.c
        where: list[Any] = []
        if q.statuses:
            where.append(m.status.in_([s.value for s in q.statuses]))
        if q.categories:
            where.append(m.category.in_([c.value for c in q.categories]))
        if q.languages:
            where.append(m.preferred_language.in_(q.languages))
        if q.countries:
            where.append(m.country_of_residence.in_(q.countries))
        if q.good_standing is not None:
            clause = good_standing_clause(today, policy)
            where.append(clause if q.good_standing else ~clause)
        if q.text:
            text = q.text.strip().lower()
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            options = [
                func.lower(m.family_name).like(escaped, escape="\\"),
                func.lower(m.given_name).like(escaped, escape="\\"),
                m.email.like(escaped, escape="\\"),
            ]
            number = text.upper()
            if number.startswith("M") and number[1:].isascii() and number[1:].isdigit() and len(number) <= 12:
                options.append(m.member_no == int(number[1:]))
            where.append(or_(*options))
        return where

    def list(self, q: MemberQuery, today: date, policy: ShareYear) -> list[Member]:
        query = (
            select(Member)
            .where(orm.members.c.member_no > q.after_member_no, *self._where(q, today, policy))
            .order_by(orm.members.c.member_no)
            .limit(q.limit)
        )
        return list(self.session.scalars(query))

    def count(self, q: MemberQuery, today: date, policy: ShareYear) -> dict[str, Any]:
        m = orm.members.c
        where = self._where(q, today, policy)
        out: dict[str, Any] = {}
        out["total"] = self.session.execute(select(func.count()).select_from(orm.members).where(*where)).scalar_one()
        for key, column in (("status", m.status), ("category", m.category),
                            ("language", m.preferred_language), ("country", m.country_of_residence)):
            rows = self.session.execute(
                select(column, func.count()).where(*where).group_by(column).order_by(column)).all()
            out[key] = [(str(getattr(k, "value", k)), n) for k, n in rows]
        out["good_standing"] = self.session.execute(
            select(func.count()).select_from(orm.members).where(*where, good_standing_clause(today, policy))
        ).scalar_one()
        return out

    def history(self, member_no: int) -> list[StatusChange]:
        h = orm.status_history.c
        rows = self.session.execute(select(orm.status_history).where(h.member_no == member_no).order_by(h.id))
        return [StatusChange(r.from_status, r.to_status, r.reason, r.actor, r.at, r.member_no, r.id) for r in rows]

    def insert_history(self, changes: list[StatusChange]) -> None:
        """Append status changes (of members already written), in one statement."""
        if not changes:
            return
        self.session.connection().execute(_INSERT_HISTORY, [
            {"member_no": c.member_no, "from_status": c.from_status.value if c.from_status else None,
             "to_status": c.to_status.value, "reason": c.reason, "actor": c.actor, "at": c.at}
            for c in changes])

    def bulk_insert(self, rows: list[dict[str, Any]], history_rows: Callable[[list[int]], list[dict[str, Any]]]) -> list[int]:
        """Insert many members in one statement batch; returns their member numbers in order."""
        result = self.session.execute(
            insert(orm.members).returning(orm.members.c.member_no, sort_by_parameter_order=True), rows)
        numbers = [r[0] for r in result]
        history = history_rows(numbers)
        if history:
            self.session.execute(insert(orm.status_history), history)
        return numbers

    # -- shares
    def share_year(self, year: int) -> ShareYear:
        return _cached_share_year(self.session.connection(), year)

    def save_share_year(self, policy: ShareYear) -> ShareYear:
        saved = self.session.merge(policy)
        _SHARE_YEAR_CACHE.pop((self.session.get_bind().url, policy.year), None)
        return saved

    def share(self, member_no: int, year: int) -> Share | None:
        return self.session.scalars(select(Share).where(
            orm.shares.c.member_no == member_no, orm.shares.c.year == year)).first()

    def share_by_reference(self, reference: str) -> Share | None:
        return self.session.scalars(select(Share).where(orm.shares.c.payment_reference == reference)).first()

    def shares_of(self, member_no: int) -> list[Share]:
        return list(self.session.scalars(
            select(Share).where(orm.shares.c.member_no == member_no).order_by(orm.shares.c.year)))

    def add_share(self, share: Share) -> Share:
        self.session.add(share)
        self.session.flush()
        return share

    def paid_through_year(self, member_no: int) -> int | None:
        return self.session.execute(select(func.max(orm.shares.c.year)).where(
            orm.shares.c.member_no == member_no, orm.shares.c.state == "paid")).scalar_one()


_MEMBER_INSERT_COLUMNS = ", ".join(_MEMBER_COLUMNS)


@functools.lru_cache(maxsize=512)
def _members_with_history_text(members: int, changes: int) -> str:
    """PostgreSQL: insert the members, then (in the same statement, through a data-modifying CTE)
    the history rows of those the ON CONFLICT let through, in the given order; return the
    inserted (member_id, member_no). One text per batch shape, parameters in psycopg2 style."""
    member_values = multirow_values(members, len(_MEMBER_COLUMNS))
    sql = (f"WITH new AS (INSERT INTO members ({_MEMBER_INSERT_COLUMNS}) VALUES {member_values} "
           "ON CONFLICT (email) DO NOTHING RETURNING member_id, member_no)")
    if changes:
        change_values = multirow_values(changes, row="(%s, %s::varchar, %s, %s, %s, %s::timestamptz, %s::int)")
        sql += (", history AS (INSERT INTO member_status_history (member_no, from_status, to_status, reason, actor, at) "
                "SELECT new.member_no, h.from_status, h.to_status, h.reason, h.actor, h.at "
                f"FROM (VALUES {change_values}) AS h(member_id, from_status, to_status, reason, actor, at, n) "
                "JOIN new ON new.member_id = h.member_id ORDER BY h.n)")
    return sql + " SELECT member_id, member_no FROM new"


def _member_values(member: Member) -> list[Any]:
    """The member's column values in _MEMBER_COLUMNS order, enums as stored."""
    return [Status(member.status).value if f == "status" else Category(member.category).value if f == "category"
            else getattr(member, f) for f in _MEMBER_COLUMNS]


def _members_with_history_sql(members: list[Member], history: Sequence[tuple[StatusChange, Member]]) -> tuple[str, tuple]:
    params: list[Any] = []
    for member in members:
        params += _member_values(member)
    for n, (change, member) in enumerate(history):
        params += [member.member_id, change.from_status.value if change.from_status else None,
                   change.to_status.value, change.reason, change.actor, change.at, n]
    return _members_with_history_text(len(members), len(history)), tuple(params)


def _cached_share_year(conn: Connection, year: int) -> ShareYear:
    """The year's share rules, cached per process for a few seconds: every read of good
    standing needs them and they change about once a year. One cache per database URL (tests
    run several), shared by its write and read engines (save_share_year drops the entry)."""
    key = (conn.engine.url, year)
    cached = _SHARE_YEAR_CACHE.get(key)
    now = time.monotonic()
    if cached is not None and cached[1] > now:
        return cached[0]
    row = conn.execute(_SHARE_YEAR, {"year": year}).first()
    policy = (ShareYear(year=row.year, amount_cents=row.amount_cents, grace_days=row.grace_days)
              if row else ShareYear(year=year))
    _SHARE_YEAR_CACHE[key] = (policy, now + SHARE_YEAR_CACHE_SECONDS)
    return policy


class MemberReads:
    """GetMember's query side on a plain autocommit connection (UnitOfWork.reading): table rows,
    no ORM objects, no transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def row(self, key: int | str) -> Any:
        """The member's table row by number (int) or id (str); attributes named as on Member."""
        stmt = _ROW_BY_NUMBER if isinstance(key, int) else _ROW_BY_ID
        return self.conn.execute(stmt, {"key": key}).first()

    def share_year(self, year: int) -> ShareYear:
        return _cached_share_year(self.conn, year)


class MembershipUnitOfWork(UnitOfWork):
    """Repository + outbox in one transaction."""

    members: SqlMemberRepository

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        orm.start_mappers()
        super().__init__(session_factory, source="membership")

    def _open(self) -> None:
        self.members = SqlMemberRepository(self.session)

    def member_answer(self, view: Any) -> bytes:
        """The api's reply to a registration, as stored for its retries (AIP-155 request_id)."""
        return member_to_pb(view.member, view.in_good_standing).SerializeToString()

    def publish(self, event: Event, *, correlation_id: str | None = None) -> str:
        name, message, subject = to_message(event)
        return self.emit(name, message, subject=subject, correlation_id=correlation_id)

    @contextlib.contextmanager
    def member_reads(self) -> Iterator[MemberReads]:
        """The query side, without entering the unit: `with uow_factory().member_reads() as reads:`."""
        with self.reading() as conn:
            yield MemberReads(conn)


__all__ = ["MemberQuery", "MemberReads", "MembershipUnitOfWork", "SqlMemberRepository", "format_member_number"]
