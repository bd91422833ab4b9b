"""What is dated: contribution rates, gapless numbering per series and year, closed years."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, or_, select, update

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule


class SqlYearRepository(SqlRepository):
    def schedule(self) -> RateSchedule:
        """The published defaults (since 2000) overlaid with every configured change."""
        rows = self.session.execute(select(orm.rates)).all()
        return RateSchedule.over_defaults({(RateKind(r.kind), r.effective_from): r.basis_points for r in rows})

    def add_rate(self, change: RateChange) -> bool:
        stmt = self.dialect.insert(orm.rates).values(
            kind=change.kind.value, effective_from=change.effective_from,
            basis_points=change.basis_points).on_conflict_do_nothing(index_elements=["kind", "effective_from"])
        return self.session.execute(stmt).rowcount == 1

    def next_number(self, series: str, year: int) -> int:
        """Take the next number of a (series, year) under a row lock held until commit.

        A rolled-back transaction gives its number back, so numbers are gapless; the
        lock makes concurrent issuers queue, so they are never duplicated.
        """
        first = self.take_numbers(series, year, 1)
        assert first is not None  # undated: never refused
        return first

    def take_numbers(self, series: str, year: int, count: int, *, first_on: date | None = None,
                     last_on: date | None = None) -> int | None:
        """Take `count` consecutive numbers (see next_number); returns the first of them.

        Dated documents give their earliest and latest date: the numbers are taken only if the
        earliest is not before the series' latest document so far (numbers follow dates), and
        that latest date moves on. None when it is before: nothing was taken, and the counter row
        stays locked until commit, so that `series_last_on` then reads the date that refused."""
        c = orm.number_counters.c
        where = [c.series == series, c.year == year]
        values: dict[str, Any] = {"last_value": c.last_value + count}
        if first_on is not None and last_on is not None:
            where.append(or_(c.last_on.is_(None), c.last_on <= first_on))
            values["last_on"] = case((or_(c.last_on.is_(None), c.last_on < last_on), last_on), else_=c.last_on)
        # One statement takes the row lock and the numbers: the lock is held for one round trip
        # less than SELECT ... FOR UPDATE followed by UPDATE (the counter is the issuing hot spot).
        take = update(orm.number_counters).where(*where).values(**values).returning(c.last_value)
        last = self.session.execute(take).scalar_one_or_none()
        if last is None:  # the series' first number this year (create its counter), or too early
            self.session.execute(
                self.dialect.insert(orm.number_counters).values(series=series, year=year, last_value=0)
                .on_conflict_do_nothing(index_elements=["series", "year"]))
            last = self.session.execute(take).scalar_one_or_none()
        return None if last is None else last - count + 1

    def series_last_on(self, series: str, year: int) -> date | None:
        """The date of the series' latest document, under the counter's row lock."""
        c = orm.number_counters.c
        query = select(c.last_on).where(c.series == series, c.year == year)
        return self.session.execute(self.dialect.for_update(query)).scalar_one_or_none()

    def fiscal_years(self, years: Iterable[int]) -> dict[int, Any]:
        """The rows of `years` (created when missing), held FOR SHARE until commit on PostgreSQL:
        CloseYear (close_year) waits for this transaction, or this one for CloseYear, so a write
        dated in a year never commits beside that year's closing. SQLite runs one writer at a time."""
        y = orm.fiscal_years.c
        wanted = sorted(set(years))
        query = select(orm.fiscal_years).where(y.year.in_(wanted)).order_by(y.year)
        query = self.dialect.for_update(query, read=True)
        rows = {r.year: r for r in self.session.execute(query)}
        missing = [year for year in wanted if year not in rows]
        if missing:
            self.session.execute(self.dialect.insert(orm.fiscal_years).values([{"year": year} for year in missing])
                                 .on_conflict_do_nothing(index_elements=["year"]))
            rows.update({r.year: r for r in self.session.execute(query.where(y.year.in_(missing)))})
        return rows

    def close_year(self, year: int, actor: str, now: datetime) -> tuple[Any, bool]:
        """Close a year: (its row, True when it was closed before). Takes the row FOR UPDATE, so it
        waits for every write still dated in that year (they hold it FOR SHARE)."""
        y = orm.fiscal_years.c
        self.session.execute(self.dialect.insert(orm.fiscal_years).values(year=year)
                             .on_conflict_do_nothing(index_elements=["year"]))
        row = self.session.execute(self.dialect.for_update(select(orm.fiscal_years).where(y.year == year))).one()
        if row.closed_at is not None:
            return row, True
        self.session.execute(update(orm.fiscal_years).where(y.year == year)
                             .values(closed_at=now, closed_by=actor[:100]))
        return self.session.execute(select(orm.fiscal_years).where(y.year == year)).one(), False
