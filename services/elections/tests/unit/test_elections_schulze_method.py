"""Schulze (Condorcet) counting."""

from __future__ import annotations

from coop_elections.domain.model import Method, Question
from coop_elections.domain.schulze import count_schulze
from coop_elections.domain.tiebreak import draw_order

WIKI_GROUPS = [
    (5, "ACBED"),
    (5, "ADECB"),
    (8, "BEDAC"),
    (3, "CABED"),
    (7, "CAEBD"),
    (2, "CBADE"),
    (7, "DCEBA"),
    (8, "EBADC"),
]


def test_wikipedia_schulze_example_ranks_e_a_c_b_d() -> None:
    """Wikipedia, "Schulze method", example: 45 voters, candidates A-E, winner E.

    Checks the published pairwise matrix d[*,*], the strongest-path matrix
    p[*,*] and the resulting order E > A > C > B > D.
    """
    q = Question("s", Method.SCHULZE, tuple("ABCDE"), 1)
    r = count_schulze(q, [(list(order), n) for n, order in WIKI_GROUPS], "seed")
    assert r.pairwise == (
        (0, 20, 26, 30, 22),
        (25, 0, 16, 33, 18),
        (19, 29, 0, 17, 24),
        (15, 12, 28, 0, 14),
        (23, 27, 21, 31, 0),
    )
    assert r.strongest == (
        (0, 28, 28, 30, 24),
        (25, 0, 28, 33, 24),
        (25, 29, 0, 29, 24),
        (25, 28, 28, 0, 24),
        (25, 28, 28, 31, 0),
    )
    assert r.ranking == ("E", "A", "C", "B", "D")
    assert r.winners == ("E",)
    assert r.ballots == 45
    assert r.tie_breaks == ()


def test_weights_equal_repeated_ballots() -> None:
    q = Question("s", Method.SCHULZE, tuple("ABCDE"), 2)
    weighted = count_schulze(q, [(list(o), n) for n, o in WIKI_GROUPS], "s")
    expanded = count_schulze(q, [(list(o), 1) for n, o in WIKI_GROUPS for _ in range(n)], "s")
    assert weighted == expanded
    assert weighted.winners == ("E", "A")


def test_ranked_candidates_beat_unranked_and_unranked_are_not_compared() -> None:
    q = Question("s", Method.SCHULZE, ("a", "b", "c"), 1)
    r = count_schulze(q, [(["a"], 1)], "s")
    assert r.pairwise == ((0, 1, 1), (0, 0, 0), (0, 0, 0))
    assert r.ranking[0] == "a"


def test_condorcet_cycle_with_equal_strengths_is_ordered_by_recorded_draw() -> None:
    q = Question("s", Method.SCHULZE, ("a", "b", "c"), 1)
    ballots = [(["a", "b", "c"], 1), (["b", "c", "a"], 1), (["c", "a", "b"], 1)]
    r = count_schulze(q, ballots, "cycle-seed")
    assert r.ranking == draw_order("cycle-seed", ("a", "b", "c"))
    assert len(r.tie_breaks) == 1
    assert r.tie_breaks[0].tied == ("a", "b", "c")
    assert r.tie_breaks[0].step == "schulze: ranking tier 1"


def test_blank_rankings_are_counted_apart() -> None:
    q = Question("s", Method.SCHULZE, ("a", "b"), 1)
    r = count_schulze(q, [([], 4), (["b", "a"], 1)], "s")
    assert (r.ballots, r.blank, r.winners) == (1, 4, ("b",))
