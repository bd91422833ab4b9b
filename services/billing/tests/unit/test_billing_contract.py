"""Employment contract aggregate: validation, states, reservation deltas."""

from datetime import date
from decimal import Decimal

import pytest

from coop_billing.domain.budget import ActivityLedger, contract_cost
from coop_billing.domain.contract import (
    ContractState,
    ContractTerms,
    EmploymentContract,
    validate_joint_committee,
)
from coop_billing.domain.contribution import RateChange, RateKind, RateSchedule
from coop_domain.errors import FailedPrecondition, InvalidArgument

TODAY = date(2026, 3, 1)
START = date(2026, 4, 1)
END = date(2026, 4, 30)
SCHEDULE = RateSchedule.default()
COST_300K = contract_cost(300_000, SCHEDULE, START).total_cents  # 409,575


def terms(**over):
    base = dict(start=START, end=END, gross_cents=300_000, job_title="Sound engineer",
                joint_committee="304", days=10)
    base.update(over)
    return ContractTerms(**base)


def ledger_with(available):
    ledger = ActivityLedger("act-1")
    ledger.credit_invoice("inv", available, 0, TODAY)
    return ledger


def contract(**over):
    return EmploymentContract("c1", "m1", "act-1", terms(**over))


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("code", ["200", "304", "124.01", " 329 "])
def test_joint_committee_accepts_three_digits_with_optional_two_digit_suffix(code):
    assert validate_joint_committee(code) == code.strip()


@pytest.mark.parametrize("code", ["20", "2000", "200.1", "200.123", "20a", "", "200-01"])
def test_joint_committee_rejects_other_shapes(code):
    with pytest.raises(InvalidArgument):
        validate_joint_committee(code)


@pytest.mark.parametrize(
    "over",
    [
        {"end": date(2026, 3, 31)},
        {"gross_cents": 0},
        {"gross_cents": 1000.0},
        {"job_title": " "},
        {"joint_committee": "30"},
        {"days": None},  # neither days nor hours
        {"hours": Decimal("7.5")},  # both days and hours
        {"days": 0},
        {"days": 31},  # more than the 30 calendar days
        {"days": None, "hours": Decimal("0")},
    ],
)
def test_invalid_contract_terms_are_rejected(over):
    with pytest.raises(InvalidArgument):
        terms(**over)


def test_contract_in_hours_is_accepted():
    assert terms(days=None, hours="37.5").hours == Decimal("37.5")


# --------------------------------------------------------------- reservation

def test_reserving_sets_aside_the_full_contract_cost():
    ledger = ledger_with(500_000)
    c = contract()
    cost = c.reserve(ledger, SCHEDULE, TODAY)
    assert c.state is ContractState.RESERVED
    assert cost.total_cents == c.reserved_cents == COST_300K == 409_575
    assert ledger.available_cents == 500_000 - 409_575


def test_unaffordable_contract_stays_requested_with_exact_shortfall():
    ledger = ledger_with(400_000)
    c = contract()
    with pytest.raises(FailedPrecondition) as exc:
        c.reserve(ledger, SCHEDULE, TODAY)
    assert exc.value.shortfall_cents == 9_575
    assert c.state is ContractState.REQUESTED
    assert ledger.reserved_cents == 0


def test_contract_affordable_to_the_cent_is_accepted():
    ledger = ledger_with(COST_300K)
    contract().reserve(ledger, SCHEDULE, TODAY)
    assert ledger.available_cents == 0


def test_cost_uses_rates_in_force_on_the_start_date():
    schedule = RateSchedule.default()
    schedule.add(RateChange(RateKind.EMPLOYMENT, START, 800))
    c = contract()
    cost = c.reserve(ledger_with(10**7), schedule, TODAY)
    assert cost.employment_contribution_cents == 30_480  # 8 % of 381,000


def test_contract_of_another_activity_cannot_use_this_ledger():
    with pytest.raises(FailedPrecondition):
        contract().reserve(ActivityLedger("other"), SCHEDULE, TODAY)


# -------------------------------------------------------------------- amend

def test_amending_up_reserves_only_the_delta():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    delta = c.amend(ledger, SCHEDULE, TODAY, gross_cents=400_000)
    new_total = contract_cost(400_000, SCHEDULE, START).total_cents
    assert delta == new_total - COST_300K
    assert ledger.reservation_for("c1") == c.reserved_cents == new_total
    assert c.terms.gross_cents == 400_000


def test_amending_down_releases_the_delta():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    delta = c.amend(ledger, SCHEDULE, TODAY, gross_cents=100_000)
    assert delta < 0
    assert ledger.reservation_for("c1") == contract_cost(100_000, SCHEDULE, START).total_cents


