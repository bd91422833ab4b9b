"""SQL repository of the member aggregate (members and their status history) and GetMember's
query side. Statements are built once per shape (coop_platform.sqlkit.statement); the PostgreSQL
fast path of registration (one statement for members and history) sits behind
`dialect_of(...).one_driver_statement`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select
from sqlalchemy.orm import Session

from coop_membership.adapters import orm
from coop_membership.adapters.repositories_shares import cached_share_year
from coop_membership.domain.model import Category, Member, ShareYear, Status, StatusChange
from coop_membership.service_layer.ports import MemberQuery
from coop_platform.db import multirow_values
from coop_platform.sqlkit import Dialect, dialect_of, statement

_MEMBER_COLUMNS = [c.name for c in orm.members.columns if c.name != "member_no"]

# Map the domain classes as soon as the adapters are in use: an instance created
# before mapping would be invisible to the session.
orm.start_mappers()


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


@statement
def _member_row(by_number: bool) -> Any:
    """GetMember's read of one row, by number or by id."""
    column = orm.members.c.member_no if by_number else orm.members.c.member_id
    return select(orm.members).where(column == bindparam("key"))


@statement
def _member_by_id(dialect: Dialect, lock: bool) -> Any:
    query = select(Member).where(orm.members.c.member_id == bindparam("member_id"))
    return dialect.for_update(query) if lock else query


@statement
def _insert_history() -> Any:
    return insert(orm.status_history)


@statement
def _add_members(dialect: Dialect) -> Any:
    """Registration's insert where it is not one driver statement (SQLite), sent as executemany
    of one statement: a .values(rows) statement would be compiled anew for every batch."""
    return dialect.insert(orm.members).on_conflict_do_nothing(index_elements=["email"]).returning(
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
        dialect = dialect_of(conn)
        one_statement = dialect.one_driver_statement
        if one_statement:
            numbers = dict(conn.exec_driver_sql(*_members_with_history_sql(members, history)).all())
        else:
            rows = [dict(zip(_MEMBER_COLUMNS, _member_values(member), strict=True)) for member in members]
            numbers = dict(conn.execute(_add_members(dialect), rows).all())
        for member in members:
            member.member_no = numbers.get(member.member_id)
        for change, member in history:
            change.member_no = member.member_no
        if not one_statement:
            self.insert_history([change for change, member in history if member.member_no is not None])
        return set(numbers)

    def get(self, member_id: str) -> Member | None:
        return self._by_id(member_id, lock=False)

    def get_for_update(self, member_id: str) -> Member | None:
        return self._by_id(member_id, lock=True)

    def _by_id(self, member_id: str, *, lock: bool) -> Member | None:
        query = _member_by_id(dialect_of(self.session), lock)
        return self.session.scalars(query, {"member_id": member_id}).first()

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
        self.session.connection().execute(_insert_history(), [
            {"member_no": c.member_no, "from_status": c.from_status.value if c.from_status else None,
             "to_status": c.to_status.value, "reason": c.reason, "actor": c.actor, "at": c.at}
            for c in changes])

    def import_many(self, members: list[Member], reason: str, actor: str) -> None:
        """Insert imported members in one statement batch, numbered in order, with one history
        row each (their status, `reason`, at their creation)."""
        rows = [dict(zip(_MEMBER_COLUMNS, _member_values(member), strict=True)) for member in members]
        result = self.session.execute(
            insert(orm.members).returning(orm.members.c.member_no, sort_by_parameter_order=True), rows)
        for member, (number,) in zip(members, result, strict=True):
            member.member_no = number
        self.insert_history([StatusChange(None, Status(m.status), reason, actor, m.created_at, member_no=m.member_no)
                             for m in members])


_MEMBER_INSERT_COLUMNS = ", ".join(_MEMBER_COLUMNS)


@statement
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


class MemberReads:
    """GetMember's query side on a plain autocommit connection (UnitOfWork.reading): table rows,
    no ORM objects, no transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def row(self, key: int | str) -> Any:
        """The member's table row by number (int) or id (str); attributes named as on Member."""
        return self.conn.execute(_member_row(isinstance(key, int)), {"key": key}).first()

    def share_year(self, year: int) -> ShareYear:
        return cached_share_year(self.conn, year)
