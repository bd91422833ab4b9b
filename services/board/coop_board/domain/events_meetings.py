"""Events of the meetings family (translated by adapters/events_out_meetings.py)."""

from __future__ import annotations

from dataclasses import dataclass

from coop_board.domain.decisions import Decision
from coop_board.domain.meetings import Meeting


@dataclass(frozen=True)
class MeetingScheduled:
    """The convocation, sent again when the date, place or title changes."""

    meeting: Meeting
    convened: tuple[str, ...]


@dataclass(frozen=True)
class AgendaPublished:
    """The agenda was published, changed or frozen (closed items: title only)."""

    meeting: Meeting
    convened: tuple[str, ...]
    frozen: bool


@dataclass(frozen=True)
class DecisionAdopted:
    decision: Decision
