"""Single transferable vote: Droop quota, weighted inclusive Gregory method.

We follow the Scottish STV rules (Scottish Local Government Elections Order
2007, SSI 2007/42, schedule 1, rules 45-52), which are WIGM:

* quota (Droop) = floor(valid weight / (seats + 1)) + 1, an integer;
* a candidate whose votes reach the quota is elected;
* surpluses are transferred one at a time, largest first, before any
  exclusion (no deferral of small surpluses);
* a surplus transfer is *inclusive* and *weighted*: every ballot the elected
  candidate holds goes on, each at transfer value
  ``surplus x value_of_ballot / candidate_total`` truncated to 5 decimal
  places (rule 48(3)); ballots with no further continuing preference are
  non-transferable ("exhausted"); the value dropped by truncation is recorded
  as rounding loss; the elected candidate is left with exactly the quota;
* when no surplus remains the continuing candidate with the fewest votes is
  excluded and all their ballots move on in one round at their current value;
* when the continuing candidates are no more than the seats left, they are
  all elected.

Ties (equal surplus, equal lowest, equal totals when electing several at once)
are decided by looking back: the candidate with more votes at the earliest
round where the tied candidates differed is favoured (the whole vote history
is compared lexicographically); only if they were equal at every round does
the seeded draw (:mod:`.tiebreak`) decide, and that draw is recorded.

Arithmetic is exact fixed-point: every ballot value and total is an integer
number of 1e-5 vote units, which is precisely what "5 decimal places, remainder
ignored" prescribes, so a recount reproduces every digit. Identical rankings
are aggregated into one parcel (with their summed weight) before counting;
since a parcel is never split, this changes nothing but speed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from .model import Method, Question
from .tiebreak import TieBreak, TieBreaker

SCALE = 10**5  # one vote = 100000 units: 5 decimal places


def _dec(units: int) -> Decimal:
    return Decimal(units).scaleb(-5)


@dataclass(frozen=True)
class StvRound:
    """One round (stage) of the count, as published."""

    number: int
    action: str  # "first preferences" | "surplus" | "exclusion" | "fill"
    candidate: str | None  # whose surplus / ballots moved (None for first and fill)
    transfer_factor: Fraction | None  # surplus / total before truncation (surplus rounds)
    transfers: tuple[tuple[str, Decimal], ...]  # value received per candidate this round
    exhausted: Decimal  # non-transferable value this round
    rounding_loss: Decimal  # value dropped by 5-dp truncation this round
    tallies: tuple[tuple[str, Decimal], ...]  # every candidate's total after the round
    exhausted_total: Decimal
    elected: tuple[str, ...]  # elected in this round, in order
    excluded: tuple[str, ...]


@dataclass(frozen=True)
class StvResult:
    """Result of an STV question: the quota, every round, the winners."""

    question_id: str
    method: Method
    seats: int
    valid: int  # weight of non-empty rankings
    blank: int  # weight of empty rankings (not in the quota)
    quota: int
    rounds: tuple[StvRound, ...]
    winners: tuple[str, ...]  # in order of election
    tie_breaks: tuple[TieBreak, ...]


class _Parcel:
    """All ballots sharing one ranking: they always travel together."""

    __slots__ = ("ranking", "idx", "value", "count")

    def __init__(self, ranking: tuple[str, ...], count: int) -> None:
        self.ranking = ranking
        self.idx = 0  # position of the candidate currently holding the parcel
        self.value = SCALE  # value of one ballot, in units
        self.count = count  # summed weight


class _Count:
    def __init__(self, question: Question, agg: Counter[tuple[str, ...]], seed: str) -> None:
        self.q = question
        self.cands = question.candidates
        self.valid = sum(agg.values())
        self.quota = self.valid // (question.seats + 1) + 1
        self.quota_units = self.quota * SCALE
        self.tb = TieBreaker(seed, question.id)
        self.piles: dict[str, list[_Parcel]] = {c: [] for c in self.cands}
        self.votes: dict[str, int] = dict.fromkeys(self.cands, 0)
        self.continuing: set[str] = set(self.cands)
        self.elected: list[str] = []
        self.excluded: list[str] = []
        self.history: list[dict[str, int]] = []
        self.rounds: list[StvRound] = []
        self.exhausted_total = 0
        for ranking, weight in sorted(agg.items()):
            parcel = _Parcel(ranking, weight)
            self.piles[ranking[0]].append(parcel)
            self.votes[ranking[0]] += SCALE * weight

    # -- ties -------------------------------------------------------------
    def _order(self, cands: Iterable[str], step: str) -> list[str]:
        """Highest first: current votes, then history (earliest round first), then draw."""

        def key(c: str) -> tuple[int, ...]:
            return (self.votes[c], *(h[c] for h in self.history))

        ordered = sorted(cands, key=key, reverse=True)
        out: list[str] = []
        i = 0
        while i < len(ordered):
            j = i + 1
            while j < len(ordered) and key(ordered[j]) == key(ordered[i]):
                j += 1
            out.extend(self.tb.order(ordered[i:j], step) if j - i > 1 else ordered[i:j])
            i = j
        return out

    def _extreme(self, cands: list[str], highest: bool, step: str) -> str:
        """The favoured (highest) or least favoured (lowest) candidate, drawing only if needed."""

        def key(c: str) -> tuple[int, ...]:
            return (self.votes[c], *(h[c] for h in self.history))

        best = (max if highest else min)(key(c) for c in cands)
        group = [c for c in cands if key(c) == best]
        if len(group) == 1:
            return group[0]
        drawn = self.tb.order(group, step)
        return drawn[0] if highest else drawn[-1]

    # -- moves ------------------------------------------------------------
    def _next(self, parcel: _Parcel) -> str | None:
        ranking = parcel.ranking
        for j in range(parcel.idx + 1, len(ranking)):
            if ranking[j] in self.continuing:
                parcel.idx = j
                return ranking[j]
        return None

    def _move(self, source: str, factor: tuple[int, int] | None) -> tuple[dict[str, int], int]:
        """Move every parcel of ``source``; ``factor`` = (surplus, total) for a surplus."""
        received: dict[str, int] = {}
        exhausted = 0
        for parcel in self.piles[source]:
            if factor is not None:
                parcel.value = factor[0] * parcel.value // factor[1]
                if parcel.value == 0:
                    continue  # worth nothing any more: dropping it changes no total
            amount = parcel.value * parcel.count
            nxt = self._next(parcel)
            if nxt is None:
                exhausted += amount
                continue
            self.piles[nxt].append(parcel)
            self.votes[nxt] += amount
            received[nxt] = received.get(nxt, 0) + amount
        self.piles[source] = []
        self.exhausted_total += exhausted
        return received, exhausted

    def _elect_reached(self, step: str) -> list[str]:
        reached = [
            c for c in self.cands if c in self.continuing and self.votes[c] >= self.quota_units
        ]
        ordered = self._order(reached, step)
        for c in ordered:
            self.continuing.discard(c)
            self.elected.append(c)
        return ordered

    def _record(
        self,
        action: str,
        candidate: str | None,
        factor: Fraction | None,
        received: dict[str, int],
        exhausted: int,
        loss: int,
        elected: Sequence[str],
        excluded: Sequence[str],
    ) -> None:
        self.rounds.append(
            StvRound(
                number=len(self.rounds) + 1,
                action=action,
                candidate=candidate,
                transfer_factor=factor,
                transfers=tuple((c, _dec(received[c])) for c in self.cands if c in received),
                exhausted=_dec(exhausted),
                rounding_loss=_dec(loss),
                tallies=tuple((c, _dec(self.votes[c])) for c in self.cands),
                exhausted_total=_dec(self.exhausted_total),
                elected=tuple(elected),
                excluded=tuple(excluded),
            )
        )
        self.history.append(dict(self.votes))

    # -- the count --------------------------------------------------------
    def run(self) -> None:
        seats = self.q.seats
        first = self._elect_reached("stv round 1: order of election")
        self._record("first preferences", None, None, {}, 0, 0, first, ())
        while len(self.elected) < seats:
            n = len(self.rounds) + 1
            remaining = seats - len(self.elected)
            if len(self.continuing) <= remaining:
                rest = self._order(self.continuing, f"stv round {n}: order of election")
                self.continuing.clear()
                self.elected.extend(rest)
                self._record("fill", None, None, {}, 0, 0, rest, ())
                break
            pending = [c for c in self.elected if self.votes[c] > self.quota_units]
            if pending:
                source = self._extreme(pending, True, f"stv round {n}: surplus to transfer")
                total = self.votes[source]
                surplus = total - self.quota_units
                received, exhausted = self._move(source, (surplus, total))
                self.votes[source] = self.quota_units
                loss = surplus - sum(received.values()) - exhausted
                new = self._elect_reached(f"stv round {n}: order of election")
                self._record(
                    "surplus", source, Fraction(surplus, total), received, exhausted, loss, new, ()
                )
            else:
                source = self._extreme(sorted(self.continuing), False, f"stv round {n}: exclusion")
                self.continuing.discard(source)
                self.excluded.append(source)
                received, exhausted = self._move(source, None)
                self.votes[source] = 0
                new = self._elect_reached(f"stv round {n}: order of election")
                self._record("exclusion", source, None, received, exhausted, 0, new, (source,))


def count_stv(
    question: Question, ballots: Iterable[tuple[Sequence[str], int]], seed: str
) -> StvResult:
    """Count validated ``(ranking, weight)`` pairs; see the module docstring for the rules."""
    agg: Counter[tuple[str, ...]] = Counter()
    blank = 0
    for ranking, weight in ballots:
        if ranking:
            agg[tuple(ranking)] += weight
        else:
            blank += weight
    count = _Count(question, agg, seed)
    count.run()
    return StvResult(
        question_id=question.id,
        method=question.method,
        seats=question.seats,
        valid=count.valid,
        blank=blank,
        quota=count.quota,
        rounds=tuple(count.rounds),
        winners=tuple(count.elected),
        tie_breaks=tuple(count.tb.records),
    )
