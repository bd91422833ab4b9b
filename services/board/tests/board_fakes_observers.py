"""In-memory fakes of the observers family's repositories (service_layer/ports_observers.py), and
stand-ins for what the family reads from the others (meetings' MeetingSummary and record, the
roster's secretary in office, the members projection), used by the observers' use-case tests and,
on PostgreSQL, by their api tests until those families' SQL reads are merged."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from coop_board.domain.links import MeetingSummary, MemberStanding
from coop_board.domain.observers import CANCELLED, SEATED, WAITING, ObserverSession, Registration
from coop_board.domain.record import ItemRecord, MeetingRecord
from coop_board.domain.texts import LocalizedText


class FakeObserverRepository:
    def __init__(self) -> None:
        self.sessions: dict[tuple[str, str], ObserverSession] = {}
        self.registrations: dict[str, Registration] = {}

    def snapshot(self) -> Any:
        return copy.deepcopy((self.sessions, self.registrations))

    def restore(self, state: Any) -> None:
        self.sessions, self.registrations = state

    def session(self, tenant: str, meeting_id: str, *, lock: bool = False) -> ObserverSession | None:
        stored = self.sessions.get((tenant, meeting_id))
        if stored is None:
            return None
        active = {r.registration_id: replace(r) for r in self.registrations.values()
                  if r.tenant == tenant and r.meeting_id == meeting_id and r.status != CANCELLED}
        return replace(stored, registrations=active, changed=set(), new=False)

    def save(self, session: ObserverSession) -> None:
        key = (session.tenant, session.meeting_id)
        if session.new and key in self.sessions:
            raise AssertionError("a session opened twice")
        self.sessions[key] = replace(session, registrations={}, changed=set(), new=False)
        for rid in session.changed:
            self.registrations[rid] = replace(session.registrations[rid])
        session.changed.clear()
        session.new = False

    def registration(self, tenant: str, registration_id: str) -> Registration | None:
        r = self.registrations.get(registration_id)
        return replace(r) if r is not None and r.tenant == tenant else None

    def of_member(self, tenant: str, member_id: str, after: tuple[str, str] | None, limit: int) -> list[Registration]:
        rows = sorted((r for r in self.registrations.values() if r.tenant == tenant and r.member_id == member_id),
                      key=lambda r: (r.registered_at.isoformat(), r.registration_id))
        if after is not None:
            rows = [r for r in rows if (r.registered_at.isoformat(), r.registration_id) > after]
        return [replace(r) for r in rows[:limit]]

    def listing(self, tenant: str, meeting_id: str, include_cancelled: bool, after: tuple[int, int] | None,
                limit: int) -> list[Registration]:
        rank = {SEATED: 0, WAITING: 1, CANCELLED: 2}
        rows = sorted((r for r in self.registrations.values() if r.tenant == tenant and r.meeting_id == meeting_id
                       and (include_cancelled or r.status != CANCELLED)),
                      key=lambda r: (rank[r.status], r.sequence))
        if after is not None:
            rows = [r for r in rows if (rank[r.status], r.sequence) > after]
        return [replace(r) for r in rows[:limit]]

    def waiting_position(self, tenant: str, meeting_id: str, sequence: int) -> int:
        return 1 + sum(1 for r in self.registrations.values() if r.tenant == tenant and r.meeting_id == meeting_id
                       and r.status == WAITING and r.sequence < sequence)

    def totals(self, now: datetime) -> list[tuple[str, int, int, int]]:
        out: dict[str, list[int]] = {}
        for (tenant, meeting_id), s in self.sessions.items():
            if s.meeting_starts_at <= now:
                continue
            row = out.setdefault(tenant, [0, 0, 0])
            row[0] += s.seats
            for r in self.registrations.values():
                if r.tenant == tenant and r.meeting_id == meeting_id:
                    row[1] += r.status == SEATED and not r.speaking_slot
                    row[2] += r.status == WAITING
        return [(t, *v) for t, v in sorted(out.items())]  # type: ignore[misc]


# -- stand-ins for the other families' reads ----------------------------------------------------

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECRETARY_ID = "sec-1"


def item(item_id: str, position: int, visibility: str, title: str = "") -> ItemRecord:
    text = title or f"item {item_id}"
    return ItemRecord(item_id, position, LocalizedText(fr=text, nl=text, en=text), "other", visibility)


@dataclass
class StandInMeetings:
    """MeetingRepository's reads: summaries and records the test sets."""

    summaries: dict[tuple[str, str], MeetingSummary] = field(default_factory=dict)
    records: dict[tuple[str, str], MeetingRecord] = field(default_factory=dict)

    def add(self, meeting_id: str, *, tenant: str = "coop", starts_at: datetime = NOW + timedelta(days=14),
            status: str = "scheduled", items: tuple[ItemRecord, ...] = ()) -> MeetingSummary:
        items = items or (item("open-1", 1, "open", "Budget"), item("closed-1", 2, "closed", "Personnel matter"))
        title = LocalizedText(fr="Conseil", nl="Raad", en="Board")
        summary = MeetingSummary(meeting_id, tenant, title, starts_at, status, False,
                                 any(i.visibility == "open" for i in items))
        self.summaries[(tenant, meeting_id)] = summary
        self.records[(tenant, meeting_id)] = MeetingRecord(meeting_id, tenant, title, starts_at, "Brussels", None,
                                                           None, (), items)
        return summary

    def set_status(self, meeting_id: str, status: str, tenant: str = "coop") -> None:
        self.summaries[(tenant, meeting_id)] = replace(self.summaries[(tenant, meeting_id)], status=status)

    def summary(self, tenant: str, meeting_id: str) -> MeetingSummary | None:
        return self.summaries.get((tenant, meeting_id))

    def record(self, tenant: str, meeting_id: str) -> MeetingRecord | None:
        return self.records.get((tenant, meeting_id))

    def decision_summary(self, tenant: str, decision_id: str) -> None:
        return None


@dataclass
class StandInStandings:
    """MemberStandingRepository: members in good standing unless listed in `lapsed`."""

    lapsed: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)

    def standing(self, member_id: str) -> MemberStanding | None:
        if member_id in self.unknown:
            return None
        good = member_id not in self.lapsed
        return MemberStanding(member_id, "active" if good else "suspended", "user", good)


@dataclass
class StandInRoster:
    """RosterRepository's reads: `secretary` holds the office on every day (per tenant)."""

    secretary: dict[str, str] = field(default_factory=lambda: {"coop": SECRETARY_ID})

    def officer_on(self, tenant: str, office: str, day: date) -> str | None:
        return self.secretary.get(tenant) if office == "secretary" else None

    def sitting_on(self, tenant: str, day: date) -> list[Any]:
        return []


def with_stand_ins(uow: Any) -> Any:
    """A unit of work (fake or SQL) whose other families' reads are the stand-ins above."""
    uow.meetings = StandInMeetings()
    uow.members = StandInStandings()
    uow.roster = StandInRoster()
    return uow
