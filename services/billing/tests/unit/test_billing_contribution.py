"""Rate schedule with effective dates and the revenue contribution."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coop_billing.domain.contribution import (
    RateChange,
    RateKind,
    RateSchedule,
    contribution_reversal_cents,
    revenue_contribution_cents,
)
from coop_domain.errors import AlreadyExists, InvalidArgument, NotFound

CHANGE_DAY = date(2027, 1, 1)


def schedule_with_change():
    s = RateSchedule.default()
    s.add(RateChange(RateKind.REVENUE, CHANGE_DAY, 700))
    return s


def test_default_schedule_has_the_published_rates():
    s = RateSchedule.default()
    day = date(2026, 6, 1)
    assert s.rate_at(RateKind.REVENUE, day) == 650
    assert s.rate_at(RateKind.EMPLOYMENT, day) == 750
    assert s.rate_at(RateKind.SOCIAL_CHARGES, day) == 2700


def test_new_rate_applies_from_its_effective_date_not_the_day_before():
    s = schedule_with_change()
    assert s.rate_at(RateKind.REVENUE, CHANGE_DAY - timedelta(days=1)) == 650
    assert s.rate_at(RateKind.REVENUE, CHANGE_DAY) == 700
    assert s.rate_at(RateKind.REVENUE, CHANGE_DAY + timedelta(days=1)) == 700


def test_a_change_of_one_kind_leaves_the_other_kinds_alone():
    s = schedule_with_change()
    assert s.rate_at(RateKind.EMPLOYMENT, CHANGE_DAY) == 750


def test_changes_added_out_of_order_are_applied_by_date():
    s = RateSchedule(
        [
            RateChange(RateKind.REVENUE, date(2030, 1, 1), 800),
            RateChange(RateKind.REVENUE, date(2020, 1, 1), 600),
            RateChange(RateKind.REVENUE, date(2025, 1, 1), 650),
        ]
    )
    assert [s.rate_at(RateKind.REVENUE, date(y, 6, 1)) for y in (2021, 2026, 2031)] == [600, 650, 800]
    assert [c.basis_points for c in s.changes(RateKind.REVENUE)] == [600, 650, 800]


def test_no_rate_before_the_first_change_is_not_found():
    with pytest.raises(NotFound):
        RateSchedule.default(since=date(2020, 1, 1)).rate_at(RateKind.REVENUE, date(2019, 12, 31))


def test_two_changes_of_one_kind_on_one_date_are_refused():
    s = RateSchedule.default()
    with pytest.raises(AlreadyExists):
        s.add(RateChange(RateKind.REVENUE, date(2000, 1, 1), 700))


@pytest.mark.parametrize("bp", [-1, 10_001, 6.5])
def test_rates_outside_0_to_100_percent_or_not_int_are_invalid(bp):
    with pytest.raises(InvalidArgument):
        RateChange(RateKind.REVENUE, date(2026, 1, 1), bp)


def test_revenue_contribution_is_6_5_percent_of_net_rounded_half_up():
    s = RateSchedule.default()
    assert revenue_contribution_cents(100_000, s, date(2026, 1, 1)) == 6_500
    assert revenue_contribution_cents(10, s, date(2026, 1, 1)) == 1  # 0.65 -> 1
    assert revenue_contribution_cents(7, s, date(2026, 1, 1)) == 0  # 0.455 -> 0


def test_revenue_contribution_uses_the_rate_in_force_on_the_invoice_date():
    s = schedule_with_change()
    assert revenue_contribution_cents(100_000, s, CHANGE_DAY - timedelta(days=1)) == 6_500
    assert revenue_contribution_cents(100_000, s, CHANGE_DAY) == 7_000


@given(st.integers(0, 10**11))
def test_reversal_gives_back_exactly_what_was_taken(net):
    taken = revenue_contribution_cents(net, RateSchedule.default(), date(2026, 1, 1))
    assert taken + contribution_reversal_cents(taken) == 0


@given(st.dates(date(2000, 1, 2), date(2100, 1, 1)), st.integers(0, 3650))
def test_rate_at_any_date_is_the_latest_change_on_or_before_it(change_day, offset):
    s = RateSchedule.default()
    s.add(RateChange(RateKind.REVENUE, change_day, 900))
    assert s.rate_at(RateKind.REVENUE, change_day - timedelta(days=1)) == 650
    assert s.rate_at(RateKind.REVENUE, change_day + timedelta(days=offset)) == 900
