"""Reproducible tie-breaking by a seeded deterministic draw.

Rule (published with every result): for a seed ``s`` and candidate id ``c``
the draw key is ``SHA-256(UTF-8(s) || 0x1F || UTF-8(c))`` as lower-case hex.
Tied candidates are ordered by ascending key; the first is *favoured* (it is
elected, ranked higher, or kept when one must be excluded — the last of the
order is the one excluded). Because the key depends only on the seed and the
candidate, the draw is a single hidden priority order revealed piecemeal:
anyone with the published seed reproduces every tie-break with one line of
code, and nobody can steer it after the seed is fixed (it should be fixed,
e.g. committed by hash, before voting opens).

Every use of the draw is recorded as a :class:`TieBreak` in the results.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass


def draw_key(seed: str, candidate: str) -> str:
    """The candidate's position key in the seeded draw."""
    return hashlib.sha256(seed.encode() + b"\x1f" + candidate.encode()).hexdigest()


def draw_order(seed: str, candidates: Iterable[str]) -> tuple[str, ...]:
    """Order candidates by the seeded draw, favoured first."""
    return tuple(sorted(candidates, key=lambda c: (draw_key(seed, c), c)))


@dataclass(frozen=True)
class TieBreak:
    """Record of one tie decided by the draw."""

    question_id: str
    step: str  # e.g. "stv round 4: exclusion"
    tied: tuple[str, ...]  # sorted ids, for readability
    seed: str
    order: tuple[str, ...]  # resulting order, favoured first


class TieBreaker:
    """Applies the draw for one question and keeps the records."""

    def __init__(self, seed: str, question_id: str) -> None:
        self.seed = seed
        self.question_id = question_id
        self.records: list[TieBreak] = []

    def order(self, tied: Iterable[str], step: str) -> tuple[str, ...]:
        """Order tied candidates (favoured first), recording the draw if it decided anything."""
        tied = tuple(tied)
        if len(tied) <= 1:
            return tied
        result = draw_order(self.seed, tied)
        self.records.append(
            TieBreak(self.question_id, step, tuple(sorted(tied)), self.seed, result)
        )
        return result
