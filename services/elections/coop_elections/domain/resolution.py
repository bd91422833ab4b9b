"""Yes / no / abstain resolutions with a configurable majority and quorum.

* ``yes_share = yes / (yes + no)``: abstentions are not in the denominator
  (see :class:`~.model.Majority`), so abstaining never works as a "no".
* turnout = weight of ballots answering the question, abstentions included;
  the quorum (:class:`~.model.Quorum`) is checked against it.
* adopted = quorum met and majority met. With no expressed vote nothing is
  adopted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from .model import Majority, Method, Question
from .tiebreak import TieBreak


@dataclass(frozen=True)
class ResolutionResult:
    """Result of a resolution question."""

    question_id: str
    method: Method
    yes: int
    no: int
    abstain: int
    turnout: int
    roll_weight: int
    required_turnout: Fraction
    quorum_met: bool
    yes_share: Fraction | None  # None when nobody voted yes or no
    majority: Majority
    majority_met: bool
    adopted: bool
    tie_breaks: tuple[TieBreak, ...] = ()  # never any: kept for a uniform result shape


def count_resolution(
    question: Question, answers: Iterable[tuple[str, int]], roll_weight: int
) -> ResolutionResult:
    """Count validated ``(answer, weight)`` pairs."""
    totals = {"yes": 0, "no": 0, "abstain": 0}
    for answer, weight in answers:
        totals[answer] += weight
    yes, no, abstain = totals["yes"], totals["no"], totals["abstain"]
    turnout = yes + no + abstain
    required = question.quorum.required(roll_weight)
    quorum_met = turnout >= required
    majority_met = question.majority.is_met(yes, no)
    return ResolutionResult(
        question_id=question.id,
        method=question.method,
        yes=yes,
        no=no,
        abstain=abstain,
        turnout=turnout,
        roll_weight=roll_weight,
        required_turnout=required,
        quorum_met=quorum_met,
        yes_share=Fraction(yes, yes + no) if yes + no else None,
        majority=question.majority,
        majority_met=majority_met,
        adopted=quorum_met and majority_met,
    )
