"""Repositories the General Assembly's use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from coop_board.domain.assembly import (
    Assembly,
    AssemblyRegistration,
    Referral,
    Workshop,
    WorkshopCounts,
    WorkshopPlace,
)


class AssemblyRepository(Protocol):
    """Assemblies, referred initiatives, workshops with their seats, registrations."""

    # -- assemblies
    def add(self, assembly: Assembly) -> None: ...
    def get(self, tenant: str, assembly_id: str, *, lock: bool = False) -> Assembly | None:
        """`lock`: the row stays locked until the unit ends (convening, the convocation job)."""
        ...
    def save(self, assembly: Assembly) -> None:
        """Write the status and the convocation's progress."""
        ...
    def page(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[Assembly]:
        """The latest first: by (starts_at, assembly_id) descending, after `after` (ISO text, id)."""
        ...
    def next_not_convened(self, tenant: str, now: datetime) -> Assembly | None:
        """The earliest Assembly starting after `now` that is not convened nor cancelled."""
        ...
    def registering(self, now: datetime) -> list[Assembly]:
        """Every tenant's Assemblies whose registration is open at `now`."""
        ...
    def claim_convening(self) -> Assembly | None:
        """Any tenant's Assembly whose convocation is under way, locked for this unit; one locked
        by another unit (another replica) is skipped (FOR UPDATE SKIP LOCKED)."""
        ...

    # -- initiatives referred to the Assembly
    def referral(self, tenant: str, initiative_id: str) -> Referral | None: ...
    def refer(self, referral: Referral) -> None: ...
    def referrals(self, tenant: str, assembly_id: str) -> list[Referral]: ...
    def attach_pending(self, tenant: str, assembly_id: str) -> int:
        """Referrals waiting for an Assembly join this one; how many."""
        ...

    # -- workshops (one seat row per seat: the capacity holds by construction)
    def add_workshop(self, workshop: Workshop) -> None: ...
    def workshop(self, tenant: str, workshop_id: str) -> Workshop | None: ...
    def workshops(self, tenant: str, assembly_id: str) -> list[Workshop]:
        """In time order (starts_at, workshop_id)."""
        ...
    def workshop_counts(self, tenant: str, assembly_id: str) -> dict[str, WorkshopCounts]: ...

    # -- registrations
    def add_registrations(self, registrations: list[AssemblyRegistration]) -> dict[str, int]:
        """Insert them (not their places), in order, and return their arrival numbers by
        registration id: greater than every one given before, and in the list's order. One
        missing from the answer was not inserted: its member has an active registration (a
        concurrent one included: a unique index decides)."""
        ...
    def take_seats(self, tenant: str, wants: list[tuple[str, list[str]]]) -> dict[str, set[str]]:
        """For each (registration id, workshop ids), earlier ones served first: a free seat of each
        workshop that has one. Returns the workshops where each got one. Seats held by units not
        yet committed are skipped, never waited for."""
        ...
    def add_places(self, tenant: str, assembly_id: str,
                   registrations: list[tuple[str, list[tuple[str, bool]], int]]) -> dict[str, list[WorkshopPlace]]:
        """Insert the places of each (registration id, [(workshop id, seated)] in order of
        preference, arrival): a seated place arrives at the registration's arrival, a waiting one
        gets a new, later number (after every seated one; in the list's order). Returns them by
        registration id, with their waiting positions."""
        ...
    def waiting_position(self, workshop_id: str, arrival: int) -> int:
        """1 + the active waiting places of the workshop that arrived before `arrival`."""
        ...
    def registration(self, tenant: str, registration_id: str, *, lock: bool = False) -> AssemblyRegistration | None:
        """With its places (waiting positions filled). `lock`: its row stays locked until the unit
        ends (cancellations and code changes of one registration run one after the other)."""
        ...
    def registration_of(self, tenant: str, assembly_id: str, member_id: str) -> AssemblyRegistration | None:
        """The member's active registration, with its places."""
        ...
    def save_registration(self, registration: AssemblyRegistration) -> None:
        """Write cancellation, code and check-in, and the places' active flags."""
        ...
    def hand_over_seat(self, tenant: str, workshop_id: str, registration_id: str,
                       now: datetime) -> tuple[str, str] | None:
        """Free the registration's seat in the workshop and give it to the first active waiting
        place (arrival order); (registration id, member id) of the promoted, or None."""
        ...
    def by_code(self, tenant: str, assembly_id: str, code_hash: str) -> AssemblyRegistration | None:
        """The registration holding that code, locked until the unit ends."""
        ...
    def workshop_listing(self, tenant: str, workshop_id: str, after: tuple[int, int] | None,
                         limit: int) -> list[tuple[WorkshopPlace, str, datetime]]:
        """Active places by (seated first, arrival), after `after` (rank, arrival), with the
        member id and registration time."""
        ...
    def figures(self, tenant: str, assembly_id: str) -> tuple[int, int, int, int]:
        """(active registrations, in person, in person checked in, remote)."""
        ...
    def settle(self, tenant: str, assembly_id: str, now: datetime) -> list[tuple[str, str, str]]:
        """Give free seats to waiting places (a seat freed by a unit rolled back after taking it);
        (workshop id, registration id, member id) of each promoted."""
        ...
