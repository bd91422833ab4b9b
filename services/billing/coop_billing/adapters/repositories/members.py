"""The member projection (fed by membership's events) and its pages."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_domain.clock import utcnow


class SqlMemberRepository(SqlRepository):
    def member(self, member_id: str, *, lock: bool = False) -> Any:
        query = select(orm.members).where(orm.members.c.member_id == member_id)
        return self.session.execute(self.dialect.for_update(query) if lock else query).first()

    def ensure_member_row(self, member_id: str) -> None:
        self.session.execute(
            self.dialect.insert(orm.members)
            .values(member_id=member_id, updated_at=utcnow(), status="active", in_good_standing=False)
            .on_conflict_do_nothing(index_elements=["member_id"]))

    def update_member(self, member_id: str, **values: Any) -> None:
        self.session.execute(update(orm.members).where(orm.members.c.member_id == member_id)
                             .values(updated_at=utcnow(), **values))

    def active_members_without_fee(self, year: int, after: str, limit: int) -> list[str]:
        fee = orm.share_fees.c
        m = orm.members.c
        query = (
            select(m.member_id).where(
                m.status == "active", m.member_id > after,
                ~select(fee.fee_id).where(fee.member_id == m.member_id, fee.year == year).exists())
            .order_by(m.member_id).limit(limit))
        return list(self.session.execute(query).scalars())

    def member_count(self, after: str = "") -> int:
        return self.session.execute(select(func.count()).select_from(orm.members)
                                    .where(orm.members.c.member_id > after)).scalar_one()

    def members_page(self, after: str, limit: int) -> list[Any]:
        """Members of the projection in id order, after `after` (keyset pagination)."""
        m = orm.members.c
        return list(self.session.execute(
            select(orm.members).where(m.member_id > after).order_by(m.member_id).limit(limit)))