def test_amending_up_beyond_the_budget_fails_with_shortfall_of_the_delta_and_keeps_terms():
    ledger = ledger_with(COST_300K + 100)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    with pytest.raises(FailedPrecondition) as exc:
        c.amend(ledger, SCHEDULE, TODAY, gross_cents=300_100)
    delta = contract_cost(300_100, SCHEDULE, START).total_cents - COST_300K
    assert exc.value.shortfall_cents == delta - 100
    assert c.terms.gross_cents == 300_000 and c.reserved_cents == COST_300K


def test_amending_a_requested_contract_changes_terms_without_touching_the_budget():
    ledger = ledger_with(10)
    c = contract()
    assert c.amend(ledger, SCHEDULE, TODAY, days=None, hours=Decimal("20"), job_title="Mixer") == 0
    assert c.terms.hours == Decimal("20") and c.terms.days is None and c.terms.job_title == "Mixer"
    assert len(ledger.entries) == 2 and ledger.reserved_cents == 0


def test_switching_from_days_to_hours_clears_days_automatically():
    c = contract()
    c.amend(ledger_with(0), SCHEDULE, TODAY, hours=Decimal("8"))
    assert (c.terms.days, c.terms.hours) == (None, Decimal("8"))


def test_amend_on_or_after_start_is_a_failed_precondition():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    with pytest.raises(FailedPrecondition):
        c.amend(ledger, SCHEDULE, START, gross_cents=1)


def test_amend_cannot_move_the_start_into_the_past_or_set_unknown_fields():
    c = contract()
    with pytest.raises(InvalidArgument):
        c.amend(ledger_with(0), SCHEDULE, TODAY, start=date(2026, 2, 1))
    with pytest.raises(InvalidArgument):
        c.amend(ledger_with(0), SCHEDULE, TODAY, salary=1)


# ------------------------------------------------------------------- cancel

def test_cancel_before_start_releases_the_whole_reservation():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    assert c.cancel(ledger, date(2026, 3, 31)) == COST_300K
    assert c.state is ContractState.CANCELLED
    assert ledger.reserved_cents == 0 and ledger.available_cents == 10**6


def test_cancel_on_start_day_or_later_is_refused():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    with pytest.raises(FailedPrecondition):
        c.cancel(ledger, START)
    assert c.state is ContractState.RESERVED


def test_cancel_a_requested_contract_releases_nothing():
    ledger = ledger_with(0)
    c = contract()
    assert c.cancel(ledger, TODAY) == 0
    assert c.state is ContractState.CANCELLED


# ---------------------------------------------------------- life cycle rules

def test_full_life_cycle_requested_reserved_active_completed():
    ledger = ledger_with(10**6)
    c = contract()
    c.reserve(ledger, SCHEDULE, TODAY)
    with pytest.raises(FailedPrecondition):
        c.activate(date(2026, 3, 31))
    c.activate(START)
    assert c.state is ContractState.ACTIVE
    with pytest.raises(FailedPrecondition):
        c.complete(date(2026, 4, 29))
    c.complete(END)
    assert c.state is ContractState.COMPLETED


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (ContractState.REQUESTED, "activate"),
        (ContractState.REQUESTED, "complete"),
        (ContractState.RESERVED, "reserve"),
        (ContractState.RESERVED, "complete"),
        (ContractState.ACTIVE, "reserve"),
        (ContractState.ACTIVE, "amend"),
        (ContractState.ACTIVE, "cancel"),
        (ContractState.COMPLETED, "amend"),
        (ContractState.COMPLETED, "cancel"),
        (ContractState.CANCELLED, "reserve"),
        (ContractState.CANCELLED, "activate"),
        (ContractState.CANCELLED, "amend"),
        (ContractState.CANCELLED, "cancel"),
    ],
)
def test_illegal_contract_transitions_are_refused(state, action):
    ledger = ledger_with(10**6)
    c = contract()
    c.state = state
    calls = {
        "reserve": lambda: c.reserve(ledger, SCHEDULE, TODAY),
        "activate": lambda: c.activate(START),
        "complete": lambda: c.complete(END),
        "amend": lambda: c.amend(ledger, SCHEDULE, TODAY, gross_cents=1),
        "cancel": lambda: c.cancel(ledger, TODAY),
    }
    with pytest.raises(FailedPrecondition):
        calls[action]()
    assert c.state is state


def test_reserving_on_or_after_start_is_refused():
    with pytest.raises(FailedPrecondition):
        contract().reserve(ledger_with(10**6), SCHEDULE, START)
