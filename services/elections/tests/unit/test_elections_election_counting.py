"""Counting a whole election: dispatch, weights, unanswered questions, publication."""

from __future__ import annotations

import json

from coop_elections.domain.canonical import to_jsonable
from coop_elections.domain.counting import count_election
from coop_elections.domain.model import CastBallot, ElectionDefinition, Method, Question

DEF = ElectionDefinition(
    "partner-ag",
    (
        Question("plur", Method.PLURALITY, ("a", "b", "c"), 1),
        Question("appr", Method.APPROVAL, ("a", "b", "c"), 1),
        Question("stv", Method.STV, ("a", "b", "c"), 1),
        Question("sch", Method.SCHULZE, ("a", "b", "c"), 1),
        Question("res", Method.RESOLUTION),
    ),
    tie_break_seed="s",
)


def _all(first: str, answer: str) -> dict:
    others = [c for c in "abc" if c != first]
    return {
        "plur": [first],
        "appr": [first],
        "stv": [first, *others],
        "sch": [first, *others],
        "res": answer,
    }


def test_every_method_honours_ballot_weights() -> None:
    """One partner with weight 5 outweighs four members of weight 1, in every method."""
    ballots = [CastBallot(_all("a", "yes"), weight=5)] + [CastBallot(_all("b", "no"))] * 4
    result = count_election(DEF, ballots)
    assert result.total_weight == 9 and result.ballots == 5
    for qid in ("plur", "appr", "stv", "sch"):
        assert result.question(qid).winners == ("a",), qid
    assert result.question("res").adopted


def test_ballots_that_skip_a_question_are_not_counted_for_it() -> None:
    ballots = [CastBallot({"res": "yes"}), CastBallot({"plur": ["c"]})]
    result = count_election(DEF, ballots)
    assert result.question("res").turnout == 1
    assert result.question("plur").ballots == 1
    assert result.question("stv").valid == 0


def test_result_renders_as_exact_json_for_publication() -> None:
    ballots = [CastBallot(_all("a", "yes"), 2), CastBallot(_all("c", "no"), 3)]
    data = to_jsonable(count_election(DEF, ballots))
    text = json.dumps(data)
    assert data["tie_break_seed"] == "s"
    stv = next(q for q in data["questions"] if q["question_id"] == "stv")
    assert stv["rounds"][0]["tallies"][0] == ["a", "2.00000"]
    res = next(q for q in data["questions"] if q["question_id"] == "res")
    assert res["yes_share"] == "2/5"
    assert json.loads(text) == data
