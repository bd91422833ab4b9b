"""Definitions and ballots are validated with clear InvalidArgument messages."""

from __future__ import annotations

from fractions import Fraction

import pytest

from coop_domain.errors import DomainError, InvalidArgument, NotFound
from coop_elections.domain.model import ElectionDefinition, Method, Question, Quorum
from coop_elections.domain.validation import validate_ballot, validate_weight

DEF = ElectionDefinition(
    "ga-2026",
    (
        Question("board", Method.PLURALITY, ("a", "b", "c", "d"), 2),
        Question("appr", Method.APPROVAL, ("a", "b", "c"), 1),
        Question("stv", Method.STV, ("a", "b", "c"), 2),
        Question("sch", Method.SCHULZE, ("a", "b", "c"), 1),
        Question("res", Method.RESOLUTION),
    ),
    tie_break_seed="seed",
)


def test_valid_ballot_is_returned_normalised_to_lists() -> None:
    content = {"board": ("a", "b"), "appr": ["a", "b", "c"], "stv": ["c"], "res": "abstain"}
    assert validate_ballot(DEF, content) == {
        "board": ["a", "b"],
        "appr": ["a", "b", "c"],
        "stv": ["c"],
        "res": "abstain",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"board": ["a", "b", "c"]}, "at most 2 choice(s)"),
        ({"board": ["a", "a"]}, "chosen twice"),
        ({"stv": ["a", "b", "a"]}, "ranked twice"),
        ({"sch": ["a", "zz"]}, "unknown candidate 'zz'"),
        ({"nope": []}, "unknown question 'nope'"),
        ({"res": "maybe"}, "yes, no, abstain"),
        ({"board": "a"}, "must be a list"),
        ({"board": [1]}, "must be strings"),
        (["board"], "object keyed by question id"),
    ],
)
def test_invalid_ballots_are_rejected_with_a_clear_message(content, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        validate_ballot(DEF, content)


def test_empty_answer_and_missing_question_are_allowed_as_blank() -> None:
    assert validate_ballot(DEF, {"board": []}) == {"board": []}
    assert validate_ballot(DEF, {}) == {}


@pytest.mark.parametrize("weight", [0, -1, True, 1.5, "2", 10**9 + 1])
def test_weights_must_be_positive_integers(weight) -> None:
    with pytest.raises(InvalidArgument):
        validate_weight(weight)


def test_integer_weight_is_accepted() -> None:
    assert validate_weight(3) == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": "", "method": Method.PLURALITY, "candidates": ("a",)},
        {"id": "q", "method": Method.PLURALITY, "candidates": ()},
        {"id": "q", "method": Method.PLURALITY, "candidates": ("a", "a")},
        {"id": "q", "method": Method.STV, "candidates": ("a", "b"), "seats": 3},
        {"id": "q", "method": Method.STV, "candidates": ("a", "b"), "seats": 0},
        {"id": "q", "method": Method.RESOLUTION, "candidates": ("a",)},
        {"id": "q", "method": "borda", "candidates": ("a",)},
    ],
)
def test_malformed_questions_are_rejected(kwargs) -> None:
    with pytest.raises(InvalidArgument):
        Question(**kwargs)


def test_definition_rejects_duplicate_questions_and_missing_seed() -> None:
    q = Question("q", Method.RESOLUTION)
    with pytest.raises(InvalidArgument, match="duplicate"):
        ElectionDefinition("e", (q, q), "s")
    with pytest.raises(InvalidArgument, match="seed"):
        ElectionDefinition("e", (q,), "")


def test_fractional_quorum_requires_the_roll_weight() -> None:
    q = Question("q", Method.RESOLUTION, quorum=Quorum(min_fraction=Fraction(1, 2)))
    with pytest.raises(InvalidArgument, match="roll weight"):
        ElectionDefinition("e", (q,), "s")


def test_unknown_question_lookup_is_not_found() -> None:
    with pytest.raises(NotFound):
        DEF.question("missing")


def test_every_elections_error_derives_from_the_shared_domain_error() -> None:
    from coop_elections.domain import errors

    for name in ("ChainBroken", "AlreadyVoted"):
        assert issubclass(getattr(errors, name), DomainError)
    assert errors.ChainBroken("x", 3).reason == "CHAIN_BROKEN" and errors.AlreadyVoted("x").reason == "ALREADY_VOTED"
