"""STV (Droop quota, weighted inclusive Gregory, Scottish rules) behaviour."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

from coop_elections.domain.model import Method, Question
from coop_elections.domain.stv import count_stv
from coop_elections.domain.tiebreak import draw_order

FOOD = ("Orange", "Pear", "Chocolate", "Strawberry", "Hamburger")
FOOD_BALLOTS = [
    (["Orange"], 4),
    (["Pear", "Orange"], 2),
    (["Chocolate", "Strawberry"], 8),
    (["Chocolate", "Hamburger"], 4),
    (["Strawberry"], 1),
    (["Hamburger"], 1),
]


def _tally(rnd, candidate):
    return dict(rnd.tallies)[candidate]


def test_wikipedia_food_election_elects_chocolate_orange_strawberry() -> None:
    """Wikipedia, "Single transferable vote", worked example (20 voters, 3 seats, Droop quota 6).

    Chocolate is elected on first preferences with 12 votes; its surplus of 6
    goes at 1/2 to Strawberry (+4) and Hamburger (+2); Pear is excluded and
    Orange reaches 6; Hamburger is excluded (its ballots exhaust) and
    Strawberry takes the last seat.
    """
    r = count_stv(Question("food", Method.STV, FOOD, 3), FOOD_BALLOTS, "seed")
    assert r.quota == 6
    assert r.winners == ("Chocolate", "Orange", "Strawberry")
    first, surplus, pear, hamburger, fill = r.rounds
    assert first.elected == ("Chocolate",)
    assert _tally(first, "Chocolate") == 12
    assert (surplus.action, surplus.candidate) == ("surplus", "Chocolate")
    assert surplus.transfer_factor == Fraction(1, 2)
    assert dict(surplus.transfers) == {"Strawberry": 4, "Hamburger": 2}
    assert _tally(surplus, "Chocolate") == 6
    assert (pear.action, pear.excluded, pear.elected) == ("exclusion", ("Pear",), ("Orange",))
    assert _tally(pear, "Orange") == 6
    assert hamburger.excluded == ("Hamburger",)
    assert hamburger.exhausted == 3 and hamburger.exhausted_total == 3
    assert (fill.action, fill.elected) == ("fill", ("Strawberry",))
    assert r.tie_breaks == ()


def test_droop_quota_is_floor_of_valid_weight_over_seats_plus_one_plus_one() -> None:
    q = Question("q", Method.STV, ("a", "b", "c"), 2)
    r = count_stv(q, [(["a"], 10), (["b"], 10), ([], 5)], "s")
    assert (r.valid, r.blank, r.quota) == (20, 5, 7)


def test_count_stops_as_soon_as_all_seats_are_filled_leaving_surplus_untransferred() -> None:
    q = Question("q", Method.STV, ("a", "b", "c"), 1)
    r = count_stv(q, [(["a", "b"], 7), (["c"], 3)], "s")
    assert r.winners == ("a",)
    assert len(r.rounds) == 1


def test_inclusive_gregory_transfers_every_ballot_at_truncated_value() -> None:
    q = Question("q", Method.STV, ("a", "b", "c", "d"), 2)
    # 10 valid, quota 4; a has 7 (surplus 3): 7 ballots at 3/7 = 0.42857 each
    ballots = [(["a", "b"], 5), (["a", "c"], 2), (["d"], 3)]
    r = count_stv(q, ballots, "s")
    surplus = r.rounds[1]
    assert surplus.transfer_factor == Fraction(3, 7)
    assert dict(surplus.transfers) == {"b": Decimal("2.14285"), "c": Decimal("0.85714")}
    assert surplus.rounding_loss == Decimal("0.00001")
    assert _tally(surplus, "a") == 4


def test_surplus_of_later_elected_candidate_carries_previous_transfer_value() -> None:
    """WIGM: a ballot arriving at 0.5 is passed on at surplus x 0.5 / total."""
    q = Question("q", Method.STV, ("a", "b", "c", "d"), 3)
    ballots = [(["a", "b", "c"], 12), (["b"], 2), (["d"], 3), (["c"], 2)]
    r = count_stv(q, ballots, "s")
    assert r.quota == 5  # 19 // 4 + 1
    assert r.rounds[1].candidate == "a"
    # a's 12 ballots move at 7/12 -> 0.58333 each: b = 2 + 6.99996 = 8.99996, elected
    assert r.rounds[1].elected == ("b",)
    assert _tally(r.rounds[1], "b") == Decimal("8.99996")
    b_surplus = r.rounds[2]
    assert b_surplus.candidate == "b"
    # surplus 3.99996; a ballot received at 0.58333 goes on at
    # 3.99996 x 0.58333 / 8.99996 = 0.259256... -> 0.25925 (remainder ignored)
    assert dict(b_surplus.transfers)["c"] == Decimal("0.25925") * 12
    assert b_surplus.exhausted == Decimal("0.88888")  # the 2 plain 'b' ballots: 2 * 0.44444


def test_exhausted_value_accumulates_across_rounds() -> None:
    q = Question("q", Method.STV, ("a", "b", "c"), 1)
    r = count_stv(q, [(["a"], 2), (["b"], 3), (["c"], 4)], "s")
    # quota 5; a (2) then b (3) are excluded with no further preference
    assert [rd.exhausted for rd in r.rounds] == [0, 2, 3, 0]
    assert r.rounds[-1].exhausted_total == 5
    assert r.winners == ("c",)


def test_weighted_ballot_counts_as_that_many_identical_ballots() -> None:
    q = Question("q", Method.STV, ("a", "b", "c"), 2)
    weighted = count_stv(q, [(["a", "b"], 5), (["c"], 3), (["b"], 2)], "s")
    expanded = count_stv(q, [(["a", "b"], 1)] * 5 + [(["c"], 1)] * 3 + [(["b"], 1)] * 2, "s")
    assert weighted == expanded


def test_all_remaining_candidates_elected_when_they_equal_the_open_seats() -> None:
    q = Question("q", Method.STV, ("a", "b"), 2)
    r = count_stv(q, [(["a"], 1)], "s")
    assert r.winners == ("a", "b")


def test_equal_lowest_candidates_excluded_by_look_back_before_any_draw() -> None:
    """b and c tie on 5 after round 2, but b had fewer at round 1: b is excluded, no draw."""
    q = Question("q", Method.STV, ("a", "b", "c", "d"), 1)
    ballots = [(["a"], 10), (["b"], 4), (["c"], 5), (["d", "b"], 1)]
    r = count_stv(q, ballots, "s")  # quota 11
    assert r.rounds[1].excluded == ("d",)
    assert _tally(r.rounds[1], "b") == _tally(r.rounds[1], "c") == 5
    assert r.rounds[2].excluded == ("b",)
    assert r.tie_breaks == ()


def test_full_tie_excludes_the_candidate_last_in_the_seeded_draw_and_records_it() -> None:
    q = Question("q", Method.STV, ("a", "b", "c"), 1)
    ballots = [(["a"], 1), (["b"], 1), (["c"], 1)]
    r = count_stv(q, ballots, "my-seed")
    order = draw_order("my-seed", ("a", "b", "c"))
    assert r.rounds[1].excluded == (order[-1],)
    assert r.tie_breaks[0].tied == ("a", "b", "c")
    assert r.tie_breaks[0].step == "stv round 2: exclusion"
    assert r.tie_breaks[0].order == order


def test_empty_rankings_do_not_count_towards_the_quota() -> None:
    q = Question("q", Method.STV, ("a", "b"), 1)
    r = count_stv(q, [([], 100), (["a"], 2), (["b"], 1)], "s")
    assert (r.valid, r.blank, r.quota, r.winners) == (3, 100, 2, ("a",))


def test_large_aggregated_count_is_identical_to_per_ballot_count() -> None:
    import random

    rng = random.Random(7)
    cands = tuple("abcdefghi")
    rankings = [tuple(rng.sample(cands, rng.randint(1, 4))) for _ in range(400)]
    q = Question("q", Method.STV, cands, 5)
    one_by_one = count_stv(q, [(list(r), 1) for r in rankings], "s")
    from collections import Counter

    grouped = count_stv(q, [(list(r), w) for r, w in Counter(rankings).items()], "s")
    assert one_by_one == grouped


@pytest.mark.parametrize("seats", [1, 2, 3])
def test_number_of_winners_equals_seats(seats: int) -> None:
    q = Question("q", Method.STV, ("a", "b", "c", "d"), seats)
    r = count_stv(q, [(["a", "b"], 3), (["c"], 2), (["d", "a"], 4)], "s")
    assert len(r.winners) == seats == len(set(r.winners))
