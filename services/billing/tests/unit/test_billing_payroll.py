"""Payroll on a contract (activation, spend within the reservation) and completion (release)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.budget import ActivityLedger, EntryKind, contract_cost, payroll_run_cost
from coop_billing.domain.contract import ContractState, ContractTerms, EmploymentContract
from coop_billing.domain.contribution import RateSchedule
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

TODAY = date(2026, 3, 1)
START = date(2026, 4, 1)
END = date(2026, 4, 30)
SCHEDULE = RateSchedule.default()
# gross 300,000 -> social 27 % 81,000 -> employer cost 381,000 -> employment 7.5 % 28,575 -> 409,575
COST = contract_cost(300_000, SCHEDULE, START)


def reserved(gross=300_000, available=10**6, contract_id="c1"):
    ledger = ActivityLedger("act-1")
    ledger.credit_invoice("inv", available, 0, TODAY)
    c = EmploymentContract(contract_id, "m1", "act-1", ContractTerms(
        START, END, gross, "Sound engineer", "304", days=10))
    c.reserve(ledger, SCHEDULE, TODAY)
    return c, ledger


# ---------------------------------------------------------------- run cost

def test_paying_the_whole_gross_at_once_costs_exactly_the_reservation():
    assert COST.total_cents == 409_575
    assert payroll_run_cost(COST, 0, 300_000) == COST


def test_run_cost_uses_the_contracts_rates_part_by_part():
    run = payroll_run_cost(COST, 0, 100_000)
    assert (run.gross_cents, run.social_charges_cents, run.employment_contribution_cents) == (100_000, 27_000, 9_525)
    assert run.employer_cost_cents == 127_000 and run.total_cents == 136_525


@given(st.lists(st.integers(1, 300_000), min_size=1, max_size=12), st.integers(1, 10**9))
def test_runs_add_up_exactly_to_the_reservation_with_no_negative_part(cuts, gross):
    reserved_cost = contract_cost(gross, SCHEDULE, START)
    points = sorted({min(c * gross // 300_000, gross) for c in cuts} - {0} | {gross})
    paid, parts = 0, []
    for point in points:
        run = payroll_run_cost(reserved_cost, paid, point - paid)
        assert min(run.gross_cents, run.social_charges_cents, run.employment_contribution_cents) >= 0
        assert run.total_cents == run.employer_cost_cents + run.employment_contribution_cents
        parts.append(run)
        paid = point
    assert sum(r.gross_cents for r in parts) == gross
    assert sum(r.social_charges_cents for r in parts) == reserved_cost.social_charges_cents
    assert sum(r.employment_contribution_cents for r in parts) == reserved_cost.employment_contribution_cents
    assert sum(r.total_cents for r in parts) == reserved_cost.total_cents


def test_paying_beyond_the_gross_costs_beyond_the_reservation():
    assert payroll_run_cost(COST, 300_000, 1).total_cents > 0


@pytest.mark.parametrize(("before", "gross"), [(0, 0), (0, -5), (-1, 10), (0, 1.5), (True, 3)])
def test_run_cost_refuses_nonsense(before, gross):
    with pytest.raises(InvalidArgument):
        payroll_run_cost(COST, before, gross)


# ---------------------------------------------------------------- record_payroll

def test_first_run_on_or_after_start_activates_and_consumes_the_reservation():
    c, ledger = reserved()
    available = ledger.available_cents
    run = c.record_payroll(ledger, 100_000, START, "PR-2026-04", START)
    assert run.activated and c.state is ContractState.ACTIVE
    assert run.cost.total_cents == 136_525 and run.paid_on == START and run.reference == "PR-2026-04"
    assert (c.gross_paid_cents, c.spent_cents, c.reserved_cents) == (100_000, 136_525, 409_575 - 136_525)
    assert ledger.reservation_for("c1") == c.reserved_cents
    assert ledger.available_cents == available  # spent from the reservation, not from what was free
    entry = ledger.entries[-1]
    assert (entry.kind, entry.amount_cents, entry.balance_delta, entry.reserved_delta, entry.reference) == (
        EntryKind.PAYROLL, 136_525, -136_525, -136_525, "PR-2026-04")
    second = c.record_payroll(ledger, 200_000, END, "PR-2026-05", date(2026, 5, 3))
    assert not second.activated and c.reserved_cents == 0 and c.spent_cents == COST.total_cents
    assert ledger.reserved_cents == 0 and ledger.balance_cents == 10**6 - COST.total_cents


def test_spending_beyond_the_reservation_is_refused_with_the_excess_and_changes_nothing():
    c, ledger = reserved()
    c.record_payroll(ledger, 250_000, START, "p1", START)
    entries, state = len(ledger.entries), (c.state, c.reserved_cents, c.gross_paid_cents, c.spent_cents)
    with pytest.raises(FailedPrecondition) as exc:
        c.record_payroll(ledger, 50_001, START, "p2", START)  # 1 cent of gross too many
    assert "beyond its reservation" in str(exc.value) and exc.value.detail["excess_cents"] > 0
    assert exc.value.detail["reserved_cents"] == c.reserved_cents
    assert len(ledger.entries) == entries and (c.state, c.reserved_cents, c.gross_paid_cents, c.spent_cents) == state
    c.record_payroll(ledger, 50_000, START, "p2", START)  # exactly the rest is fine
    assert c.reserved_cents == 0


def test_no_payroll_before_the_start_nor_dated_in_the_future():
    c, ledger = reserved()
    with pytest.raises(FailedPrecondition, match="starts on 2026-04-01"):
        c.record_payroll(ledger, 1_000, date(2026, 3, 31), "p1", START)
    with pytest.raises(InvalidArgument):
        c.record_payroll(ledger, 1_000, date(2026, 4, 2), "p1", START)
    assert c.state is ContractState.RESERVED and ledger.reservation_for("c1") == COST.total_cents


@pytest.mark.parametrize("state", [ContractState.REQUESTED, ContractState.COMPLETED, ContractState.CANCELLED])
def test_payroll_only_on_a_reserved_or_active_contract(state):
    c, ledger = reserved()
    c.state = state
    with pytest.raises(FailedPrecondition):
        c.record_payroll(ledger, 1_000, START, "p1", START)
    assert c.state is state


def test_same_reference_twice_on_a_contract_is_refused_but_one_run_may_pay_several_contracts():
    c, ledger = reserved()
    other = EmploymentContract("c2", "m1", "act-1", c.terms)
    other.reserve(ledger, SCHEDULE, TODAY)
    c.record_payroll(ledger, 1_000, START, "RUN-04", START)
    before = (c.state, c.gross_paid_cents, len(ledger.entries))
    with pytest.raises(AlreadyExists):
        c.record_payroll(ledger, 1_000, START, "RUN-04", START)
    assert (c.state, c.gross_paid_cents, len(ledger.entries)) == before
    other.record_payroll(ledger, 1_000, START, "RUN-04", START)
    assert other.state is ContractState.ACTIVE


def test_payroll_on_a_ledger_of_another_activity_is_refused():
    c, _ = reserved()
    with pytest.raises(FailedPrecondition):
        c.record_payroll(ActivityLedger("other"), 1_000, START, "p1", START)


# ---------------------------------------------------------------- completion

def test_completion_releases_what_is_still_reserved():
    c, ledger = reserved()
    c.record_payroll(ledger, 100_000, START, "p1", START)
    with pytest.raises(FailedPrecondition, match="ends on 2026-04-30"):
        c.complete_and_release(ledger, date(2026, 4, 29))
    assert c.state is ContractState.ACTIVE
    activated, released = c.complete_and_release(ledger, END)
    assert not activated and released == 409_575 - 136_525
    assert c.state is ContractState.COMPLETED and c.reserved_cents == 0
    assert ledger.reserved_cents == 0 and ledger.available_cents == 10**6 - 136_525
    assert ledger.entries[-1].kind is EntryKind.RELEASE
    with pytest.raises(FailedPrecondition):
        c.complete_and_release(ledger, END)
    with pytest.raises(FailedPrecondition):
        c.record_payroll(ledger, 1_000, END, "p2", END)


def test_an_unpaid_contract_is_activated_then_completed_giving_its_whole_reservation_back():
    c, ledger = reserved()
    activated, released = c.complete_and_release(ledger, date(2026, 6, 1))
    assert activated and released == COST.total_cents and c.state is ContractState.COMPLETED
    assert ledger.available_cents == 10**6


def test_a_fully_paid_contract_completes_releasing_nothing():
    c, ledger = reserved()
    c.record_payroll(ledger, 300_000, END, "p1", END)
    entries = len(ledger.entries)
    assert c.complete_and_release(ledger, END) == (False, 0)
    assert len(ledger.entries) == entries


@pytest.mark.parametrize("state", [ContractState.REQUESTED, ContractState.CANCELLED])
def test_only_reserved_or_active_contracts_complete(state):
    c, ledger = reserved()
    c.state = state
    with pytest.raises(FailedPrecondition):
        c.complete_and_release(ledger, END)
