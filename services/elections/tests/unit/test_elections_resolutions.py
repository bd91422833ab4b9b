"""Yes/no/abstain resolutions: majorities and quorums."""

from __future__ import annotations

from fractions import Fraction

import pytest

from coop_domain.errors import InvalidArgument
from coop_elections.domain.model import Majority, Method, Question, Quorum
from coop_elections.domain.resolution import count_resolution


def _count(yes: int, no: int, abstain: int = 0, **question_kw):
    roll = question_kw.pop("roll", 0)
    q = Question("r", Method.RESOLUTION, **question_kw)
    answers = [("yes", yes), ("no", no), ("abstain", abstain)]
    return count_resolution(q, [(a, w) for a, w in answers if w], roll)


def test_simple_majority_needs_more_yes_than_no() -> None:
    assert _count(51, 50).adopted
    assert not _count(50, 50).adopted


def test_abstentions_do_not_count_in_the_majority_denominator() -> None:
    r = _count(3, 2, abstain=100)
    assert r.yes_share == Fraction(3, 5)
    assert r.adopted


def test_two_thirds_majority_is_met_exactly_at_two_thirds() -> None:
    two_thirds = Majority.two_thirds()
    assert _count(200, 100, majority=two_thirds).adopted
    assert not _count(199, 100, majority=two_thirds).adopted


def test_strict_threshold_excludes_the_threshold_itself() -> None:
    strict = Majority(Fraction(2, 3), strict=True)
    assert not _count(200, 100, majority=strict).adopted
    assert _count(201, 100, majority=strict).adopted


def test_nothing_is_adopted_without_any_expressed_vote() -> None:
    r = _count(0, 0, abstain=10)
    assert r.yes_share is None
    assert not r.adopted


def test_quorum_as_count_includes_abstentions_and_is_met_at_the_exact_number() -> None:
    quorum = Quorum(min_count=100)
    r = _count(60, 20, abstain=20, quorum=quorum)
    assert (r.turnout, r.quorum_met, r.adopted) == (100, True, True)
    r = _count(60, 20, abstain=19, quorum=quorum)
    assert (r.quorum_met, r.majority_met, r.adopted) == (False, True, False)


def test_quorum_as_fraction_of_the_roll() -> None:
    quorum = Quorum(min_fraction=Fraction(1, 10))
    r = _count(834, 0, quorum=quorum, roll=41702)  # needs 4170.2
    assert r.required_turnout == Fraction(41702, 10)
    assert not r.quorum_met
    assert _count(4171, 0, quorum=quorum, roll=41702).quorum_met


def test_both_quorum_limits_must_be_met() -> None:
    quorum = Quorum(min_count=50, min_fraction=Fraction(1, 100))
    assert not _count(40, 0, quorum=quorum, roll=1000).quorum_met
    assert _count(50, 0, quorum=quorum, roll=1000).quorum_met


def test_weights_count_in_totals_and_turnout() -> None:
    q = Question("r", Method.RESOLUTION, quorum=Quorum(min_count=10))
    r = count_resolution(q, [("yes", 7), ("no", 3)], 0)
    assert (r.yes, r.no, r.turnout, r.adopted) == (7, 3, 10, True)


@pytest.mark.parametrize("threshold", [Fraction(-1, 2), Fraction(3, 2)])
def test_majority_threshold_outside_zero_one_is_rejected(threshold: Fraction) -> None:
    with pytest.raises(InvalidArgument):
        Majority(threshold)


def test_negative_quorum_is_rejected() -> None:
    with pytest.raises(InvalidArgument):
        Quorum(min_count=-1)
