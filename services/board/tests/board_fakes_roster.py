"""In-memory fakes of the roster family's repositories (service_layer/ports_roster.py)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from coop_board.domain.links import CATEGORIES, MemberStanding, SittingDirector
from coop_board.domain.links import CONVOCABLE_STATUSES as CONVOCABLE
from coop_board.domain.officers import ManagementAppointment, OfficerTerm
from coop_board.domain.roster import Mandate


class FakeRosterRepository:
    def __init__(self, members: FakeMemberStandingRepository | None = None) -> None:
        self.members = members
        self.rows: dict[str, Mandate] = {}
        self.terms: dict[str, OfficerTerm] = {}
        self.appointed: dict[str, ManagementAppointment] = {}

    def snapshot(self) -> Any:
        return copy.copy(self.rows), copy.copy(self.terms), copy.copy(self.appointed)

    def seat(self, director_id: str, start: date, end: date, *, tenant: str = "coop",
             seat_id: str | None = None) -> Mandate:
        """Test helper for any family: a director sitting from `start` up to `end` (exclusive)."""
        mandate = Mandate(f"mandate-{len(self.rows) + 1}", tenant, director_id,
                          seat_id or f"seat-{len(self.rows) + 1:02d}", start, end)
        self.add(mandate)
        return mandate

    def appoint(self, office: str, director_id: str, start: date, *, tenant: str = "coop") -> OfficerTerm:
        """Test helper: `director_id` holds `office` from `start` (open-ended)."""
        term = OfficerTerm(f"term-{len(self.terms) + 1}", tenant, office, director_id, start, None, "decision")
        self.add_officer_term(term)
        return term

    def restore(self, state: Any) -> None:
        self.rows, self.terms, self.appointed = (copy.copy(s) for s in state)

    # -- the contract the meetings family relies on
    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]:
        found = sorted((m for m in self.rows.values() if m.tenant == tenant and m.covers(day)),
                       key=lambda m: (m.seat_id, m.start))
        out = []
        for m in found:
            standing = self.members.standing(m.director_id) if self.members else None
            category = standing.category if standing and standing.category in CATEGORIES else None
            out.append(SittingDirector(m.director_id, m.mandate_id, m.seat_id, category))
        return out

    def officer_on(self, tenant: str, office: str, day: date) -> str | None:
        sitting = {d.director_id for d in self.sitting_on(tenant, day)}
        for t in self.terms.values():
            if t.tenant == tenant and t.office == office and t.covers(day) and t.director_id in sitting:
                return t.director_id
        return None

    # -- mandates
    def lock(self, tenant: str) -> None:
        pass

    def mandates(self, tenant: str) -> list[Mandate]:
        return [m for m in self.rows.values() if m.tenant == tenant]

    def get(self, tenant: str, mandate_id: str) -> Mandate | None:
        m = self.rows.get(mandate_id)
        return m if m is not None and m.tenant == tenant else None

    def add(self, mandate: Mandate) -> None:
        assert mandate.mandate_id not in self.rows
        self.rows[mandate.mandate_id] = mandate

    def save(self, mandate: Mandate) -> None:
        self.rows[mandate.mandate_id] = mandate

    def of_election(self, tenant: str, election_id: str, director_id: str) -> Mandate | None:
        return next((m for m in self.rows.values() if (m.tenant, m.election_id, m.director_id)
                     == (tenant, election_id, director_id)), None)

    def page(self, tenant: str, *, director_id: str | None, seat_id: str | None, covering: date | None,
             after: tuple[str, str] | None, limit: int) -> list[Mandate]:
        found = [m for m in self.mandates(tenant) if (director_id is None or m.director_id == director_id)
                 and (seat_id is None or m.seat_id == seat_id) and (covering is None or m.covers(covering))]
        found.sort(key=lambda m: (m.start.isoformat(), m.mandate_id))
        if after:
            found = [m for m in found if (m.start.isoformat(), m.mandate_id) > tuple(after)]
        return found[:limit]

    def due_to_complete(self, today: date, limit: int) -> list[Mandate]:
        return sorted((m for m in self.rows.values() if m.end_reason is None and m.end <= today),
                      key=lambda m: (m.end, m.mandate_id))[:limit]

    # -- officers and management
    def officer_terms(self, tenant: str, office: str | None = None) -> list[OfficerTerm]:
        return [t for t in self.terms.values() if t.tenant == tenant and office in (None, t.office)]

    def add_officer_term(self, term: OfficerTerm) -> None:
        self.terms[term.term_id] = term

    def save_officer_term(self, term: OfficerTerm) -> None:
        self.terms[term.term_id] = term

    def appointments(self, tenant: str) -> list[ManagementAppointment]:
        return [a for a in self.appointed.values() if a.tenant == tenant]

    def add_appointment(self, appointment: ManagementAppointment) -> None:
        self.appointed[appointment.appointment_id] = appointment


class FakeMemberStandingRepository:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[MemberStanding, dict[str, datetime]]] = {}

    def snapshot(self) -> Any:
        return copy.copy(self.rows)

    def restore(self, state: Any) -> None:
        self.rows = copy.copy(state)

    def standing(self, member_id: str) -> MemberStanding | None:
        row = self.rows.get(member_id)
        return row[0] if row else None

    def standings(self, member_ids: list[str]) -> dict[str, MemberStanding]:
        return {m: self.rows[m][0] for m in member_ids if m in self.rows}

    def project(self, member_id: str, at: datetime, *, status: str | None = None, category: str | None = None,
                in_good_standing: bool | None = None, language: str | None = None) -> None:
        current, times = self.rows.get(member_id, (MemberStanding(member_id, None, None, False), {}))
        if current.status == "erased":
            return
        times = dict(times)
        changes: dict[str, Any] = {}
        for name, value in (("status", status), ("category", category), ("in_good_standing", in_good_standing),
                            ("language", language)):
            if value is not None and (name not in times or times[name] <= at):
                changes[name] = value
                times[name] = at
        if status == "erased":
            changes["language"] = None
        self.rows[member_id] = (replace(current, **changes), times)

    def page(self, tenant: str, after: str | None, limit: int, *, good_standing_only: bool) -> list[MemberStanding]:
        """Every member here is tenant "coop"'s (like the projection's default)."""
        rows = sorted((s for s, _ in self.rows.values() if tenant == "coop" and s.status in (None, *CONVOCABLE)
                       and (s.in_good_standing or not good_standing_only) and s.member_id > (after or "")),
                      key=lambda s: s.member_id)
        return rows[:limit]

    def count(self, tenant: str, *, good_standing_only: bool) -> int:
        return len(self.page(tenant, None, len(self.rows) + 1, good_standing_only=good_standing_only))

    def set(self, member_id: str, category: str | None, good: bool = True, status: str = "active",
            language: str | None = None) -> None:
        """Test helper: a member as membership would have told us."""
        self.rows[member_id] = (MemberStanding(member_id, status, category, good, language), {})

    def count_in_good_standing(self, tenant: str) -> int:
        return sum(1 for standing, _ in self.rows.values()
                   if standing.in_good_standing and standing.status != "erased")


class FakeDecisions:
    """Stands in for the meetings family's `decision_summary` in the roster's tests."""

    def __init__(self) -> None:
        self.decisions: dict[str, Any] = {}

    def decision_summary(self, tenant: str, decision_id: str) -> Any:
        d = self.decisions.get(decision_id)
        return d if d is not None and d.tenant == tenant else None
