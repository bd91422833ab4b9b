"""Contract use cases on the fakes: the reservation on the budget, access by member and roles,
payroll runs and completion, and the shortfall a client reads when the budget is too small."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from coop_billing.domain import events
from coop_billing.domain.contract import ContractTerms
from coop_billing.domain.errors import BudgetTooSmall
from coop_billing.domain.invoice import InvoiceLine
from coop_billing.service_layer import common, contracts, invoice_issuing, invoices
from coop_domain.errors import PermissionDenied

START, END = date(2031, 3, 1), date(2031, 3, 31)


def _terms(gross: int = 200_000) -> ContractTerms:
    return ContractTerms(START, END, gross, "Musician", "304", days=10)


def _funded(uow, f, member, net_cents: int = 1_000_000) -> str:
    """An activity whose budget received `net_cents` less its contribution from a paid invoice."""
    activity_id, client_id = f.activity_and_client(uow, member)
    stored = invoice_issuing.create_invoice(uow, invoice_issuing.new_invoice(
        f.ADMIN, member.member_id, activity_id, client_id, [InvoiceLine("Gig", "1", net_cents, "0")], issue=True),
        f.fakes.PickleReply())
    invoices.record_payment(uow, f.TELLER, stored.invoice.invoice_id, "BANK-1", net_cents, None,
                            f.fakes.PickleReply())
    return activity_id


def _on(monkeypatch, day: date) -> None:
    monkeypatch.setattr(common, "utcnow", lambda: datetime.combine(day, time(12), UTC))


def test_a_contract_reserves_its_full_cost_and_is_published(uow, f):
    member = f.admit(uow)
    activity_id = _funded(uow, f, member)
    stored = contracts.request_contract(uow, member.caller, member.member_id, activity_id, _terms(),
                                        f.fakes.PickleReply())
    balance, reserved = uow.activities.balances(activity_id)
    assert reserved == stored.contract.reserved_cents > 200_000
    assert [e.stored.contract.contract_id for e in uow.published(events.ContractCreated)] == [
        stored.contract.contract_id]


def test_a_budget_too_small_refuses_with_the_shortfall_and_reserves_nothing(uow, f):
    member = f.admit(uow)
    activity_id = _funded(uow, f, member, 100_000)
    with pytest.raises(BudgetTooSmall) as refused:
        contracts.request_contract(uow, member.caller, member.member_id, activity_id, _terms(5_000_000),
                                   f.fakes.PickleReply())
    assert refused.value.shortfall_cents > 0 and refused.value.metadata["shortfall_cents"]
    assert uow.activities.balances(activity_id)[1] == 0 and uow.store.contracts == {}


def test_only_the_member_or_an_admin_amends_and_reads_a_contract(uow, f):
    member, other = f.admit(uow), f.admit(uow)
    activity_id = _funded(uow, f, member)
    stored = contracts.request_contract(uow, member.caller, member.member_id, activity_id, _terms(),
                                        f.fakes.PickleReply())
    contract_id = stored.contract.contract_id
    with pytest.raises(PermissionDenied):
        contracts.amend_contract(uow, other.caller, contract_id, _terms(100_000))
    with pytest.raises(PermissionDenied):
        contracts.get_contract(uow, other.caller, contract_id)
    amended = contracts.amend_contract(uow, f.ADMIN, contract_id, _terms(100_000))
    assert amended.revision == 2 and contracts.get_contract(uow, f.TELLER, contract_id).revision == 2
    page, token = contracts.list_contracts(uow, member.caller, member.member_id, "", 10)
    assert [s.contract.contract_id for s in page] == [contract_id] and token == ""


def test_payroll_runs_activate_spend_and_completion_releases_the_rest(uow, f, monkeypatch):
    member = f.admit(uow)
    activity_id = _funded(uow, f, member)
    stored = contracts.request_contract(uow, member.caller, member.member_id, activity_id, _terms(),
                                        f.fakes.PickleReply())
    contract_id = stored.contract.contract_id
    _on(monkeypatch, date(2031, 3, 15))
    with pytest.raises(PermissionDenied):
        contracts.record_payroll(uow, member.caller, contract_id, "PR-1", 100_000)
    paid, run, already = contracts.record_payroll(uow, f.SERVICE, contract_id, "PR-1", 100_000)
    assert paid.contract.state.value == "active" and not already
    again = contracts.record_payroll(uow, f.SERVICE, contract_id, "PR-1", 100_000)
    assert again[2] is True
    _on(monkeypatch, date(2031, 4, 2))
    done, released = contracts.complete_contract(uow, f.SERVICE, contract_id)
    assert done.contract.state.value == "completed" and released > 0
    assert uow.activities.balances(activity_id)[1] == 0
    assert [type(e).__name__ for e in uow.events if isinstance(e, events.ContractEvent)] == [
        "ContractCreated", "ContractActivated", "ContractPayrollRecorded", "ContractCompleted"]
