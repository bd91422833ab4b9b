"""Condorcet ranking by the Schulze method (winning votes).

* ``pairwise[i][j]`` = weight of ballots ranking candidate i above j. A ballot
  may rank only some candidates: ranked candidates are preferred to every
  unranked one; unranked candidates are not compared with each other.
* ``strongest[i][j]`` = strength of the strongest (widest) path from i to j,
  where a direct link i->j has strength ``pairwise[i][j]`` if it beats
  ``pairwise[j][i]`` and 0 otherwise (Floyd-Warshall widest paths).
* i is ranked above j when ``strongest[i][j] > strongest[j][i]``; this relation
  is a strict partial order (Schulze 2011), so the ranking is built in tiers:
  each tier is the set of remaining candidates that no remaining candidate
  beats. A tier of several candidates is ordered by the seeded draw and
  recorded. For several seats the winners are the top of this ranking
  (not Schulze-STV: proportionality is what the STV method is for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .model import Method, Question
from .tiebreak import TieBreak, TieBreaker


@dataclass(frozen=True)
class SchulzeResult:
    """Result of a Schulze question, with both matrices for audit."""

    question_id: str
    method: Method
    seats: int
    candidates: tuple[str, ...]  # row/column order of the matrices
    pairwise: tuple[tuple[int, ...], ...]
    strongest: tuple[tuple[int, ...], ...]
    ranking: tuple[str, ...]
    winners: tuple[str, ...]
    ballots: int  # weight of non-empty rankings
    blank: int
    tie_breaks: tuple[TieBreak, ...]


def pairwise_matrix(
    candidates: Sequence[str], rankings: Iterable[tuple[Sequence[str], int]]
) -> list[list[int]]:
    """Weighted pairwise preference counts; identical rankings are aggregated first."""
    index = {c: i for i, c in enumerate(candidates)}
    n = len(candidates)
    agg: Counter[tuple[int, ...]] = Counter()
    for ranking, weight in rankings:
        agg[tuple(index[c] for c in ranking)] += weight
    d = [[0] * n for _ in range(n)]
    for ranked, weight in agg.items():
        ranked_set = set(ranked)
        unranked = [k for k in range(n) if k not in ranked_set]
        for pos, i in enumerate(ranked):
            row = d[i]
            for j in ranked[pos + 1 :]:
                row[j] += weight
            for j in unranked:
                row[j] += weight
    return d


def strongest_paths(d: Sequence[Sequence[int]]) -> list[list[int]]:
    """Widest-path strengths (Floyd-Warshall), winning-votes link strength."""
    n = len(d)
    p = [[d[i][j] if i != j and d[i][j] > d[j][i] else 0 for j in range(n)] for i in range(n)]
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            pji = p[j][i]
            if not pji:
                continue
            for k in range(n):
                if k != i and k != j:
                    via = min(pji, p[i][k])
                    if via > p[j][k]:
                        p[j][k] = via
    return p


def count_schulze(
    question: Question, ballots: Iterable[tuple[Sequence[str], int]], seed: str
) -> SchulzeResult:
    """Count validated ``(ranking, weight)`` pairs for a Schulze question."""
    cands = question.candidates
    rankings: list[tuple[Sequence[str], int]] = []
    blank = 0
    for ranking, weight in ballots:
        if ranking:
            rankings.append((ranking, weight))
        else:
            blank += weight
    d = pairwise_matrix(cands, rankings)
    p = strongest_paths(d)
    tb = TieBreaker(seed, question.id)
    remaining = list(range(len(cands)))
    ranking_out: list[str] = []
    tier_no = 0
    while remaining:
        tier_no += 1
        tier = [i for i in remaining if not any(p[j][i] > p[i][j] for j in remaining if j != i)]
        ranking_out.extend(tb.order([cands[i] for i in tier], f"schulze: ranking tier {tier_no}"))
        remaining = [i for i in remaining if i not in tier]
    return SchulzeResult(
        question_id=question.id,
        method=question.method,
        seats=question.seats,
        candidates=cands,
        pairwise=tuple(tuple(row) for row in d),
        strongest=tuple(tuple(row) for row in p),
        ranking=tuple(ranking_out),
        winners=tuple(ranking_out[: question.seats]),
        ballots=sum(w for _, w in rankings),
        blank=blank,
        tie_breaks=tuple(tb.records),
    )
