"""Repositories the roster use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from coop_board.domain.links import MemberStanding, SittingDirector


class RosterRepository(Protocol):
    """Mandates, seats, officers and appointments.

    The two reads below are what the meetings family relies on (quorum, who may vote)."""

    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]: ...
    def officer_on(self, tenant: str, office: str, day: date) -> str | None: ...


class MemberStandingRepository(Protocol):
    """The projection of membership's events: category and good standing per member."""

    def standing(self, member_id: str) -> MemberStanding | None: ...
