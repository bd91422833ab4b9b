"""Redistribution envelopes: keys, floors and caps, exact rounding, simulation."""

import random
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coop_billing.domain.redistribution import (
    Envelope,
    EqualShares,
    MemberRevenue,
    Mixed,
    ProRataRevenue,
    Scenario,
    SectorWeighted,
    allocate,
    bounded_split,
    gini,
    median_cents,
    simulate,
)
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument


def members(*revenues, sectors=None):
    return [
        MemberRevenue(f"m{i:03d}", r, (sectors or [""] * len(revenues))[i])
        for i, r in enumerate(revenues)
    ]


def whole(amount_cents):
    """An envelope with nothing retained, so the pot is the amount."""
    return Envelope(amount_cents, retained_bp=0)


# ------------------------------------------------------------------ envelope

def test_envelope_keeps_40_percent_and_distributes_60_percent():
    env = Envelope(500_000_000)
    assert (env.retained_cents, env.distributable_cents) == (200_000_000, 300_000_000)


@given(st.integers(0, 10**12), st.integers(0, 10_000))
def test_retained_plus_distributable_is_always_the_envelope(amount, bp):
    env = Envelope(amount, bp)
    assert env.retained_cents + env.distributable_cents == amount
    assert env.distributable_cents >= 0


@pytest.mark.parametrize(
    "kwargs",
    [{"amount_cents": -1}, {"amount_cents": 1.0}, {"amount_cents": 1, "retained_bp": 10_001},
     {"amount_cents": 1, "min_revenue_cents": 0}],
)
def test_invalid_envelopes_are_rejected(kwargs):
    with pytest.raises(InvalidArgument):
        Envelope(**kwargs)


def test_only_members_with_revenue_in_the_period_are_eligible_by_default():
    ms = members(0, 1, 500)
    assert [m.member_id for m in Envelope(100).eligible(ms)] == ["m001", "m002"]


def test_minimum_revenue_restricts_eligibility():
    ms = members(0, 1, 500, 499)
    assert [m.member_id for m in Envelope(100, min_revenue_cents=500).eligible(ms)] == ["m002"]


def test_member_listed_twice_is_invalid():
    with pytest.raises(InvalidArgument):
        Envelope(100).eligible([MemberRevenue("a", 1), MemberRevenue("a", 2)])


# --------------------------------------------------------------------- keys

def test_pro_rata_of_revenue_splits_in_proportion():
    alloc = allocate(whole(600), members(100, 200, 300), Scenario("p", ProRataRevenue()))
    assert alloc.amounts_cents == (100, 200, 300)


def test_equal_shares_give_leftover_cents_by_member_id():
    ms = [MemberRevenue("b", 5), MemberRevenue("a", 9), MemberRevenue("c", 1)]
    alloc = allocate(whole(100), ms, Scenario("e", EqualShares()))
    assert alloc.as_dict() == {"a": 34, "b": 33, "c": 33}


def test_sector_weight_uses_longest_nace_prefix_and_default():
    key = SectorWeighted({"90": Decimal("2"), "90.02": Decimal("3"), "62": "0.5"}, basis="head")
    assert key.weight_of_sector("90.01") == 20_000
    assert key.weight_of_sector("90.02") == 30_000
    assert key.weight_of_sector("62.01") == 5_000
    assert key.weight_of_sector("74.10") == 10_000  # default weight 1


def test_sector_weight_times_revenue_basis():
    ms = members(100, 100, sectors=["90.01", "62.01"])
    key = SectorWeighted({"90": 3}, basis="revenue")
    assert allocate(whole(400), ms, Scenario("s", key)).amounts_cents == (300, 100)


def test_sector_weight_per_head_basis_ignores_revenue():
    ms = members(1, 1_000_000, sectors=["90.01", "62.01"])
    key = SectorWeighted({"90": 3}, basis="head")
    assert allocate(whole(400), ms, Scenario("s", key)).amounts_cents == (300, 100)


