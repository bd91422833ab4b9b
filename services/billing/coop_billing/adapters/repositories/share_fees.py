"""Annual share fees and their (partial) payments."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select, update

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_domain.clock import utcnow


class SqlShareFeeRepository(SqlRepository):
    def share_fee_payment(self, bank_reference: str) -> Any:
        """The payment of that reference with its fee's member and year, or None."""
        p, f = orm.share_fee_payments.c, orm.share_fees.c
        return self.session.execute(
            select(orm.share_fee_payments, f.member_id, f.year)
            .select_from(orm.share_fee_payments.join(orm.share_fees, f.fee_id == p.fee_id))
            .where(p.bank_reference == bank_reference)).first()

    def add_share_fee_payment(self, **values: Any) -> bool:
        """True when recorded; False when that bank reference was taken meanwhile."""
        stmt = self.dialect.insert(orm.share_fee_payments).values(**values).on_conflict_do_nothing(
            index_elements=["bank_reference"])
        return self.session.execute(stmt).rowcount == 1

    def share_fee_payments_of(self, fee_ids: Iterable[str]) -> dict[str, list[Any]]:
        """Payments per fee id, oldest first."""
        p = orm.share_fee_payments.c
        out: dict[str, list[Any]] = {fee_id: [] for fee_id in fee_ids}
        if out:
            for row in self.session.execute(select(orm.share_fee_payments).where(p.fee_id.in_(list(out)))
                                            .order_by(p.recorded_at, p.bank_reference)):
                out[row.fee_id].append(row)
        return out

    def share_fee(self, member_id: str, year: int, *, lock: bool = False) -> Any:
        f = orm.share_fees.c
        query = select(orm.share_fees).where(f.member_id == member_id, f.year == year)
        return self.session.execute(self.dialect.for_update(query) if lock else query).first()

    def add_share_fee(self, **values: Any) -> bool:
        stmt = self.dialect.insert(orm.share_fees).values(created_at=utcnow(), **values) \
            .on_conflict_do_nothing(index_elements=["member_id", "year"])
        return self.session.execute(stmt).rowcount == 1

    def update_share_fee(self, fee_id: str, **values: Any) -> None:
        self.session.execute(update(orm.share_fees).where(orm.share_fees.c.fee_id == fee_id).values(**values))

    def share_fee_count(self, year: int) -> int:
        return int(self.session.execute(select(func.count()).select_from(orm.share_fees)
                                        .where(orm.share_fees.c.year == year)).scalar_one())

    def share_fees_of(self, member_id: str) -> list[Any]:
        f = orm.share_fees.c
        return list(self.session.execute(select(orm.share_fees).where(f.member_id == member_id).order_by(f.year)))
