"""Repositories the observers use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from coop_board.domain.observers import ObserverSession, Registration


class ObserverRepository(Protocol):
    """Open sessions' seats, observer registrations and the waiting list."""

    def session(self, tenant: str, meeting_id: str, *, lock: bool = False) -> ObserverSession | None:
        """The meeting's session with its active (seated and waiting) registrations. `lock`: the
        session row is locked until the unit ends (PostgreSQL: FOR UPDATE), so registrations and
        cancellations of one meeting run one after the other (the last seat goes once)."""
        ...

    def save(self, session: ObserverSession) -> None:
        """Write the session row and the registrations named in `session.changed`."""
        ...

    def registration(self, tenant: str, registration_id: str) -> Registration | None: ...

    def of_member(self, tenant: str, member_id: str, after: tuple[str, str] | None,
                  limit: int) -> list[Registration]:
        """A member's registrations by (registered_at ISO text, registration_id), after `after`."""
        ...

    def listing(self, tenant: str, meeting_id: str, include_cancelled: bool, after: tuple[int, int] | None,
                limit: int) -> list[Registration]:
        """A meeting's registrations by (status rank: seated 0, waiting 1, cancelled 2; sequence)."""
        ...

    def waiting_position(self, tenant: str, meeting_id: str, sequence: int) -> int:
        """1 + the waiting registrations of the meeting registered before `sequence`."""
        ...

    def totals(self, now: datetime) -> list[tuple[str, int, int, int]]:
        """(tenant, seats, seats taken, waiting) over the sessions of meetings not started at `now`."""
        ...
