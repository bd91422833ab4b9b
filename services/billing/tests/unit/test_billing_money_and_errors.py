"""Rounding rule, exact splitting, and the error hierarchy."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.errors import BudgetTooSmall, MemberNotYetKnown
from coop_billing.domain.money import (
    apply_basis_points,
    apply_percent,
    div_round_half_up,
    require_cents,
    split_largest_remainder,
)
from coop_domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)


def test_every_domain_error_maps_to_its_grpc_status_code():
    assert {cls.status_name for cls in (InvalidArgument, NotFound, AlreadyExists, FailedPrecondition, PermissionDenied)} == {
        "INVALID_ARGUMENT", "NOT_FOUND", "ALREADY_EXISTS", "FAILED_PRECONDITION", "PERMISSION_DENIED"
    }
    assert all(issubclass(c, DomainError) for c in (InvalidArgument, NotFound, PermissionDenied))


def test_budget_too_small_exposes_structured_shortfall_and_a_stable_reason():
    err = BudgetTooSmall("too small", {"shortfall_cents": 123})
    assert err.shortfall_cents == 123
    assert err.detail == {"shortfall_cents": 123}
    assert err.metadata == {"shortfall_cents": "123"}
    assert err.reason == "BUDGET_TOO_SMALL" and err.status_name == "FAILED_PRECONDITION"
    assert str(err) == "too small"
    assert BudgetTooSmall("no money detail").shortfall_cents is None


def test_member_not_yet_known_is_retryable():
    err = MemberNotYetKnown("not yet", retry_after_seconds=2)
    assert err.status_name == "UNAVAILABLE" and err.reason == "MEMBER_NOT_YET_KNOWN"
    assert err.retry_after_seconds == 2


def test_half_cent_rounds_up_and_negative_half_rounds_away_from_zero():
    assert div_round_half_up(5, 10) == 1
    assert div_round_half_up(4, 10) == 0
    assert div_round_half_up(-5, 10) == -1
    assert div_round_half_up(-4, 10) == 0
    assert div_round_half_up(15, 10) == 2


def test_apply_basis_points_rounds_half_up_to_the_cent():
    # 6.5 % of 10.00 = 0.65 exactly; of 0.10 = 0.0065 -> 0.01; of 0.07 = 0.00455 -> 0.00
    assert apply_basis_points(1000, 650) == 65
    assert apply_basis_points(10, 650) == 1
    assert apply_basis_points(7, 650) == 0
    assert apply_percent(250, 21) == 53  # 52.5 -> 53


@given(st.integers(-10**12, 10**12), st.integers(0, 10_000))
def test_rounding_is_symmetric_so_reversals_cancel_exactly(amount, bp):
    assert apply_basis_points(-amount, bp) == -apply_basis_points(amount, bp)


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_rounded_rate_is_within_half_a_cent_of_the_exact_value(amount, bp):
    exact = Decimal(amount) * bp / 10_000
    assert abs(apply_basis_points(amount, bp) - exact) <= Decimal("0.5")


def test_money_must_be_int_never_float_or_bool():
    assert require_cents(5) == 5
    for bad in (1.5, True, Decimal("1"), "3"):
        with pytest.raises(InvalidArgument):
            require_cents(bad)


def test_largest_remainder_gives_leftover_cents_to_largest_remainders():
    # 100 split in thirds: 33.33 each, one extra cent to the first by tie order
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(100, [1, 1, 1], tie_keys=["c", "a", "b"]) == [33, 34, 33]
    # 10 over weights 1:2 -> 3.33 / 6.67 -> the 0.67 remainder wins
    assert split_largest_remainder(10, [1, 2]) == [3, 7]


def test_split_refuses_impossible_inputs():
    with pytest.raises(InvalidArgument):
        split_largest_remainder(1, [])
    with pytest.raises(InvalidArgument):
        split_largest_remainder(1, [0, 0])
    with pytest.raises(InvalidArgument):
        split_largest_remainder(1, [1, -1])
    assert split_largest_remainder(0, [0, 0]) == [0, 0]


@given(st.integers(0, 10**10), st.lists(st.integers(0, 10**9), min_size=1, max_size=50).filter(any))
def test_split_always_balances_and_each_part_is_within_one_cent_of_exact(total, weights):
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    w = sum(weights)
    for p, wi in zip(parts, weights, strict=True):
        assert total * wi // w <= p <= -(-total * wi // w)