@pytest.mark.parametrize("bad", [1.5, "1.00001", "-1", "x"])
def test_sector_weights_must_be_exact_non_negative_decimals(bad):
    with pytest.raises(InvalidArgument):
        SectorWeighted({"90": bad})


def test_sector_basis_must_be_revenue_or_head():
    with pytest.raises(InvalidArgument):
        SectorWeighted({}, basis="turnover")  # type: ignore[arg-type]


def test_mix_half_pro_rata_half_equal_blends_exactly():
    # pro rata 25/75, equal 50/50 -> 37.5 % / 62.5 %
    key = Mixed(((5000, ProRataRevenue()), (5000, EqualShares())))
    assert allocate(whole(1000), members(100, 300), Scenario("m", key)).amounts_cents == (375, 625)


def test_mix_with_a_part_that_weighs_nobody_is_refused():
    key = Mixed(((5000, SectorWeighted({}, default_weight=0)), (5000, EqualShares())))
    with pytest.raises(FailedPrecondition):
        allocate(whole(100), members(1, 2), Scenario("m", key))


@pytest.mark.parametrize("parts", [(), ((0, EqualShares()),), ((-1, EqualShares()),)])
def test_mix_needs_positive_shares(parts):
    with pytest.raises(InvalidArgument):
        Mixed(parts)


# --------------------------------------------------------- floors and caps

def test_cap_redistributes_the_excess_to_the_others_pro_rata():
    assert bounded_split(1000, [1, 1, 8], cap_cents=500) == [250, 250, 500]


def test_floor_takes_the_missing_amount_from_the_others():
    assert bounded_split(1000, [1, 9], floor_cents=200) == [200, 800]
    assert bounded_split(1000, [1, 2, 97], floor_cents=100) == [100, 100, 800]


def test_floor_after_cap_can_bring_a_capped_member_back_under_the_cap():
    # naive "cap then floor" would give 500 + 3 x 200 = 1,100 > 1,000
    assert bounded_split(1000, [1, 1, 1, 10], floor_cents=200, cap_cents=500) == [200, 200, 200, 400]


def test_cap_cascades_over_several_rounds():
    # 1000 over 1:2:4:8 with cap 300: 8 capped, then 4 capped, rest 400 over 1:2
    assert bounded_split(1000, [1, 2, 4, 8], cap_cents=300) == [133, 267, 300, 300]


def test_zero_weight_members_get_the_floor():
    assert bounded_split(1000, [0, 1, 1], floor_cents=100) == [100, 450, 450]


def test_floors_above_the_pot_fail_with_shortfall():
    with pytest.raises(FailedPrecondition) as exc:
        bounded_split(100, [1, 1, 1], floor_cents=40)
    assert exc.value.shortfall_cents == 20


def test_caps_too_low_to_place_the_pot_fail_with_undistributable_amount():
    with pytest.raises(FailedPrecondition) as exc:
        bounded_split(100, [1, 1], cap_cents=40)
    assert exc.value.detail["undistributable_cents"] == 20


def test_zero_weights_that_cannot_absorb_the_pot_fail():
    with pytest.raises(FailedPrecondition):
        bounded_split(1000, [0, 0, 1], floor_cents=100, cap_cents=500)
    with pytest.raises(FailedPrecondition):
        bounded_split(10, [0, 0])


def test_nobody_eligible_with_money_to_give_fails_and_empty_pot_is_fine():
    with pytest.raises(FailedPrecondition):
        allocate(whole(100), members(0, 0), Scenario("p", ProRataRevenue()))
    assert allocate(whole(0), members(0), Scenario("p", ProRataRevenue())).amounts_cents == ()


def test_pot_equal_to_the_floors_gives_everyone_the_floor():
    assert bounded_split(300, [5, 1, 0], floor_cents=100) == [100, 100, 100]


def test_scenario_rejects_cap_below_floor_and_negative_floor():
    with pytest.raises(InvalidArgument):
        Scenario("x", EqualShares(), floor_cents=10, cap_cents=5)
    with pytest.raises(InvalidArgument):
        Scenario("x", EqualShares(), floor_cents=-1)


