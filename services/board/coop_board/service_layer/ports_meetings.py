"""Repositories the meetings use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol

from coop_board.domain.links import DecisionSummary, MeetingSummary
from coop_board.domain.record import MeetingRecord


class MeetingRepository(Protocol):
    """Meetings, agenda items, attendance, declarations, votes, decisions, actions.

    The three reads below are what the roster and minutes families rely on."""

    def summary(self, tenant: str, meeting_id: str) -> MeetingSummary | None: ...
    def record(self, tenant: str, meeting_id: str) -> MeetingRecord | None: ...
    def decision_summary(self, tenant: str, decision_id: str) -> DecisionSummary | None: ...
