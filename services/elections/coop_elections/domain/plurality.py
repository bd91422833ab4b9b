"""Plurality at-large ("choose up to N") and approval counting.

Both methods count the same way — each chosen candidate receives the ballot's
full weight — and differ only in how many choices a ballot may hold (checked
by validation). The ``seats`` candidates with the highest totals win; a tie
across the last seat is settled by the seeded draw and recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Method, Question
from .tiebreak import TieBreak, TieBreaker


@dataclass(frozen=True)
class ChoiceResult:
    """Result of a plurality or approval question."""

    question_id: str
    method: Method
    seats: int
    tallies: tuple[tuple[str, int], ...]  # every candidate, in definition order
    winners: tuple[str, ...]  # by decreasing tally, draw order inside ties
    ballots: int  # weight of ballots that answered the question
    blank: int | None  # of which named no candidate (None: hidden by an encrypted tally)
    tie_breaks: tuple[TieBreak, ...]


def count_choices(
    question: Question, ballots: Iterable[tuple[Sequence[str], int]], seed: str
) -> ChoiceResult:
    """Count validated ``(choices, weight)`` pairs for a plurality/approval question."""
    totals = dict.fromkeys(question.candidates, 0)
    answered = blank = 0
    for choices, weight in ballots:
        answered += weight
        if not choices:
            blank += weight
        for c in choices:
            totals[c] += weight
    return choice_result(question, totals, answered, blank, seed)


def choice_result(question: Question, totals: dict[str, int], answered: int, blank: int | None,
                  seed: str) -> ChoiceResult:
    """Winners from per-candidate totals: what both the plaintext count and the encrypted
    (homomorphic) tally end with. ``blank`` is None where the encrypted tally cannot know it."""
    tb = TieBreaker(seed, question.id)
    winners = top_n(totals, question.seats, tb, f"{question.method.value}: last seat")
    return ChoiceResult(
        question_id=question.id,
        method=question.method,
        seats=question.seats,
        tallies=tuple(totals.items()),
        winners=winners,
        ballots=answered,
        blank=blank,
        tie_breaks=tuple(tb.records),
    )


def top_n(totals: dict[str, int], n: int, tb: TieBreaker, step: str) -> tuple[str, ...]:
    """The ``n`` highest, drawing only among the group that straddles the cut.

    Ties that do not decide a seat are not drawn (and not recorded): they
    change nothing and would only add noise to the published record.
    """
    ordered = sorted(totals, key=lambda c: -totals[c])
    if n >= len(ordered) or totals[ordered[n]] != totals[ordered[n - 1]]:
        return tuple(ordered[:n])
    cut_value = totals[ordered[n - 1]]
    above = [c for c in ordered if totals[c] > cut_value]
    tied = [c for c in ordered if totals[c] == cut_value]
    drawn = tb.order(tied, step)
    return tuple(above) + drawn[: n - len(above)]