# ------------------------------------------------------- property-based checks

def reference_clamp(pot, weights, floor, cap):
    """Exact ideal amounts clamp(lambda*w, floor, cap), found by brute force over sets."""
    n = len(weights)
    order = sorted(range(n), key=lambda j: weights[j])
    for a in range(n + 1):  # order[:a] at floor
        for b in range(a, n + 1):  # order[b:] at cap
            if b < n and cap is None:
                continue
            low, mid, high = order[:a], order[a:b], order[b:]
            w_mid = sum(weights[j] for j in mid)
            rest = pot - a * floor - (n - b) * (cap or 0)
            # lambda must satisfy: lambda*w <= floor (low), >= cap (high), in range (mid)
            lo, hi = Fraction(0), None
            for j in low:
                if weights[j]:
                    bound = Fraction(floor, weights[j])
                    hi = bound if hi is None else min(hi, bound)
            feasible = True
            for j in high:
                if weights[j]:
                    lo = max(lo, Fraction(cap, weights[j]))
                elif cap != floor:
                    feasible = False
            if w_mid:
                lam = Fraction(rest, w_mid)
                lo, hi = max(lo, lam), lam if hi is None else min(hi, lam)
                for j in mid:
                    if not weights[j] and floor > 0:
                        feasible = False
                    x = lam * weights[j]
                    feasible &= floor <= x and (cap is None or x <= cap)
            else:
                feasible &= rest == 0 and all(floor == 0 for _ in mid)
                lam = Fraction(0)
            if not feasible or (hi is not None and lo > hi):
                continue
            ideal = [Fraction(0)] * n
            for j in low:
                ideal[j] = Fraction(floor)
            for j in high:
                ideal[j] = Fraction(cap)
            for j in mid:
                ideal[j] = lam * weights[j]
            return ideal
    return None


