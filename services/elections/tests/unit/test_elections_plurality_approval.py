"""Plurality at-large and approval counting."""

from __future__ import annotations

from coop_elections.domain.model import Method, Question
from coop_elections.domain.plurality import count_choices
from coop_elections.domain.tiebreak import draw_order


def test_plurality_single_seat_elects_the_candidate_with_most_votes() -> None:
    q = Question("p", Method.PLURALITY, ("ann", "bob", "cat"), 1)
    r = count_choices(q, [(["ann"], 1)] * 3 + [(["bob"], 1)] * 5 + [(["cat"], 1)] * 2, "s")
    assert dict(r.tallies) == {"ann": 3, "bob": 5, "cat": 2}
    assert r.winners == ("bob",)
    assert r.ballots == 10


def test_plurality_at_large_elects_the_n_highest() -> None:
    q = Question("p", Method.PLURALITY, ("a", "b", "c", "d"), 2)
    ballots = [(["a", "b"], 4), (["c", "d"], 3), (["a", "c"], 2), ([], 1)]
    r = count_choices(q, ballots, "s")
    assert dict(r.tallies) == {"a": 6, "b": 4, "c": 5, "d": 3}
    assert r.winners == ("a", "c")
    assert (r.ballots, r.blank) == (10, 1)


def test_approval_counts_every_approved_candidate_with_the_ballot_weight() -> None:
    q = Question("ap", Method.APPROVAL, ("x", "y", "z"), 1)
    r = count_choices(q, [(["x", "y"], 3), (["y", "z"], 2), (["z"], 4)], "s")
    assert dict(r.tallies) == {"x": 3, "y": 5, "z": 6}
    assert r.winners == ("z",)


def test_tie_for_last_seat_is_drawn_and_recorded_but_ties_above_the_cut_are_not() -> None:
    q = Question("p", Method.PLURALITY, ("a", "b", "c", "d", "e"), 3)
    ballots = [(["a", "b"], 5), (["c"], 2), (["d"], 2), (["e"], 2)]
    r = count_choices(q, ballots, "draw-seed")
    expected_last = draw_order("draw-seed", ("c", "d", "e"))[0]
    assert r.winners == ("a", "b", expected_last)
    assert len(r.tie_breaks) == 1
    record = r.tie_breaks[0]
    assert record.tied == ("c", "d", "e")
    assert record.seed == "draw-seed"
    assert record.order == draw_order("draw-seed", ("c", "d", "e"))


def test_no_tie_break_when_the_tie_does_not_decide_a_seat() -> None:
    q = Question("p", Method.PLURALITY, ("a", "b", "c"), 1)
    r = count_choices(q, [(["a"], 3), (["b"], 1), (["c"], 1)], "s")
    assert r.winners == ("a",)
    assert r.tie_breaks == ()
