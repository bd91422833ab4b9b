"""Use cases of employment contracts: the full cost reserved on the activity budget, amended or
cancelled before the start, paid by payroll runs, completed after the end."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from coop_billing.domain import events
from coop_billing.domain.budget import ActivityLedger
from coop_billing.domain.checks import check_cents, check_text, parse_uuid
from coop_billing.domain.contract import ContractTerms, EmploymentContract, StoredContract
from coop_billing.service_layer import common
from coop_billing.service_layer.ports import BillingUnitOfWork, Reply
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists, FailedPrecondition, NotFound
from coop_domain.principal import Principal
from coop_platform.idempotency import IdempotentRequest

T = TypeVar("T")
MAX_PAYROLL_REFERENCE = 64  # the ledger entry carries it
#: who runs payroll and completes contracts: the back office and the payroll system
PAYROLL = ("admin", "service")


def request_contract(uow: BillingUnitOfWork, caller: Principal, member_id: str, activity_id: str,
                     terms: ContractTerms, reply: Reply[T], *, request: IdempotentRequest | None = None) -> T:
    """Reserve the contract's full cost on the activity budget, under a lock on the activity row.
    With a request_id, a retry gets the first answer (one contract, one reservation)."""
    caller.require_self_or(member_id, "admin")
    member_id = parse_uuid(member_id, "member_id")
    activity_id = parse_uuid(activity_id, "activity_id")
    with uow:
        first = common.first_answer(uow, request, reply)
        if first is not None:
            return first
        member = common.known_member(uow, member_id)
        activity = uow.activities.activity(activity_id, lock=True)  # serialises reservations per budget
        if activity is None:
            raise NotFound(f"no activity {activity_id}", field="activity_id")
        if activity.member_id != member_id:
            raise FailedPrecondition("the activity belongs to another member", field="activity_id",
                                     reason="ANOTHER_MEMBERS_ACTIVITY")
        ledger = uow.activities.ledger(activity_id)
        before = len(ledger.entries)
        contract = EmploymentContract(str(uuid.uuid4()), member_id, activity_id, terms)
        contract.reserve(ledger, uow.years.schedule(), common.today())
        uow.activities.add_entries(activity_id, common.new_entries(ledger, before))
        now = utcnow()
        stored = StoredContract(contract, 1, now, now)
        uow.contracts.add_contract(stored)
        uow.publish(events.ContractCreated(stored, member))
        return common.answer(uow, request, reply, stored)


def _locked_contract(uow: BillingUnitOfWork, caller: Principal, contract_id: str,
                     *roles: str) -> tuple[StoredContract, ActivityLedger]:
    """The contract and its budget's ledger, locked in the order request_contract takes them
    (activity, then contract), once the caller may act on it (its member, or `roles`)."""
    contract_id = parse_uuid(contract_id, "contract_id")
    found = uow.contracts.contract(contract_id)
    if found is None:
        raise NotFound(f"no contract {contract_id}", field="contract_id")
    caller.require_self_or(found.contract.member_id, *roles)
    uow.activities.activity(found.contract.activity_id, lock=True)
    stored = uow.contracts.contract(contract_id, lock=True)
    assert stored is not None
    return stored, uow.activities.ledger(stored.contract.activity_id)


def amend_contract(uow: BillingUnitOfWork, caller: Principal, contract_id: str,
                   terms: ContractTerms | Callable[[ContractTerms], ContractTerms]) -> StoredContract:
    """New terms before the start date, the reservation following; `terms` may be a function of
    the current ones (an update of some fields only)."""
    with uow:
        stored, ledger = _locked_contract(uow, caller, contract_id, "admin")
        member = common.known_member(uow, stored.contract.member_id)
        previous = stored.contract.terms
        if callable(terms):
            terms = terms(previous)
        before = len(ledger.entries)
        changes = {f: getattr(terms, f) for f in ContractTerms.__dataclass_fields__}
        delta = stored.contract.amend(ledger, uow.years.schedule(), common.today(), **changes)
        uow.activities.add_entries(stored.contract.activity_id, common.new_entries(ledger, before))
        stored.revision += 1
        stored.updated_at = utcnow()
        uow.contracts.save_contract(stored)
        uow.publish(events.ContractAmended(stored, member, previous, delta))
        uow.commit()
        return stored


def cancel_contract(uow: BillingUnitOfWork, caller: Principal, contract_id: str, reason: str) -> StoredContract:
    with uow:
        stored, ledger = _locked_contract(uow, caller, contract_id, "admin")
        reason = check_text(reason, "reason")
        member = common.known_member(uow, stored.contract.member_id)
        before = len(ledger.entries)
        released = stored.contract.cancel(ledger, common.today())
        uow.activities.add_entries(stored.contract.activity_id, common.new_entries(ledger, before))
        stored.updated_at = utcnow()
        uow.contracts.save_contract(stored)
        uow.publish(events.ContractCancelled(stored, member, reason, released))
        uow.commit()
        return stored


def get_contract(uow: BillingUnitOfWork, caller: Principal, contract_id: str) -> StoredContract:
    with uow:
        stored = uow.read_only().contracts.contract(parse_uuid(contract_id, "contract_id"))
    if stored is None:
        raise NotFound(f"no contract {contract_id}", field="contract_id")
    caller.require_self_or(stored.contract.member_id, *common.READERS)
    return stored


def list_contracts(uow: BillingUnitOfWork, caller: Principal, member_id: str, token: str,
                   size: int) -> tuple[list[StoredContract], str]:
    return common.member_page(uow, caller, member_id, token, size, "contracts",
                       lambda u, member, after, limit: u.contracts.contracts_of(member, after, limit),
                       lambda s: (s.created_at.isoformat(), s.contract.contract_id))


def record_payroll(uow: BillingUnitOfWork, caller: Principal, contract_id: str, payroll_reference: str,
                   gross_cents: int, paid_on: date | None = None) -> tuple[StoredContract, Any, bool]:
    """Record a payroll run on a contract: (contract, run record, already recorded before).

    Under the same locks as amend/cancel (activity, then contract): the run's cost is debited
    from the budget and consumed from the reservation, a reserved contract becomes active, and
    contract.activated / contract.payroll_recorded are published, in one transaction. Idempotent
    per (contract, reference); the same reference with other figures is ALREADY_EXISTS.
    """
    caller.require(*PAYROLL)
    reference = check_text(payroll_reference, "payroll_reference", limit=MAX_PAYROLL_REFERENCE)
    check_cents(gross_cents, "gross_cents")
    on_day = common.today()
    dated = paid_on is not None
    paid_on = paid_on or on_day
    with uow:
        stored, ledger = _locked_contract(uow, caller, contract_id, *PAYROLL)
        contract = stored.contract
        previous = uow.contracts.payroll_run(contract.contract_id, reference)
        if previous is not None:
            if previous.gross_cents != gross_cents or (dated and previous.paid_on != paid_on):
                raise AlreadyExists(
                    f"payroll {reference} was already recorded on this contract with other figures "
                    f"(gross {previous.gross_cents} cents paid on {previous.paid_on})",
                    field="payroll_reference", reason="PAYROLL_RECORDED_OTHERWISE")
            return stored, previous, True
        member = common.known_member(uow, contract.member_id)
        common.open_for(uow, paid_on, "paid_on")  # the run and its ledger entry are dated paid_on
        before = len(ledger.entries)
        run = contract.record_payroll(ledger, gross_cents, paid_on, reference, on_day)
        uow.activities.add_entries(contract.activity_id, common.new_entries(ledger, before))
        now = utcnow()
        stored.updated_at = now
        uow.contracts.save_contract(stored)
        row = uow.contracts.add_payroll_run(
            contract_id=contract.contract_id, payroll_reference=reference, member_id=contract.member_id,
            activity_id=contract.activity_id, paid_on=paid_on, gross_cents=run.cost.gross_cents,
            social_charges_cents=run.cost.social_charges_cents,
            employment_contribution_cents=run.cost.employment_contribution_cents,
            total_cents=run.cost.total_cents, recorded_at=now)
        if run.activated:
            uow.publish(events.ContractActivated(stored, member, on_day))
        uow.publish(events.ContractPayrollRecorded(stored, member, row))
        uow.commit()
        return stored, row, False


def complete_contract(uow: BillingUnitOfWork, caller: Principal, contract_id: str) -> tuple[StoredContract, int]:
    """Complete a contract on or after its end date; what is still reserved goes back to the budget.
    Returns (contract, cents released)."""
    caller.require(*PAYROLL)
    on_day = common.today()
    with uow:
        stored, ledger = _locked_contract(uow, caller, contract_id, *PAYROLL)
        member = common.known_member(uow, stored.contract.member_id)
        before = len(ledger.entries)
        activated, released = stored.contract.complete_and_release(ledger, on_day)
        uow.activities.add_entries(stored.contract.activity_id, common.new_entries(ledger, before))
        stored.updated_at = utcnow()
        uow.contracts.save_contract(stored)
        if activated:
            uow.publish(events.ContractActivated(stored, member, on_day))
        uow.publish(events.ContractCompleted(stored, member, released))
        uow.commit()
        return stored, released
