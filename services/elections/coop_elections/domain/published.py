"""Published documents besides the box: the election definition (``election.json``) and
the voter-roll commitment. Pure stdlib, so the verifier needs nothing but this package.

``election.json`` holds exactly what a recount needs: the election id, the questions with
their methods and parameters, the tie-break seed and the roll weight (for fractional
quorums). Fractions are written as ``"n/d"`` strings so nothing is rounded.

Roll hash: SHA-256 over the UTF-8 lines ``"<voter_id>\\t<weight>\\n"`` sorted by voter id.
Anyone given the roll (an auditor) can recompute it; the public sees only size and hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from coop_domain.errors import InvalidArgument

from .model import ElectionDefinition, Majority, Method, Question, Quorum

FORMAT = "coopgov-election/1"


def parse_fraction(text: Any, what: str) -> Fraction:
    """``"2/3"``, ``"1/2"`` or ``"0"`` -> Fraction in [0, 1]; InvalidArgument otherwise."""
    if not isinstance(text, str) or len(text) > 40:
        raise InvalidArgument(f"{what} must be a fraction like '2/3'")
    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise InvalidArgument(f"{what} must be a fraction like '2/3'") from exc
    if not 0 <= value <= 1:
        raise InvalidArgument(f"{what} must be between 0 and 1")
    return value


def question_to_json(q: Question) -> dict[str, Any]:
    return {
        "id": q.id,
        "method": q.method.value,
        "candidates": list(q.candidates),
        "seats": q.seats,
        "majority": {"threshold": str(q.majority.threshold), "strict": q.majority.strict},
        "quorum": {"min_count": q.quorum.min_count, "min_fraction": str(q.quorum.min_fraction)},
    }


def question_from_json(data: Mapping[str, Any]) -> Question:
    try:
        method = Method(data["method"])
        majority = data.get("majority") or {}
        quorum = data.get("quorum") or {}
        return Question(
            id=data["id"],
            method=method,
            candidates=tuple(data.get("candidates") or ()),
            seats=int(data.get("seats", 1)),
            majority=Majority(parse_fraction(majority.get("threshold", "1/2"), "majority"),
                              bool(majority.get("strict", True))),
            quorum=Quorum(int(quorum.get("min_count", 0)),
                          parse_fraction(quorum.get("min_fraction", "0"), "quorum fraction")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"malformed question: {exc}") from exc


def definition_to_json(definition: ElectionDefinition, **extra: Any) -> dict[str, Any]:
    """The published ``election.json``; ``extra`` adds informative fields (texts, roll hash)."""
    return {
        "format": FORMAT,
        "election_id": definition.id,
        "tie_break_seed": definition.tie_break_seed,
        "roll_weight": definition.roll_weight,
        "questions": [question_to_json(q) for q in definition.questions],
        **extra,
    }


def encrypted_election_to_json(definition: ElectionDefinition, public_key: bytes, k: int, n: int,
                               **extra: Any) -> dict[str, Any]:
    """``election.json`` of an encrypted election: the definition clients encrypt against, with
    the election key and the trustees' threshold (the same document wherever it is handed out)."""
    return definition_to_json(definition, encryption={"public_key": public_key.hex(),
                                                      "threshold": {"k": k, "n": n}}, **extra)


def definition_from_json(data: Mapping[str, Any]) -> ElectionDefinition:
    if not isinstance(data, Mapping):
        raise InvalidArgument("election.json must hold a JSON object")
    try:
        return ElectionDefinition(
            id=data["election_id"],
            questions=tuple(question_from_json(q) for q in data["questions"]),
            tie_break_seed=data["tie_break_seed"],
            roll_weight=int(data.get("roll_weight", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"malformed election definition: {exc}") from exc


class RollHasher:
    """Incremental roll hash; feed entries in ascending voter-id order."""

    def __init__(self) -> None:
        self._h = hashlib.sha256()
        self._last: str | None = None
        self.size = 0
        self.total_weight = 0

    def add(self, voter_id: str, weight: int) -> None:
        if self._last is not None and voter_id <= self._last:
            raise InvalidArgument("roll entries must be fed in strictly ascending voter id order")
        self._last = voter_id
        self._h.update(f"{voter_id}\t{weight}\n".encode())
        self.size += 1
        self.total_weight += weight

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def roll_hash(entries: Iterable[tuple[str, int]]) -> str:
    hasher = RollHasher()
    for voter_id, weight in sorted(entries):
        hasher.add(voter_id, weight)
    return hasher.hexdigest()
