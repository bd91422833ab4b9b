"""Repositories the questions use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from coop_board.domain.questions import Question

#: A position in ListQuestions: (support count at the snapshot, submitted_at ISO text, question id)
#: for the most supported order; (0, submitted_at ISO text, question id) for the newest.
Position = tuple[int, str, str]


class QuestionRepository(Protocol):
    """Questions to the General Assembly and their supports. A support is a row of its own, kept
    when withdrawn (withdrawn_at), so the count at any past instant can be read again."""

    def add(self, question: Question) -> None: ...

    def get(self, tenant: str, question_id: str, *, lock: bool = False) -> Question | None:
        """With its live support count. `lock`: the row is locked until the unit ends (FOR UPDATE),
        so two answers or two referrals of one question run one after the other."""
        ...

    def save(self, question: Question) -> None:
        """Write the answer and referral columns (the text and the count are not changed here)."""
        ...

    def add_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        """Record the member's support and add one to the count, atomically; False (nothing written)
        when the member already supports it, concurrent calls included."""
        ...

    def withdraw_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        """End the member's support and take one off the count; False when they had none."""
        ...

    def supported_among(self, tenant: str, member_id: str, question_ids: list[str]) -> set[str]:
        """Which of these questions the member supports now."""
        ...

    def listing(self, tenant: str, assembly_id: str, order: str, answered: bool | None, as_of: datetime,
                after: Position | None, limit: int) -> list[tuple[Question, int]]:
        """An Assembly's questions submitted by `as_of`, each with its support count at `as_of`,
        in `order` (most supported: count descending, then oldest, then id; newest: submitted_at
        descending, then id descending), after `after`. `answered`: None for all, else only the
        answered (True) or unanswered (False) ones, as they stand now."""
        ...

    def of_author(self, tenant: str, author_id: str, assembly_id: str | None, after: tuple[str, str] | None,
                  limit: int) -> list[Question]:
        """The author's questions, newest first: by (submitted_at ISO text, id) descending."""
        ...
