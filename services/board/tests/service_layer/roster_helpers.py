"""Helpers of the roster's use-case tests: a unit of work on the fakes, callers, decisions."""

from __future__ import annotations

from datetime import date

from board_fakes import FakeUnitOfWork
from board_fakes_roster import FakeDecisions

from coop_board.domain.links import DecisionSummary
from coop_domain.principal import Principal


def roster_uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.roster.members = uow.members       # sitting_on reads categories from the projection
    uow.meetings = FakeDecisions()         # decision_summary: the meetings family's, faked
    return uow


def who(role: str, subject: str | None = None, tenant: str = "coop") -> Principal:
    return Principal(subject or f"{role}-1", tenant, frozenset({role}))


def decide(uow: FakeUnitOfWork, decision_id: str, kind: str, adopted: bool = True, tenant: str = "coop") -> str:
    uow.meetings.decisions[decision_id] = DecisionSummary(decision_id, tenant, "meeting-1", kind, adopted,
                                                          date(2027, 6, 1))
    return decision_id
