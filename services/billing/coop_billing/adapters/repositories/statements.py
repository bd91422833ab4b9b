"""The figures of members' yearly statements, in set-based queries."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository
from coop_billing.domain.budget import EntryKind


class SqlStatementRepository(SqlRepository):
    STATEMENT_FIGURES = ("revenue", "contribution", "budget_in", "budget_out", "contracts", "social",
                         "employment", "gross", "share_fee")

    def statement_figures(self, member_id: str, year: int) -> dict[str, int]:
        return self.statement_figures_of([member_id], year)[member_id]

    def statement_figures_of(self, member_ids: list[str], year: int) -> dict[str, dict[str, int]]:
        """Each member's yearly figures (zeros where nothing happened): three grouped queries
        whatever the number of members, so a whole year's statements cost a few scans.

        Revenue and contribution are the ledger's: what payments credited that year, less the
        credit notes issued that year (a credit note counts in its own year), so that
        net = gross salaries + budget left - share fee, to the cent, in every year."""
        e, r, a, f = orm.ledger_entries.c, orm.payroll_runs.c, orm.activities.c, orm.share_fees.c
        first, last = date(year, 1, 1), date(year, 12, 31)
        out = {m: dict.fromkeys(self.STATEMENT_FIGURES, 0) for m in member_ids}
        wanted = list(out)

        def fill(query: Any, names: tuple[str, ...]) -> None:
            for member_id, *values in self.session.execute(query):
                out[member_id].update(zip(names, (int(v) for v in values), strict=True))

        def amounts(kind: EntryKind) -> Any:
            return func.coalesce(func.sum(e.amount_cents).filter(e.kind == kind.value), 0)

        fill(select(a.member_id, amounts(EntryKind.INVOICE) - amounts(EntryKind.CREDIT_NOTE),
                    amounts(EntryKind.REVENUE_CONTRIBUTION) - amounts(EntryKind.CONTRIBUTION_REVERSAL),
                    func.coalesce(func.sum(e.balance_delta).filter(e.balance_delta > 0), 0),
                    func.coalesce(-func.sum(e.balance_delta).filter(e.balance_delta < 0), 0))
             .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id))
             .where(a.member_id.in_(wanted), e.on >= first, e.on <= last).group_by(a.member_id),
             ("revenue", "contribution", "budget_in", "budget_out"))
        # Employment: the payroll runs paid that year (what was actually paid, not reserved).
        fill(select(r.member_id, func.count(func.distinct(r.contract_id)), func.sum(r.social_charges_cents),
                    func.sum(r.employment_contribution_cents), func.sum(r.gross_cents))
             .where(r.member_id.in_(wanted), r.paid_on >= first, r.paid_on <= last).group_by(r.member_id),
             ("contracts", "social", "employment", "gross"))
        fill(select(f.member_id, func.sum(f.amount_cents))
             .where(f.member_id.in_(wanted), f.year == year).group_by(f.member_id), ("share_fee",))
        return out

    def applied_rates_of(self, member_ids: list[str], year: int) -> dict[str, tuple[tuple[int, ...], tuple[int, ...]]]:
        """Per member, the rates actually applied in a year, ascending: (revenue contribution
        rates of the contributions taken that year, employment contribution rates of the payroll
        runs paid that year)."""
        e, a, i, r, k = orm.ledger_entries.c, orm.activities.c, orm.invoices.c, orm.payroll_runs.c, orm.contracts.c
        first, last = date(year, 1, 1), date(year, 12, 31)
        found: dict[str, tuple[set[int], set[int]]] = {m: (set(), set()) for m in member_ids}
        taken = (select(a.member_id, i.contribution_rate_bp)
                 .select_from(orm.ledger_entries.join(orm.activities, a.activity_id == e.activity_id)
                              .join(orm.invoices, i.number == e.reference))
                 .where(a.member_id.in_(list(found)), e.kind == EntryKind.REVENUE_CONTRIBUTION.value,
                        e.on >= first, e.on <= last).group_by(a.member_id, i.contribution_rate_bp))
        for member_id, rate in self.session.execute(taken):
            found[member_id][0].add(int(rate))
        paid = (select(r.member_id, k.employment_rate_bp)
                .select_from(orm.payroll_runs.join(orm.contracts, k.contract_id == r.contract_id))
                .where(r.member_id.in_(list(found)), r.paid_on >= first, r.paid_on <= last)
                .group_by(r.member_id, k.employment_rate_bp))
        for member_id, rate in self.session.execute(paid):
            found[member_id][1].add(int(rate))
        return {m: (tuple(sorted(rev)), tuple(sorted(emp))) for m, (rev, emp) in found.items()}
