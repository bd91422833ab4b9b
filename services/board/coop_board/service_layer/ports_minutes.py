"""Repositories the minutes use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from coop_board.domain.minutes import Minutes, TranslationTask
from coop_board.domain.minutes_public import PublishedDecision, PublishedMinutes


class MinutesRepository(Protocol):
    """Minutes (drafts, approvals, errata), translation tasks and published material."""

    def add(self, minutes: Minutes) -> None: ...
    def get(self, tenant: str, minutes_id: str, *, for_update: bool = False) -> Minutes | None: ...
    def of_meeting(self, tenant: str, meeting_id: str) -> Minutes | None:
        """The meeting's minutes (not its errata)."""
    def save(self, minutes: Minutes) -> None: ...
    def errata_of(self, tenant: str, minutes_id: str) -> list[str]: ...
    def task(self, tenant: str, minutes_id: str) -> TranslationTask | None: ...
    def save_task(self, task: TranslationTask) -> None: ...
    def open_tasks(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[TranslationTask]:
        """Open tasks by (due date, minutes id), after that position."""
    def add_published(self, docs: list[PublishedMinutes], decisions: list[PublishedDecision]) -> None: ...


class PublishedReads(Protocol):
    """The members' query side (published rows only; adapters serve it from the read pool)."""

    def minutes_page(self, tenant: str, language: str, since: date | None, until: date | None, query: str,
                     after: tuple[str, str] | None, limit: int) -> list[PublishedMinutes]:
        """Newest meeting first: ordered by (meeting_date desc, minutes_id); `after` is the last
        (meeting date ISO, minutes id) returned."""
    def decisions_page(self, tenant: str, language: str, since: date | None, until: date | None, query: str,
                       after: tuple[str, str] | None, limit: int) -> list[PublishedDecision]: ...
    def decision(self, tenant: str, decision_id: str, language: str) -> PublishedDecision | None: ...
    def minutes(self, tenant: str, minutes_id: str, language: str) -> PublishedMinutes | None: ...
