"""Repositories the roster use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from coop_board.domain.links import MemberStanding, SittingDirector
from coop_board.domain.officers import ManagementAppointment, OfficerTerm
from coop_board.domain.roster import Mandate


class RosterRepository(Protocol):
    """Mandates, seats, officers and appointments.

    The two reads below are what the meetings family relies on (quorum, who may vote)."""

    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]: ...
    def officer_on(self, tenant: str, office: str, day: date) -> str | None: ...

    # -- mandates (the board is small: a tenant's whole history is read at once)
    def lock(self, tenant: str) -> None:
        """Serialise the tenant's roster writes until the end of the transaction."""

    def mandates(self, tenant: str) -> list[Mandate]: ...
    def get(self, tenant: str, mandate_id: str) -> Mandate | None: ...
    def add(self, mandate: Mandate) -> None: ...
    def save(self, mandate: Mandate) -> None: ...
    def of_election(self, tenant: str, election_id: str, director_id: str) -> Mandate | None: ...
    def page(self, tenant: str, *, director_id: str | None, seat_id: str | None, covering: date | None,
             after: tuple[str, str] | None, limit: int) -> list[Mandate]:
        """Ordered by (start date, mandate id), after the position `after`."""
    def due_to_complete(self, today: date, limit: int) -> list[Mandate]:
        """Every tenant's mandates whose end date is reached and not yet recorded as ended."""

    # -- officers and the delegated administration
    def officer_terms(self, tenant: str, office: str | None = None) -> list[OfficerTerm]: ...
    def add_officer_term(self, term: OfficerTerm) -> None: ...
    def save_officer_term(self, term: OfficerTerm) -> None: ...
    def appointments(self, tenant: str) -> list[ManagementAppointment]: ...
    def add_appointment(self, appointment: ManagementAppointment) -> None: ...


class MemberStandingRepository(Protocol):
    """The projection of membership's events: category and good standing per member."""

    def standing(self, member_id: str) -> MemberStanding | None: ...
    def standings(self, member_ids: list[str]) -> dict[str, MemberStanding]: ...
    def project(self, member_id: str, at: datetime, *, status: str | None = None, category: str | None = None,
                in_good_standing: bool | None = None, language: str | None = None) -> None:
        """Keep, per value, the one set by the newest event; an erased member stays erased."""

    def count_in_good_standing(self, tenant: str) -> int:
        """Members of `tenant` in good standing now."""
        ...
    # -- keyset pages for the General Assembly's convocation (assembly family)
    def page(self, tenant: str, after: str | None, limit: int, *, good_standing_only: bool) -> list[MemberStanding]:
        """Members still members (active, suspended or of unknown status) by member id after
        `after`; in good standing only when asked."""
        ...
    def count(self, tenant: str, *, good_standing_only: bool) -> int: ...
