"""Revenue per member for redistribution envelopes, and their payouts."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, insert, select

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_billing.domain.budget import EntryKind


class SqlRedistributionRepository(SqlRepository):
    def revenue_by_member(self, start: date | None, end: date | None) -> list[tuple[str, int, str]]:
        """(member id, revenue excl. VAT, sector of their largest activity) over a period, on the
        paid basis: what clients' payments credited to the members' budgets in the period, less
        the credit notes issued in it (an invoice never paid counts for nothing)."""
        e, a = orm.ledger_entries.c, orm.activities.c
        where = [e.kind.in_((EntryKind.INVOICE.value, EntryKind.CREDIT_NOTE.value))]
        if start:
            where.append(e.on >= start)
        if end:
            where.append(e.on <= end)
        signed = func.sum(case((e.kind == EntryKind.INVOICE.value, e.amount_cents), else_=-e.amount_cents))
        rows = self.session.execute(
            select(a.member_id, a.sector_code, signed)
            .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id))
            .where(*where).group_by(a.member_id, a.sector_code)).all()
        best: dict[str, tuple[int, str]] = {}
        totals: dict[str, int] = {}
        for member_id, sector, revenue in rows:
            revenue = int(revenue)
            totals[member_id] = totals.get(member_id, 0) + revenue
            if member_id not in best or (revenue, sector) > best[member_id]:
                best[member_id] = (revenue, sector)
        return sorted((m, totals[m], best[m][1]) for m in totals)

    def envelope(self, envelope_id: str) -> Any:
        return self.session.execute(select(orm.envelopes).where(
            orm.envelopes.c.envelope_id == envelope_id)).first()

    def add_envelope(self, **values: Any) -> bool:
        stmt = self.dialect.insert(orm.envelopes).values(**values).on_conflict_do_nothing(
            index_elements=["envelope_id"])
        return self.session.execute(stmt).rowcount == 1

    def add_payouts(self, rows: list[dict[str, Any]]) -> None:
        for start in range(0, len(rows), 5000):
            self.session.execute(insert(orm.payouts), rows[start:start + 5000])

    def payouts(self, envelope_id: str, after: str, limit: int) -> list[Any]:
        p = orm.payouts.c
        return list(self.session.execute(select(orm.payouts).where(
            p.envelope_id == envelope_id, p.member_id > after).order_by(p.member_id).limit(limit)))
