"""Cross-check every counting method against the naive reference implementations.

A few hundred seeded random elections per method, small enough to produce
plenty of ties (so the look-back and draw rules are exercised too), with
partial rankings and integer weights.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from reference_impl import ref_choices, ref_schulze, ref_stv

from coop_elections.domain.model import Method, Question
from coop_elections.domain.plurality import count_choices
from coop_elections.domain.schulze import count_schulze
from coop_elections.domain.stv import count_stv

N_ELECTIONS = 300


def _random_election(rng: random.Random, ranked: bool, max_choices: int | None = None):
    n = rng.randint(2, 6)
    candidates = tuple(f"c{i}" for i in range(n))
    seats = rng.randint(1, n)
    ballots = []
    for _ in range(rng.randint(0, 30)):
        k = rng.randint(0, max_choices if max_choices is not None else n)
        choice = rng.sample(candidates, min(k, n))
        ballots.append((choice, rng.choice((1, 1, 1, 2, 3))))
    return candidates, seats, ballots, f"seed-{rng.random()}"


@pytest.mark.parametrize("method", [Method.PLURALITY, Method.APPROVAL])
def test_choice_counts_match_naive_reference_on_random_elections(method: Method) -> None:
    rng = random.Random(f"choices-{method}")
    for _ in range(N_ELECTIONS):
        candidates, seats, ballots, seed = _random_election(rng, ranked=False)
        if method is Method.PLURALITY:
            ballots = [(c[:seats], w) for c, w in ballots]
        q = Question("q", method, candidates, seats)
        got = count_choices(q, ballots, seed)
        tallies, winners = ref_choices(candidates, seats, ballots, seed)
        assert dict(got.tallies) == tallies
        assert set(got.winners) == winners
        assert len(got.winners) == seats


def test_schulze_matrices_and_ranking_match_naive_reference_on_random_elections() -> None:
    rng = random.Random("schulze")
    for _ in range(N_ELECTIONS):
        candidates, seats, ballots, seed = _random_election(rng, ranked=True)
        got = count_schulze(Question("q", Method.SCHULZE, candidates, seats), ballots, seed)
        d, p, ranking = ref_schulze(candidates, ballots, seed)
        for i, x in enumerate(candidates):
            for j, y in enumerate(candidates):
                assert got.pairwise[i][j] == d[x][y]
                assert got.strongest[i][j] == p[x][y]
        assert got.ranking == ranking
        assert got.winners == ranking[:seats]


def test_stv_rounds_and_winners_match_naive_reference_on_random_elections() -> None:
    rng = random.Random("stv")
    for _ in range(N_ELECTIONS):
        candidates, seats, ballots, seed = _random_election(rng, ranked=True)
        got = count_stv(Question("q", Method.STV, candidates, seats), ballots, seed)
        ref = ref_stv(candidates, seats, ballots, seed)
        assert got.quota == ref["quota"]
        assert got.winners == ref["winners"]
        assert len(got.rounds) == len(ref["rounds"])
        for mine, (action, cand, tallies, exhausted, new) in zip(
            got.rounds, ref["rounds"], strict=True
        ):
            assert (mine.action, mine.candidate, mine.elected) == (action, cand, new)
            assert dict(mine.tallies) == {
                c: Decimal(v.numerator) / v.denominator for c, v in tallies.items()
            }
            assert mine.exhausted_total == Decimal(exhausted.numerator) / exhausted.denominator


def test_stv_with_larger_random_electorates_matches_reference() -> None:
    """Fewer, larger elections: fractional transfer values and truncation actually bite."""
    rng = random.Random("stv-large")
    for _ in range(25):
        n = rng.randint(4, 7)
        candidates = tuple(f"c{i}" for i in range(n))
        seats = rng.randint(2, n - 1)
        ballots = [
            (rng.sample(candidates, rng.randint(1, n)), rng.randint(1, 3))
            for _ in range(rng.randint(50, 150))
        ]
        seed = str(rng.random())
        got = count_stv(Question("q", Method.STV, candidates, seats), ballots, seed)
        ref = ref_stv(candidates, seats, ballots, seed)
        assert got.winners == ref["winners"]
        assert [dict(r.tallies) for r in got.rounds] == [
            {c: Decimal(v.numerator) / v.denominator for c, v in t.items()}
            for _, _, t, _, _ in ref["rounds"]
        ]
