"""Activities and their budget ledgers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, insert, select

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository, keyset_page
from coop_billing.domain.budget import ActivityLedger, EntryKind, LedgerEntry
from coop_domain.clock import utcnow


class SqlActivityRepository(SqlRepository):
    def add_activity(self, **values: Any) -> None:
        self.session.execute(insert(orm.activities).values(created_at=utcnow(), **values))

    def activity(self, activity_id: str, *, lock: bool = False) -> Any:
        query = select(orm.activities).where(orm.activities.c.activity_id == activity_id)
        return self.session.execute(self.dialect.for_update(query) if lock else query).first()

    def activities_with_standing(self, activity_ids: Iterable[str]) -> dict[str, Any]:
        """Activities with their member's projected standing, by id, in one query (the invoicing
        path): member_status and in_good_standing are None when billing has not heard of the member."""
        a, m = orm.activities, orm.members.c
        rows = self.session.execute(
            select(a, m.status.label("member_status"), m.in_good_standing, m.member_number)
            .select_from(a.outerjoin(orm.members, m.member_id == a.c.member_id))
            .where(a.c.activity_id.in_(set(activity_ids))))
        return {r.activity_id: r for r in rows}

    def activities_of(self, member_id: str, after: tuple[str, ...], limit: int) -> list[Any]:
        a = orm.activities.c
        query = select(orm.activities).where(a.member_id == member_id)
        return list(self.session.execute(keyset_page(query, a.created_at, a.activity_id, after, limit)))

    def ledger(self, activity_id: str, *, reference: str | None = None) -> ActivityLedger:
        """The activity's ledger (every entry, or only those of one reference)."""
        e = orm.ledger_entries.c
        query = select(orm.ledger_entries).where(e.activity_id == activity_id)
        if reference is not None:
            query = query.where(e.reference == reference)
        rows = self.session.execute(query.order_by(e.entry_id)).all()
        return ActivityLedger(activity_id, [
            LedgerEntry(i, EntryKind(r.kind), r.amount_cents, r.on, r.reference, r.contract_id,
                        r.balance_delta, r.reserved_delta)
            for i, r in enumerate(rows, start=1)])

    def add_entries(self, activity_id: str, entries: Iterable[LedgerEntry]) -> None:
        self.add_entries_of([(activity_id, x) for x in entries])

    def add_entries_of(self, entries: Iterable[tuple[str, LedgerEntry]]) -> None:
        """Entries of several activities, (activity id, entry) in posting order, in one statement."""
        rows = [dict(activity_id=activity_id, kind=x.kind.value, amount_cents=x.amount_cents, on=x.on,
                     reference=x.reference, contract_id=x.contract_id, balance_delta=x.balance_delta,
                     reserved_delta=x.reserved_delta) for activity_id, x in entries]
        if rows:
            self.session.execute(insert(orm.ledger_entries), rows)

    def entries_page(self, activity_id: str, after_id: int, limit: int) -> list[Any]:
        e = orm.ledger_entries.c
        return list(self.session.execute(
            select(orm.ledger_entries).where(e.activity_id == activity_id, e.entry_id > after_id)
            .order_by(e.entry_id).limit(limit)))

    def balances(self, activity_id: str) -> tuple[int, int]:
        e = orm.ledger_entries.c
        balance, reserved = self.session.execute(
            select(func.coalesce(func.sum(e.balance_delta), 0), func.coalesce(func.sum(e.reserved_delta), 0))
            .where(e.activity_id == activity_id)).one()
        return int(balance), int(reserved)
