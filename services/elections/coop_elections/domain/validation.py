"""Ballot validation, per question method.

Validation happens when a ballot is cast *and* again on recount, so a
published box with a malformed ballot is rejected instead of silently
miscounted. Messages are meant for the voter's screen: they say what is wrong
without echoing anything secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from coop_domain.errors import InvalidArgument

from .model import RANKED_METHODS, RESOLUTION_ANSWERS, ElectionDefinition, Method, Question

MAX_WEIGHT = 10**9  # keeps integer sums and canonical JSON sane


def validate_weight(weight: Any) -> int:
    """A ballot weight is a positive integer (bool is not an integer here)."""
    if isinstance(weight, bool) or not isinstance(weight, int):
        raise InvalidArgument("ballot weight must be an integer", field="weight", reason="INVALID_WEIGHT")
    if not 1 <= weight <= MAX_WEIGHT:
        raise InvalidArgument(f"ballot weight must be between 1 and {MAX_WEIGHT}", field="weight",
                              reason="INVALID_WEIGHT")
    return weight


def validate_answer(question: Question, answer: Any) -> Any:
    """Check one answer and return its normalised (JSON, list-based) form."""
    qid = question.id
    if question.method is Method.RESOLUTION:
        if answer not in RESOLUTION_ANSWERS:
            raise InvalidArgument(f"question {qid}: answer must be one of yes, no, abstain", field="answers", reason="INVALID_ANSWER")
        return answer
    if isinstance(answer, str) or not isinstance(answer, list | tuple):
        raise InvalidArgument(f"question {qid}: answer must be a list of candidate ids", field="answers", reason="INVALID_ANSWER")
    known = set(question.candidates)
    seen: set[str] = set()
    for choice in answer:
        if not isinstance(choice, str):
            raise InvalidArgument(f"question {qid}: candidate ids must be strings", field="answers", reason="INVALID_ANSWER")
        if choice not in known:
            raise InvalidArgument(f"question {qid}: unknown candidate {choice!r}", field="answers", reason="INVALID_ANSWER")
        if choice in seen:
            what = "ranked twice" if question.method in RANKED_METHODS else "chosen twice"
            raise InvalidArgument(f"question {qid}: candidate {choice!r} {what}", field="answers", reason="INVALID_ANSWER")
        seen.add(choice)
    if len(answer) > question.max_choices:
        raise InvalidArgument(
            f"question {qid}: at most {question.max_choices} choice(s) allowed, got {len(answer)}",
            field="answers", reason="TOO_MANY_CHOICES")
    return list(answer)


def validate_ballot(definition: ElectionDefinition, content: Any) -> dict[str, Any]:
    """Validate a whole ballot; return the normalised content to store and hash."""
    if not isinstance(content, Mapping):
        raise InvalidArgument("ballot content must be an object keyed by question id", field="answers",
                              reason="INVALID_ANSWER")
    known = {q.id: q for q in definition.questions}
    normalised: dict[str, Any] = {}
    for qid, answer in content.items():
        if qid not in known:
            raise InvalidArgument(f"ballot answers unknown question {qid!r}", field="answers",
                                  reason="UNKNOWN_QUESTION")
        normalised[qid] = validate_answer(known[qid], answer)
    return normalised
