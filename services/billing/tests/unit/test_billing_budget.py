"""Activity ledger, contract cost and affordability."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.budget import (
    ActivityLedger,
    EntryKind,
    check_contract_affordable,
    contract_cost,
)
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument

DAY = date(2026, 3, 1)


def funded(net=100_000, contribution=6_500):
    ledger = ActivityLedger("act-1")
    ledger.credit_invoice("2026-000001", net, contribution, DAY)
    return ledger


def test_contract_cost_adds_social_charges_then_employment_contribution_on_employer_cost():
    cost = contract_cost(300_000, RateSchedule.default(), DAY)
    assert cost.social_charges_cents == 81_000  # 27 %
    assert cost.employer_cost_cents == 381_000
    assert cost.employment_contribution_cents == 28_575  # 7.5 % of 381,000
    assert cost.total_cents == 409_575


def test_contract_cost_rounds_each_product_half_up():
    cost = contract_cost(992, RateSchedule.default(), DAY)
    assert cost.social_charges_cents == 268  # 267.84
    assert cost.employer_cost_cents == 1_260
    assert cost.employment_contribution_cents == 95  # 7.5 % of 1260 = 94.5 -> 95
    assert cost.total_cents == 1_355


def test_contract_cost_uses_the_social_rate_in_force_on_the_date():
    s = RateSchedule.default()
    s.add(RateChange(RateKind.SOCIAL_CHARGES, date(2026, 7, 1), 2500))
    assert contract_cost(100_000, s, date(2026, 6, 30)).social_charges_cents == 27_000
    assert contract_cost(100_000, s, date(2026, 7, 1)).social_charges_cents == 25_000


@pytest.mark.parametrize("gross", [0, -1, 100.0])
def test_contract_cost_needs_positive_integer_gross(gross):
    with pytest.raises(InvalidArgument):
        contract_cost(gross, RateSchedule.default(), DAY)


def test_affordable_contract_passes_silently():
    check_contract_affordable(1_000, 1_000)


def test_unaffordable_contract_reports_the_exact_shortfall_in_cents():
    with pytest.raises(FailedPrecondition) as exc:
        check_contract_affordable(1_000, 1_001)
    assert exc.value.shortfall_cents == 1
    assert exc.value.detail["cost_cents"] == 1_001


@given(st.integers(-10**9, 10**9), st.integers(0, 10**9))
def test_shortfall_is_always_cost_minus_available(available, cost):
    if cost <= available:
        check_contract_affordable(available, cost)
    else:
        with pytest.raises(FailedPrecondition) as exc:
            check_contract_affordable(available, cost)
        assert exc.value.shortfall_cents == cost - available


def test_invoice_credits_net_and_debits_contribution():
    ledger = funded()
    assert [e.kind for e in ledger.entries] == [EntryKind.INVOICE, EntryKind.REVENUE_CONTRIBUTION]
    assert ledger.balance_cents == 93_500
    assert ledger.available_cents == 93_500


def test_an_invoice_is_credited_once_per_payment_and_never_after_its_credit_note():
    ledger = funded()
    ledger.credit_invoice("2026-000001", 50_000, 3_250, DAY)  # a second payment of the same invoice
    assert ledger.credited("2026-000001") == (150_000, 9_750)
    ledger.reverse_invoice("2026-000001", 150_000, 9_750, DAY)
    with pytest.raises(AlreadyExists):
        ledger.credit_invoice("2026-000001", 1, 0, DAY)
    assert ledger.balance_cents == 0


def test_credit_note_reverses_invoice_and_contribution():
    ledger = funded()
    ledger.reverse_invoice("2026-000001", 100_000, 6_500, DAY)
    assert ledger.balance_cents == 0
    with pytest.raises(AlreadyExists):
        ledger.reverse_invoice("2026-000001", 100_000, 6_500, DAY)


def test_reservation_reduces_available_but_not_balance():
    ledger = funded()
    ledger.reserve("c1", 40_000, DAY)
    assert (ledger.balance_cents, ledger.reserved_cents, ledger.available_cents) == (93_500, 40_000, 53_500)
    assert ledger.reservation_for("c1") == 40_000


def test_reservation_beyond_available_fails_with_shortfall_and_posts_nothing():
    ledger = funded()
    ledger.reserve("c1", 90_000, DAY)
    with pytest.raises(FailedPrecondition) as exc:
        ledger.reserve("c2", 5_000, DAY)
    assert exc.value.shortfall_cents == 1_500
    assert ledger.reservation_for("c2") == 0


def test_release_returns_money_to_available_but_not_more_than_reserved():
    ledger = funded()
    ledger.reserve("c1", 40_000, DAY)
    ledger.release("c1", 10_000, DAY)
    assert ledger.available_cents == 63_500
    with pytest.raises(FailedPrecondition):
        ledger.release("c1", 30_001, DAY)


def test_payroll_spend_debits_balance_and_consumes_the_contract_reservation():
    ledger = funded()
    ledger.reserve("c1", 40_000, DAY)
    ledger.spend_payroll("c1", 30_000, DAY, "payslip-1")
    assert (ledger.balance_cents, ledger.reserved_cents, ledger.available_cents) == (63_500, 10_000, 53_500)


def test_payroll_beyond_reservation_must_be_affordable_for_the_excess():
    ledger = funded()
    ledger.reserve("c1", 40_000, DAY)
    ledger.spend_payroll("c1", 50_000, DAY, "payslip-1")  # 10,000 excess, 53,500 available
    assert ledger.reservation_for("c1") == 0 and ledger.balance_cents == 43_500
    with pytest.raises(FailedPrecondition) as exc:
        ledger.spend_payroll("c1", 43_501, DAY, "payslip-2")
    assert exc.value.shortfall_cents == 1


def test_same_payslip_is_not_spent_twice():
    ledger = funded()
    ledger.spend_payroll("c1", 1_000, DAY, "payslip-1")
    with pytest.raises(AlreadyExists):
        ledger.spend_payroll("c1", 1_000, DAY, "payslip-1")


def test_one_payroll_run_reference_may_pay_several_contracts_of_an_activity():
    ledger = funded()
    ledger.spend_payroll("c1", 1_000, DAY, "RUN-2026-03")
    ledger.spend_payroll("c2", 2_000, DAY, "RUN-2026-03")
    assert ledger.balance_cents == 93_500 - 3_000
    with pytest.raises(AlreadyExists):
        ledger.spend_payroll("c2", 2_000, DAY, "RUN-2026-03")


def test_negative_ledger_amounts_are_invalid():
    with pytest.raises(InvalidArgument):
        ActivityLedger("a").credit_invoice("x", -1, 0, DAY)


def test_budget_in_and_out_are_summed_per_year():
    ledger = funded()
    ledger.spend_payroll("c1", 20_000, DAY, "p1")
    ledger.credit_invoice("2027-000001", 10_000, 650, date(2027, 1, 5))
    assert (ledger.budget_in_cents(2026), ledger.budget_out_cents(2026)) == (100_000, 26_500)
    assert (ledger.budget_in_cents(2027), ledger.budget_out_cents(2027)) == (10_000, 650)


def test_figures_are_derived_from_entries_only_and_survive_reload():
    ledger = funded()
    ledger.reserve("c1", 40_000, DAY)
    ledger.spend_payroll("c1", 30_000, DAY, "p1")
    again = ActivityLedger("act-1", list(ledger.entries))
    assert (again.balance_cents, again.reserved_cents, again.available_cents) == (
        ledger.balance_cents, ledger.reserved_cents, ledger.available_cents
    )
    with pytest.raises(AlreadyExists):
        again.spend_payroll("c1", 1, DAY, "p1")


@given(st.lists(st.tuples(st.sampled_from(["inv", "res", "rel", "pay"]), st.integers(0, 50_000)), max_size=40))
def test_available_is_always_balance_minus_reservations_and_reservations_never_negative(ops):
    ledger = ActivityLedger("a")
    for i, (op, amount) in enumerate(ops):
        try:
            if op == "inv":
                ledger.credit_invoice(f"i{i}", amount, amount * 650 // 10_000, DAY)
            elif op == "res":
                ledger.reserve("c", amount, DAY)
            elif op == "rel":
                ledger.release("c", amount, DAY)
            else:
                ledger.spend_payroll("c", amount, DAY, f"p{i}")
        except FailedPrecondition:
            pass
        assert ledger.available_cents == ledger.balance_cents - ledger.reserved_cents
        assert ledger.reserved_cents >= 0
        assert ledger.available_cents >= 0
