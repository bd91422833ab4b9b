"""Election definitions and cast ballots (value objects).

An election has one or more questions; each question names its counting
method. Ballot *content* is plain JSON data keyed by question id:

* plurality / approval: ``["cand-a", "cand-b"]`` (the chosen candidates);
* stv / schulze: ``["cand-b", "cand-a"]`` (preference order, partial allowed);
* resolution: ``"yes"`` | ``"no"`` | ``"abstain"``.

A question missing from the content was not answered on that ballot.
Every ballot has an integer weight (1 by default; partner cooperatives may use
other integer weights, e.g. shares held) and every method honours it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

from coop_domain.errors import InvalidArgument, NotFound


class Method(StrEnum):
    """How a question is counted."""

    PLURALITY = "plurality"  # choose up to N, N winners (at-large)
    APPROVAL = "approval"  # approve any number, N winners
    STV = "stv"  # single transferable vote, Droop quota, WIGM
    SCHULZE = "schulze"  # Condorcet / Schulze ranking
    RESOLUTION = "resolution"  # yes / no / abstain


CANDIDATE_METHODS = frozenset({Method.PLURALITY, Method.APPROVAL, Method.STV, Method.SCHULZE})
RANKED_METHODS = frozenset({Method.STV, Method.SCHULZE})
RESOLUTION_ANSWERS = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Majority:
    """Share of ``yes / (yes + no)`` a resolution needs.

    Abstentions are *not* in the denominator: abstaining means "count me for
    the quorum, not for the decision". ``strict=True`` means the share must
    exceed ``threshold`` (a simple majority is "more yes than no"), otherwise
    reaching it is enough (a two-thirds majority is "at least 2/3").
    """

    threshold: Fraction
    strict: bool = False

    def __post_init__(self) -> None:
        if not isinstance(self.threshold, Fraction) or not 0 <= self.threshold <= 1:
            raise InvalidArgument("majority threshold must be a Fraction between 0 and 1")

    def is_met(self, yes: int, no: int) -> bool:
        """Whether ``yes`` out of ``yes + no`` expressed votes carries; nothing expressed fails."""
        if yes + no == 0:
            return False
        share = Fraction(yes, yes + no)
        return share > self.threshold if self.strict else share >= self.threshold

    @classmethod
    def simple(cls) -> Majority:
        """More yes than no."""
        return cls(Fraction(1, 2), strict=True)

    @classmethod
    def two_thirds(cls) -> Majority:
        """At least two thirds of the expressed votes."""
        return cls(Fraction(2, 3), strict=False)


@dataclass(frozen=True)
class Quorum:
    """Minimum turnout for a resolution to be valid.

    Turnout is the total weight of ballots that answered the question,
    abstentions included. Both limits may be set; both must then be met.
    ``min_fraction`` is taken of the roll weight given in the election.
    """

    min_count: int = 0
    min_fraction: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        if self.min_count < 0:
            raise InvalidArgument("quorum count must not be negative")
        if not isinstance(self.min_fraction, Fraction) or not 0 <= self.min_fraction <= 1:
            raise InvalidArgument("quorum fraction must be a Fraction between 0 and 1")

    def required(self, roll_weight: int) -> Fraction:
        """The turnout needed, as an exact number (may be fractional)."""
        return max(Fraction(self.min_count), self.min_fraction * roll_weight)


@dataclass(frozen=True)
class Question:
    """One thing voted on, with its counting method and parameters."""

    id: str
    method: Method
    candidates: tuple[str, ...] = ()
    seats: int = 1
    majority: Majority = field(default_factory=Majority.simple)
    quorum: Quorum = field(default_factory=Quorum)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvalidArgument("question id must be a non-empty string")
        if not isinstance(self.method, Method):
            raise InvalidArgument(f"question {self.id}: unknown method {self.method!r}")
        if self.method in CANDIDATE_METHODS:
            if not self.candidates:
                raise InvalidArgument(f"question {self.id}: needs at least one candidate")
            if any(not isinstance(c, str) or not c for c in self.candidates):
                raise InvalidArgument(
                    f"question {self.id}: candidate ids must be non-empty strings"
                )
            if len(set(self.candidates)) != len(self.candidates):
                raise InvalidArgument(f"question {self.id}: duplicate candidate ids")
            if not 1 <= self.seats <= len(self.candidates):
                raise InvalidArgument(
                    f"question {self.id}: seats must be between 1 and {len(self.candidates)}"
                )
        elif self.candidates:
            raise InvalidArgument(f"question {self.id}: a resolution has no candidates")

    @property
    def max_choices(self) -> int:
        """How many candidates one ballot may name for this question."""
        if self.method is Method.PLURALITY:
            return self.seats
        return len(self.candidates)


@dataclass(frozen=True)
class ElectionDefinition:
    """What a recount needs besides the ballots: questions, seed and roll size.

    ``tie_break_seed`` is published with the results so anyone can redo the
    draw; ``roll_weight`` (total weight of the voter roll) is only needed by
    fractional quorums.
    """

    id: str
    questions: tuple[Question, ...]
    tie_break_seed: str
    roll_weight: int = 0

    def __post_init__(self) -> None:
        if not self.id:
            raise InvalidArgument("election id must be non-empty")
        if not self.questions:
            raise InvalidArgument("an election needs at least one question")
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise InvalidArgument("duplicate question ids")
        if not isinstance(self.tie_break_seed, str) or not self.tie_break_seed:
            raise InvalidArgument("tie-break seed must be a non-empty string")
        if self.roll_weight < 0:
            raise InvalidArgument("roll weight must not be negative")
        for q in self.questions:
            if q.quorum.min_fraction and self.roll_weight <= 0:
                raise InvalidArgument(f"question {q.id}: a fractional quorum needs the roll weight")

    def question(self, question_id: str) -> Question:
        """Look a question up by id."""
        for q in self.questions:
            if q.id == question_id:
                return q
        raise NotFound(f"no question {question_id!r} in election {self.id!r}")


@dataclass(frozen=True, eq=True)
class CastBallot:
    """A validated ballot's content with its weight, as counted."""

    content: Mapping[str, Any]
    weight: int = 1

    __hash__ = None  # type: ignore[assignment]  # content is a dict
