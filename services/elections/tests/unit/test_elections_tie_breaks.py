"""The seeded draw: reproducible, seed-dependent, recorded."""

from __future__ import annotations

import hashlib

from coop_elections.domain.counting import count_election
from coop_elections.domain.model import CastBallot, ElectionDefinition, Method, Question
from coop_elections.domain.tiebreak import TieBreaker, draw_key, draw_order

CANDS = tuple(f"cand-{i}" for i in range(8))


def test_draw_key_is_sha256_of_seed_separator_and_candidate() -> None:
    expected = hashlib.sha256(b"2026-seed\x1fcand-1").hexdigest()
    assert draw_key("2026-seed", "cand-1") == expected


def test_same_seed_gives_the_same_order() -> None:
    assert draw_order("abc", CANDS) == draw_order("abc", tuple(reversed(CANDS)))


def test_different_seeds_can_give_different_orders() -> None:
    orders = {draw_order(f"seed-{i}", CANDS) for i in range(10)}
    assert len(orders) > 1


def test_tie_breaker_records_candidates_step_seed_and_order() -> None:
    tb = TieBreaker("s", "q1")
    order = tb.order(["b", "a"], "step x")
    (record,) = tb.records
    assert (record.question_id, record.step, record.tied, record.seed, record.order) == (
        "q1",
        "step x",
        ("a", "b"),
        "s",
        order,
    )


def test_single_candidate_needs_no_draw_and_leaves_no_record() -> None:
    tb = TieBreaker("s", "q")
    assert tb.order(["a"], "x") == ("a",)
    assert tb.records == []


def _tied_election(seed: str):
    definition = ElectionDefinition(
        "e", (Question("q", Method.PLURALITY, CANDS, 1),), tie_break_seed=seed
    )
    return count_election(definition, [CastBallot({"q": [c]}) for c in CANDS])


def test_election_result_is_reproducible_and_publishes_seed_and_record() -> None:
    first, again = _tied_election("published-seed"), _tied_election("published-seed")
    assert first == again
    assert first.tie_break_seed == "published-seed"
    (record,) = first.tie_breaks
    assert record.tied == tuple(sorted(CANDS))
    assert first.questions[0].winners == (record.order[0],)


def test_changing_the_seed_can_change_the_winner_of_a_full_tie() -> None:
    winners = {_tied_election(f"seed-{i}").questions[0].winners for i in range(20)}
    assert len(winners) > 1
