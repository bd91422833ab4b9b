"""SQL repository of shares and the yearly share rules, with the share-year cache every read
of good standing uses."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from coop_membership.adapters import orm
from coop_membership.domain.model import Share, ShareState, ShareYear
from coop_platform.sqlkit import statement

#: Another api process sees a changed share year after at most this delay.
SHARE_YEAR_CACHE_SECONDS = 5.0
_SHARE_YEAR_CACHE: dict[tuple[Any, int], tuple[ShareYear, float]] = {}


@statement
def _share_year_row() -> Any:
    return select(orm.share_years).where(orm.share_years.c.year == bindparam("year"))


def cached_share_year(conn: Connection, year: int) -> ShareYear:
    """The year's share rules, cached per process for a few seconds: every read of good
    standing needs them and they change about once a year. One cache per database URL (tests
    run several), shared by its write and read engines (save_share_year drops the entry)."""
    key = (conn.engine.url, year)
    cached = _SHARE_YEAR_CACHE.get(key)
    now = time.monotonic()
    if cached is not None and cached[1] > now:
        return cached[0]
    row = conn.execute(_share_year_row(), {"year": year}).first()
    policy = (ShareYear(year=row.year, amount_cents=row.amount_cents, grace_days=row.grace_days)
              if row else ShareYear(year=year))
    _SHARE_YEAR_CACHE[key] = (policy, now + SHARE_YEAR_CACHE_SECONDS)
    return policy


class SqlShareRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def share_year(self, year: int) -> ShareYear:
        return cached_share_year(self.session.connection(), year)

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
            orm.shares.c.member_no == member_no, orm.shares.c.state == ShareState.PAID.value)).scalar_one()
