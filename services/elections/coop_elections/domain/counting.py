"""Count a whole election: dispatch each question to its method.

Input is already-validated :class:`~.model.CastBallot` objects (the ballot
box validates on cast, :func:`.ballot_box.recount` re-validates published
ballots). The result is a plain, comparable value: recounting the published
box must give an *equal* :class:`ElectionResult`, which is what auditors and
tests check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .model import CastBallot, ElectionDefinition, Method, Question
from .plurality import ChoiceResult, count_choices
from .resolution import ResolutionResult, count_resolution
from .schulze import SchulzeResult, count_schulze
from .stv import StvResult, count_stv
from .tiebreak import TieBreak

QuestionResult = ChoiceResult | StvResult | SchulzeResult | ResolutionResult


@dataclass(frozen=True)
class ElectionResult:
    """Everything published after the count, including the seed."""

    election_id: str
    tie_break_seed: str
    ballots: int  # number of counted ballots
    total_weight: int
    questions: tuple[QuestionResult, ...]

    @property
    def tie_breaks(self) -> tuple[TieBreak, ...]:
        """All draws used, across questions."""
        return tuple(tb for q in self.questions for tb in q.tie_breaks)

    def question(self, question_id: str) -> QuestionResult:
        """Result of one question by id."""
        for q in self.questions:
            if q.question_id == question_id:
                return q
        raise KeyError(question_id)


def count_question(
    question: Question, ballots: Iterable[CastBallot], seed: str, roll_weight: int = 0
) -> QuestionResult:
    """Count one question; ballots that do not answer it are ignored."""
    answers = [(b.content[question.id], b.weight) for b in ballots if question.id in b.content]
    if question.method in (Method.PLURALITY, Method.APPROVAL):
        return count_choices(question, answers, seed)
    if question.method is Method.STV:
        return count_stv(question, answers, seed)
    if question.method is Method.SCHULZE:
        return count_schulze(question, answers, seed)
    return count_resolution(question, answers, roll_weight)


def count_election(definition: ElectionDefinition, ballots: Iterable[CastBallot]) -> ElectionResult:
    """Count every question of ``definition`` over the counted ballots."""
    ballots = list(ballots)
    return ElectionResult(
        election_id=definition.id,
        tie_break_seed=definition.tie_break_seed,
        ballots=len(ballots),
        total_weight=sum(b.weight for b in ballots),
        questions=tuple(
            count_question(q, ballots, definition.tie_break_seed, definition.roll_weight)
            for q in definition.questions
        ),
    )
