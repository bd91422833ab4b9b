"""In-memory fake of the assembly family's repository (service_layer/ports_assembly.py), for the
use-case tests: the same seat rule as the SQL one (one seat per holder, at most `capacity`), the
same arrival numbers (a waiting place numbered after the seats were taken). One thread: no locks."""

from __future__ import annotations

import copy
import itertools
from dataclasses import replace
from datetime import datetime
from typing import Any

from coop_board.domain.assembly import (
    CONVENING,
    Assembly,
    AssemblyRegistration,
    Referral,
    Workshop,
    WorkshopCounts,
    WorkshopPlace,
)


class FakeAssemblyRepository:
    def __init__(self) -> None:
        self.assemblies: dict[str, Assembly] = {}
        self.referred: dict[tuple[str, str], Referral] = {}
        self.workshop_rows: dict[str, Workshop] = {}
        self.seats: dict[str, list[str | None]] = {}
        self.registrations: dict[str, AssemblyRegistration] = {}
        self.places: dict[tuple[str, str], WorkshopPlace] = {}
        self._arrivals = itertools.count(1)

    def snapshot(self) -> Any:
        return copy.deepcopy((self.assemblies, self.referred, self.workshop_rows, self.seats, self.registrations,
                              self.places))

    def restore(self, state: Any) -> None:
        (self.assemblies, self.referred, self.workshop_rows, self.seats, self.registrations,
         self.places) = state

    # -- assemblies
    def add(self, a: Assembly) -> None:
        self.assemblies[a.assembly_id] = replace(a)

    def get(self, tenant: str, assembly_id: str, *, lock: bool = False) -> Assembly | None:
        a = self.assemblies.get(assembly_id)
        return replace(a) if a is not None and a.tenant == tenant else None

    def save(self, a: Assembly) -> None:
        self.assemblies[a.assembly_id] = replace(a)

    def page(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[Assembly]:
        rows = sorted((a for a in self.assemblies.values() if a.tenant == tenant),
                      key=lambda a: (a.starts_at, a.assembly_id), reverse=True)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            rows = [a for a in rows if (a.starts_at, a.assembly_id) < (at, after[1])]
        return [replace(a) for a in rows[:limit]]

    def next_not_convened(self, tenant: str, now: datetime) -> Assembly | None:
        rows = sorted((a for a in self.assemblies.values() if a.tenant == tenant and a.convened_at is None
                       and a.status != "cancelled" and a.starts_at > now), key=lambda a: (a.starts_at, a.assembly_id))
        return replace(rows[0]) if rows else None

    def registering(self, now: datetime) -> list[Assembly]:
        return [replace(a) for a in self.assemblies.values() if a.registration_deadline >= now]

    def claim_convening(self) -> Assembly | None:
        rows = sorted((a for a in self.assemblies.values() if a.status == CONVENING),
                      key=lambda a: (a.convened_at, a.assembly_id))
        return replace(rows[0]) if rows else None

    # -- referrals
    def referral(self, tenant: str, initiative_id: str) -> Referral | None:
        return self.referred.get((tenant, initiative_id))

    def refer(self, ref: Referral) -> None:
        self.referred[(ref.tenant, ref.initiative_id)] = ref

    def referrals(self, tenant: str, assembly_id: str) -> list[Referral]:
        return [r for r in self.referred.values() if r.tenant == tenant and r.assembly_id == assembly_id]

    def attach_pending(self, tenant: str, assembly_id: str) -> int:
        pending = [k for k, r in self.referred.items() if r.tenant == tenant and r.assembly_id is None]
        for key in pending:
            self.referred[key] = replace(self.referred[key], assembly_id=assembly_id)
        return len(pending)

    # -- workshops
    def add_workshop(self, w: Workshop) -> None:
        self.workshop_rows[w.workshop_id] = w
        self.seats[w.workshop_id] = [None] * w.capacity

    def workshop(self, tenant: str, workshop_id: str) -> Workshop | None:
        w = self.workshop_rows.get(workshop_id)
        return w if w is not None and w.tenant == tenant else None

    def workshops(self, tenant: str, assembly_id: str) -> list[Workshop]:
        return sorted((w for w in self.workshop_rows.values() if w.tenant == tenant and w.assembly_id == assembly_id),
                      key=lambda w: (w.starts_at, w.workshop_id))

    def workshop_counts(self, tenant: str, assembly_id: str) -> dict[str, WorkshopCounts]:
        out = {}
        for w in self.workshops(tenant, assembly_id):
            active = [p for p in self.places.values() if p.workshop_id == w.workshop_id and p.active]
            present = sum(1 for p in active if p.seated
                          and self.registrations[p.registration_id].checked_in_at is not None)
            out[w.workshop_id] = WorkshopCounts(sum(p.seated for p in active), sum(not p.seated for p in active),
                                                present)
        return out

    # -- registrations
    def add_registrations(self, registrations: list[AssemblyRegistration]) -> dict[str, int]:
        arrivals = {}
        for r in registrations:
            if any(x.tenant == r.tenant and x.assembly_id == r.assembly_id and x.member_id == r.member_id and x.active
                   for x in self.registrations.values()):
                continue
            self.registrations[r.registration_id] = replace(r, places=[])
            arrivals[r.registration_id] = next(self._arrivals)
        return arrivals

    def take_seats(self, tenant: str, wants: list[tuple[str, list[str]]]) -> dict[str, set[str]]:
        taken: dict[str, set[str]] = {}
        for registration_id, workshop_ids in wants:
            for wid in workshop_ids:
                seats = self.seats[wid]
                if None in seats:
                    seats[seats.index(None)] = registration_id
                    taken.setdefault(registration_id, set()).add(wid)
        return taken

    def add_places(self, tenant: str, assembly_id: str,
                   registrations: list[tuple[str, list[tuple[str, bool]], int]]) -> dict[str, list[WorkshopPlace]]:
        out: dict[str, list[WorkshopPlace]] = {}
        for registration_id, choices, arrival in registrations:
            for n, (wid, seated) in enumerate(choices, start=1):
                p = WorkshopPlace(registration_id, wid, n, arrival if seated else next(self._arrivals), seated)
                self.places[(registration_id, wid)] = replace(p)
                out.setdefault(registration_id, []).append(p)
        for placed in out.values():
            for p in placed:
                if not p.seated:
                    p.waiting_position = self.waiting_position(p.workshop_id, p.arrival)
        return out

    def waiting_position(self, workshop_id: str, arrival: int) -> int:
        return 1 + sum(1 for p in self.places.values() if p.workshop_id == workshop_id and p.active
                       and not p.seated and p.arrival < arrival)

    def _full(self, r: AssemblyRegistration) -> AssemblyRegistration:
        found = replace(r, places=sorted((replace(p) for p in self.places.values()
                                          if p.registration_id == r.registration_id), key=lambda p: p.choice))
        for p in found.places:
            if p.active and not p.seated:
                p.waiting_position = self.waiting_position(p.workshop_id, p.arrival)
        return found

    def registration(self, tenant: str, registration_id: str, *, lock: bool = False) -> AssemblyRegistration | None:
        r = self.registrations.get(registration_id)
        return self._full(r) if r is not None and r.tenant == tenant else None

    def registration_of(self, tenant: str, assembly_id: str, member_id: str) -> AssemblyRegistration | None:
        for r in self.registrations.values():
            if (r.tenant, r.assembly_id, r.member_id) == (tenant, assembly_id, member_id) and r.active:
                return self._full(r)
        return None

    def save_registration(self, r: AssemblyRegistration) -> None:
        self.registrations[r.registration_id] = replace(r, places=[])
        if not r.active:
            for key, p in self.places.items():
                if p.registration_id == r.registration_id:
                    self.places[key] = replace(p, active=False)

    def hand_over_seat(self, tenant: str, workshop_id: str, registration_id: str,
                       now: datetime) -> tuple[str, str] | None:
        waiting = sorted((p for p in self.places.values() if p.workshop_id == workshop_id and p.active
                          and not p.seated), key=lambda p: p.arrival)
        seats = self.seats[workshop_id]
        index = seats.index(registration_id)
        seats[index] = waiting[0].registration_id if waiting else None
        if not waiting:
            return None
        first = waiting[0]
        self.places[(first.registration_id, workshop_id)] = replace(first, seated=True, promoted_at=now)
        return first.registration_id, self.registrations[first.registration_id].member_id

    def by_code(self, tenant: str, assembly_id: str, code_hash: str) -> AssemblyRegistration | None:
        for r in self.registrations.values():
            if (r.tenant, r.assembly_id, r.code_hash) == (tenant, assembly_id, code_hash):
                return self._full(r)
        return None

    def workshop_listing(self, tenant: str, workshop_id: str, after: tuple[int, int] | None,
                         limit: int) -> list[tuple[WorkshopPlace, str, datetime]]:
        rows = sorted((p for p in self.places.values() if p.workshop_id == workshop_id and p.active),
                      key=lambda p: (0 if p.seated else 1, p.arrival))
        if after is not None:
            rows = [p for p in rows if (0 if p.seated else 1, p.arrival) > after]
        out = []
        for p in rows[:limit]:
            p = replace(p, waiting_position=0 if p.seated else self.waiting_position(workshop_id, p.arrival))
            r = self.registrations[p.registration_id]
            out.append((p, r.member_id, r.registered_at))
        return out

    def figures(self, tenant: str, assembly_id: str) -> tuple[int, int, int, int]:
        active = [r for r in self.registrations.values() if (r.tenant, r.assembly_id) == (tenant, assembly_id)
                  and r.active]
        in_person = [r for r in active if r.attendance == "in_person"]
        return (len(active), len(in_person), sum(r.checked_in_at is not None for r in in_person),
                sum(r.attendance == "remote" for r in active))

    def settle(self, tenant: str, assembly_id: str, now: datetime) -> list[tuple[str, str, str]]:
        return []  # one thread: no seat is ever left free while members wait
