"""In-memory fake of the questions family's repository (service_layer/ports_questions.py), and
stand-ins for the two hooks the family calls that other families own, implemented in parallel
(issue 12): `assembly_hooks.assembly_summary` (assembly family) and
`agenda_hooks.add_member_concern_item` (meetings family). `hooks_replaced` swaps them in for a
test (use cases on fakes, and the api on PostgreSQL in the same process)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coop_board.domain.links import AssemblySummary
from coop_board.domain.questions import MOST_SUPPORTED, Question
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks, assembly_hooks

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class Support:
    tenant: str
    question_id: str
    member_id: str
    supported_at: datetime
    withdrawn_at: datetime | None = None


class FakeQuestionRepository:
    def __init__(self) -> None:
        self.rows: dict[str, Question] = {}
        self.supports: list[Support] = []

    def snapshot(self) -> Any:
        """Questions are frozen (a shallow copy will do); supports change in place (copied).
        None while empty: every fake unit snapshots every repository, most tests have no question."""
        if not self.rows and not self.supports:
            return None
        return dict(self.rows), [replace(s) for s in self.supports]

    def restore(self, state: Any) -> None:
        self.rows, self.supports = state if state is not None else ({}, [])

    def add(self, question: Question) -> None:
        assert question.question_id not in self.rows
        self.rows[question.question_id] = question

    def get(self, tenant: str, question_id: str, *, lock: bool = False) -> Question | None:
        q = self.rows.get(question_id)
        return q if q is not None and q.tenant == tenant else None

    def save(self, question: Question) -> None:
        stored = self.rows[question.question_id]
        self.rows[question.question_id] = replace(question, text=stored.text, support_count=stored.support_count)

    def _active(self, tenant: str, question_id: str, member_id: str) -> Support | None:
        return next((s for s in self.supports if (s.tenant, s.question_id, s.member_id) == (tenant, question_id, member_id)
                     and s.withdrawn_at is None), None)

    def _count(self, question_id: str, delta: int) -> None:
        q = self.rows[question_id]
        self.rows[question_id] = replace(q, support_count=q.support_count + delta)

    def add_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        if self._active(tenant, question_id, member_id) is not None:
            return False
        self.supports.append(Support(tenant, question_id, member_id, at))
        self._count(question_id, +1)
        return True

    def withdraw_support(self, tenant: str, question_id: str, member_id: str, at: datetime) -> bool:
        found = self._active(tenant, question_id, member_id)
        if found is None:
            return False
        found.withdrawn_at = at
        self._count(question_id, -1)
        return True

    def supported_among(self, tenant: str, member_id: str, question_ids: list[str]) -> set[str]:
        return {q for q in question_ids if self._active(tenant, q, member_id) is not None}

    def count_at(self, question_id: str, at: datetime) -> int:
        return sum(1 for s in self.supports if s.question_id == question_id and s.supported_at <= at
                   and (s.withdrawn_at is None or s.withdrawn_at > at))

    def listing(self, tenant: str, assembly_id: str, order: str, answered: bool | None, as_of: datetime,
                after: tuple[int, str, str] | None, limit: int) -> list[tuple[Question, int]]:
        rows = [(q, self.count_at(q.question_id, as_of)) for q in self.rows.values()
                if q.tenant == tenant and q.assembly_id == assembly_id and q.submitted_at <= as_of]
        if answered is not None:
            rows = [(q, c) for q, c in rows
                    if (q.answered_at is not None and q.answered_at <= as_of) == answered]
        if order == MOST_SUPPORTED:
            def key(row: tuple[Question, int]) -> tuple:
                return -row[1], row[0].submitted_at, row[0].question_id
            rows.sort(key=key)
            if after is not None:
                mark = (-after[0], datetime.fromisoformat(after[1]), after[2])
                rows = [r for r in rows if key(r) > mark]
        else:
            rows.sort(key=lambda r: (r[0].submitted_at, r[0].question_id), reverse=True)
            if after is not None:
                mark2 = (datetime.fromisoformat(after[1]), after[2])
                rows = [r for r in rows if (r[0].submitted_at, r[0].question_id) < mark2]
        return rows[:limit]

    def of_author(self, tenant: str, author_id: str, assembly_id: str | None, after: tuple[str, str] | None,
                  limit: int) -> list[Question]:
        rows = sorted((q for q in self.rows.values() if q.tenant == tenant and q.author_id == author_id
                       and (assembly_id is None or q.assembly_id == assembly_id)),
                      key=lambda q: (q.submitted_at, q.question_id), reverse=True)
        if after is not None:
            mark = (datetime.fromisoformat(after[0]), after[1])
            rows = [q for q in rows if (q.submitted_at, q.question_id) < mark]
        return rows[:limit]


# -- stand-ins for the hooks other families own ------------------------------------------------------

@dataclass
class StandInAssemblies:
    """assembly_hooks.assembly_summary: the Assemblies the test schedules."""

    rows: dict[tuple[str, str], AssemblySummary] = field(default_factory=dict)

    def add(self, assembly_id: str, *, tenant: str = "coop", starts_at: datetime = NOW + timedelta(days=30),
            status: str = "convened") -> AssemblySummary:
        title = LocalizedText(fr="Assemblée générale", nl="Algemene vergadering", en="General Assembly")
        summary = AssemblySummary(assembly_id, tenant, title, starts_at, starts_at - timedelta(days=3), status)
        self.rows[(tenant, assembly_id)] = summary
        return summary

    def set_status(self, assembly_id: str, status: str, tenant: str = "coop") -> None:
        self.rows[(tenant, assembly_id)] = replace(self.rows[(tenant, assembly_id)], status=status)

    def __call__(self, uow: Any, tenant: str, assembly_id: str) -> AssemblySummary | None:
        return self.rows.get((tenant, assembly_id))


@dataclass
class StandInAgenda:
    """agenda_hooks.add_member_concern_item: item ids, or None (pending) when `pending` is set."""

    pending: bool = False
    calls: list[tuple[str, str, LocalizedText, LocalizedText]] = field(default_factory=list)

    def __call__(self, uow: Any, tenant: str, question_id: str, title: LocalizedText, text: LocalizedText,
                 now: datetime) -> str | None:
        self.calls.append((tenant, question_id, title, text))
        return None if self.pending else f"item-{len(self.calls)}"


@contextmanager
def hooks_replaced(assemblies: StandInAssemblies, agenda: StandInAgenda) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(assembly_hooks, "assembly_summary", assemblies)
        mp.setattr(agenda_hooks, "add_member_concern_item", agenda)
        yield
