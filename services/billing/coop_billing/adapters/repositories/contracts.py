"""Employment contracts and their payroll runs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update

from coop_billing.adapters import orm
from coop_billing.adapters.repositories import SqlRepository, keyset_page
from coop_billing.domain.budget import ContractCost
from coop_billing.domain.contract import (
    ContractState,
    ContractTerms,
    EmploymentContract,
    StoredContract,
)


class SqlContractRepository(SqlRepository):
    def add_contract(self, stored: StoredContract) -> None:
        self.session.execute(insert(orm.contracts).values(
            contract_id=stored.contract.contract_id, member_id=stored.contract.member_id,
            activity_id=stored.contract.activity_id, **self._contract_values(stored)))

    def save_contract(self, stored: StoredContract) -> None:
        self.session.execute(update(orm.contracts)
                             .where(orm.contracts.c.contract_id == stored.contract.contract_id)
                             .values(**self._contract_values(stored)))

    @staticmethod
    def _contract_values(stored: StoredContract) -> dict[str, Any]:
        c, t = stored.contract, stored.contract.terms
        cost = c.cost or ContractCost(t.gross_cents, 0, 0, 0, 0)
        return dict(
            state=c.state.value, start_date=t.start, end_date=t.end, days=t.days,
            hours=str(t.hours) if t.hours is not None else None, gross_cents=t.gross_cents,
            job_title=t.job_title, joint_committee=t.joint_committee,
            social_charges_cents=cost.social_charges_cents, employer_cost_cents=cost.employer_cost_cents,
            employment_contribution_cents=cost.employment_contribution_cents,
            total_cost_cents=cost.total_cents, reserved_cents=c.reserved_cents, revision=stored.revision,
            social_charges_rate_bp=cost.social_charges_rate_bp, employment_rate_bp=cost.employment_rate_bp,
            created_at=stored.created_at, updated_at=stored.updated_at,
            gross_paid_cents=c.gross_paid_cents, spent_cents=c.spent_cents)

    @staticmethod
    def _contract_from_row(r: Any) -> StoredContract:
        terms = ContractTerms(r.start_date, r.end_date, r.gross_cents, r.job_title, r.joint_committee,
                              days=r.days, hours=Decimal(r.hours) if r.hours is not None else None)
        cost = ContractCost(r.gross_cents, r.social_charges_cents, r.employer_cost_cents,
                            r.employment_contribution_cents, r.total_cost_cents, r.social_charges_rate_bp,
                            r.employment_rate_bp)
        contract = EmploymentContract(r.contract_id, r.member_id, r.activity_id, terms,
                                      ContractState(r.state), r.reserved_cents, cost,
                                      gross_paid_cents=r.gross_paid_cents, spent_cents=r.spent_cents)
        return StoredContract(contract, r.revision, r.created_at, r.updated_at)

    def contract(self, contract_id: str, *, lock: bool = False) -> StoredContract | None:
        query = select(orm.contracts).where(orm.contracts.c.contract_id == contract_id)
        row = self.session.execute(self.dialect.for_update(query) if lock else query).first()
        return self._contract_from_row(row) if row else None

    def contracts_of(self, member_id: str, after: tuple[str, ...], limit: int) -> list[StoredContract]:
        k = orm.contracts.c
        query = select(orm.contracts).where(k.member_id == member_id)
        rows = self.session.execute(keyset_page(query, k.created_at, k.contract_id, after, limit)).all()
        return [self._contract_from_row(r) for r in rows]

    def payroll_run(self, contract_id: str, reference: str) -> Any:
        r = orm.payroll_runs.c
        return self.session.execute(select(orm.payroll_runs).where(
            r.contract_id == contract_id, r.payroll_reference == reference)).first()

    def add_payroll_run(self, **values: Any) -> Any:
        """Insert a payroll run; returns its row as payroll_run reads it."""
        return self.session.execute(insert(orm.payroll_runs).values(**values).returning(orm.payroll_runs)).one()