KEYS = st.sampled_from(
    [
        ProRataRevenue(),
        EqualShares(),
        SectorWeighted({"90": "1.5", "62": "0.7", "85": 0}, basis="revenue"),
        SectorWeighted({"90": "1.5", "62": "0.7"}, basis="head"),
        Mixed(((5000, ProRataRevenue()), (5000, EqualShares()))),
        Mixed(((3000, SectorWeighted({"90": 2}, basis="head")), (7000, ProRataRevenue()))),
    ]
)
MEMBERS = st.lists(
    st.tuples(st.integers(0, 10**8), st.sampled_from(["90.01", "62.01", "85.59", "74.10"])),
    min_size=0,
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(MEMBERS, KEYS, st.integers(0, 10**9), st.integers(0, 10_000), st.data())
def test_any_envelope_with_any_key_and_member_count_balances_to_the_cent(rows, key, amount, bp, data):
    ms = [MemberRevenue(f"m{i}", r, s) for i, (r, s) in enumerate(rows)]
    env = Envelope(amount, bp)
    eligible = env.eligible(ms)
    pot = env.distributable_cents
    n = len(eligible)
    floor = data.draw(st.integers(0, pot // n if n else 0))
    cap = data.draw(st.one_of(st.none(), st.integers(max(floor, -(-pot // n) if n else 0), max(floor, pot) + 1)))
    scenario = Scenario("s", key, floor, cap)
    try:
        alloc = allocate(env, ms, scenario)
    except FailedPrecondition:
        # legitimate only when nobody (or no positive weight) can carry a non-zero pot
        positive = sum(1 for w in key.weights(eligible) if w)
        assert pot > 0
        assert positive == 0 or (cap is not None and positive * cap + (n - positive) * floor < pot)
        return
    assert alloc.total_cents == pot
    assert all(floor <= a for a in alloc.amounts_cents)
    assert cap is None or all(a <= cap for a in alloc.amounts_cents)
    assert set(alloc.member_ids) == {m.member_id for m in eligible}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 1000), min_size=1, max_size=8),
    st.integers(0, 100_000),
    st.data(),
)
def test_floors_and_caps_match_the_exact_clamp_within_one_cent(weights, pot, data):
    n = len(weights)
    floor = data.draw(st.integers(0, pot // n))
    cap = data.draw(st.one_of(st.none(), st.integers(max(floor, -(-pot // n)), pot + 1)))
    ideal = reference_clamp(pot, weights, floor, cap)
    try:
        got = bounded_split(pot, weights, floor, cap)
    except FailedPrecondition:
        assert ideal is None
        return
    assert ideal is not None
    assert sum(got) == pot
    for g, x in zip(got, ideal, strict=True):
        assert abs(g - x) < 1
        assert floor <= g and (cap is None or g <= cap)


@settings(max_examples=100, deadline=None)
@given(MEMBERS, KEYS, st.integers(0, 10**8), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_the_order_members_are_listed(rows, key, amount, rnd):
    ms = [MemberRevenue(f"m{i}", r, s) for i, (r, s) in enumerate(rows)]
    shuffled = list(ms)
    rnd.shuffle(shuffled)
    scenario = Scenario("s", key)
    try:
        a = allocate(whole(amount), ms, scenario).as_dict()
    except FailedPrecondition:
        return
    assert allocate(whole(amount), shuffled, scenario).as_dict() == a


def test_full_membership_of_41702_balances_for_five_keys():
    rnd = random.Random(7)
    ms = [
        MemberRevenue(f"m{i:06d}", rnd.choice([0, rnd.randint(1, 20_000_000)]), rnd.choice(["90.01", "62.01", "74.10"]))
        for i in range(41_702)
    ]
    env = Envelope(500_000_000)
    scenarios = [
        Scenario("pro_rata", ProRataRevenue()),
        Scenario("equal", EqualShares()),
        Scenario("sector", SectorWeighted({"90": "1.5"})),
        Scenario("mix", Mixed(((5000, ProRataRevenue()), (5000, EqualShares()))), 5_000, 300_000),
        Scenario("capped", ProRataRevenue(), 0, 100_000),
    ]
    results = simulate(env, ms, scenarios)
    assert [r.total_distributed_cents for r in results] == [300_000_000] * 5
    assert results[3].min_cents >= 5_000 and results[3].max_cents <= 300_000
    assert results[4].max_cents <= 100_000


# ---------------------------------------------------------------- simulation

def test_simulation_reports_side_by_side_figures():
    ms = members(100, 200, 300, 400, 0)
    env = whole(1000)
    pro, eq = simulate(env, ms, [Scenario("pro", ProRataRevenue()), Scenario("eq", EqualShares())])
    assert (pro.total_distributed_cents, pro.eligible, pro.beneficiaries) == (1000, 4, 4)
    assert (pro.min_cents, pro.median_cents, pro.max_cents) == (100, 250, 400)
    assert pro.lower_half_share == pytest.approx(0.3)  # 100 + 200 of 1000
    assert eq.lower_half_share == pytest.approx(0.5)
    assert eq.gini == 0.0
    assert pro.gini == pytest.approx(0.25)


def test_beneficiaries_exclude_eligible_members_receiving_nothing():
    key = SectorWeighted({"90": 0})
    (r,) = simulate(whole(100), members(10, 10, sectors=["90.01", "62.01"]), [Scenario("s", key)])
    assert (r.eligible, r.beneficiaries, r.min_cents, r.max_cents) == (2, 1, 100, 100)
    assert r.gini == pytest.approx(0.5)


def test_scenario_names_must_be_unique():
    with pytest.raises(AlreadyExists):
        simulate(whole(1), members(1), [Scenario("a", EqualShares()), Scenario("a", ProRataRevenue())])


def test_gini_of_all_to_one_and_equal_and_empty():
    assert gini([0, 0, 0, 100]) == pytest.approx(0.75)
    assert gini([5, 5, 5]) == 0.0
    assert gini([]) == 0.0


def test_median_of_even_count_is_the_rounded_mean_of_the_middle_two():
    assert median_cents([1, 2, 3, 4]) == 3  # 2.5 -> 3
    assert median_cents([1, 2, 3]) == 2
    assert median_cents([]) == 0
