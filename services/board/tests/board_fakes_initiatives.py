"""In-memory InitiativeRepository (service_layer/ports_initiatives.py) and recording stand-ins
for the hooks other families own: the meetings family's agenda_hooks.force_initiative_item and
the assembly family's assembly_hooks.refer_initiative_to_assembly (built in parallel; tests
substitute these fakes for them)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from coop_board.domain.initiatives import (
    COLLECTING,
    DRAFT,
    MARKS,
    OUTCOME_OWED,
    PUBLIC,
    SUBMITTED,
    Initiative,
)
from coop_board.domain.links import ForcedItem
from coop_board.service_layer.ports_initiatives import Signer


class FakeInitiativeRepository:
    def __init__(self, members: Any) -> None:
        self.members = members  # the members projection: verification reads standings from it
        self.rows: dict[str, Initiative] = {}
        self.signatures: dict[str, dict[str, datetime]] = {}

    def snapshot(self) -> Any:
        return copy.deepcopy((self.rows, self.signatures))

    def restore(self, state: Any) -> None:
        self.rows, self.signatures = copy.deepcopy(state)

    def get(self, tenant: str, initiative_id: str, *, lock: bool = False, skip_locked: bool = False,
            committee: bool = True) -> Initiative | None:
        found = self.rows.get(initiative_id)
        if found is None or found.tenant != tenant:
            return None
        out = copy.deepcopy(found)
        if not committee:
            out.promoters = []
        return out

    def save(self, initiative: Initiative) -> None:
        initiative.new = False
        self.rows[initiative.initiative_id] = copy.deepcopy(initiative)

    def add_signatures(self, tenant: str, initiative_id: str, member_ids: list[str], now: datetime) -> set[str]:
        signed = self.signatures.setdefault(initiative_id, {})
        added = {m for m in member_ids if m not in signed}
        signed.update({m: now for m in sorted(added)})
        return added

    def remove_signature(self, tenant: str, initiative_id: str, member_id: str) -> bool:
        return self.signatures.get(initiative_id, {}).pop(member_id, None) is not None

    def signed_at(self, tenant: str, initiative_id: str, member_id: str) -> datetime | None:
        return self.signatures.get(initiative_id, {}).get(member_id)

    def count(self, tenant: str, initiative_id: str) -> int:
        return len(self.signatures.get(initiative_id, {}))

    def counts(self, tenant: str, initiative_ids: list[str]) -> dict[str, int]:
        return {k: self.count(tenant, k) for k in initiative_ids}

    def raise_progress(self, tenant: str, initiative_id: str, mark: int) -> bool:
        row = self.rows[initiative_id]
        if row.progress >= mark:
            return False
        row.progress = mark
        return True

    def _good(self, member_id: str) -> bool:
        s = self.members.standing(member_id)
        return s is not None and s.in_good_standing and s.status != "erased"

    def verified_count(self, tenant: str, initiative_id: str) -> int:
        return sum(1 for m in self.signatures.get(initiative_id, {}) if self._good(m))

    def signers(self, tenant: str, initiative_id: str, after: tuple[str, str] | None, limit: int) -> list[Signer]:
        rows = sorted(((at.isoformat(), m) for m, at in self.signatures.get(initiative_id, {}).items()))
        if after is not None:
            rows = [r for r in rows if r > after]
        return [Signer(m, datetime.fromisoformat(at), self._good(m)) for at, m in rows[:limit]]

    def listing(self, tenant: str, reader: str, board: bool, mine: bool, status: str | None,
                after: tuple[str, str] | None, limit: int) -> list[Initiative]:
        def visible(s: Initiative) -> bool:
            if mine:
                return s.committee_member(reader)
            return s.status in PUBLIC or s.committee_member(reader) or (board and s.status == SUBMITTED)
        rows = [s for s in self.rows.values() if s.tenant == tenant and visible(s)
                and (status is None or s.status == status)]
        rows.sort(key=lambda s: (s.created_at.isoformat(), s.initiative_id), reverse=True)
        if after is not None:
            rows = [s for s in rows if (s.created_at.isoformat(), s.initiative_id) < after]
        return [copy.deepcopy(s) for s in rows[:limit]]

    def due(self, what: str, now: datetime, limit: int) -> list[tuple[str, str]]:
        def due(s: Initiative) -> bool:
            if what == "admissibility":
                return s.admissibility_lapsed(now)
            if what == "expiry":
                return s.status == COLLECTING and s.closes_at is not None and s.closes_at <= now
            if what == "overdue":
                return (s.status in OUTCOME_OWED and s.outcome_due_at is not None and s.outcome_due_at <= now
                        and s.overdue_since is None)
            n = self.count(s.tenant, s.initiative_id)
            return s.status == COLLECTING and (n >= s.threshold or any(
                s.progress < m and n * 100 >= s.threshold * m for m in MARKS))
        return [(s.tenant, s.initiative_id) for s in sorted(self.rows.values(), key=lambda s: s.created_at)
                if s.status != DRAFT and due(s)][:limit]

    def overdue_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.rows.values():
            if s.status in OUTCOME_OWED and s.overdue_since is not None:
                out[s.tenant] = out.get(s.tenant, 0) + 1
        return out


@dataclass
class RecordingAgenda:
    """Stands in for agenda_hooks.force_initiative_item (the meetings family's): records each
    call and places the item on a meeting starting `starts_in` after the call."""

    starts_in: timedelta = timedelta(days=10)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail: bool = False

    def __call__(self, uow: Any, tenant: str, initiative_id: str, title: Any, text: Any,
                 promoter_ids: tuple[str, ...], now: datetime, max_delay_days: int) -> ForcedItem:
        if self.fail:
            raise RuntimeError("the agenda refused (test)")
        self.calls.append(dict(tenant=tenant, initiative_id=initiative_id, title=title, text=text,
                               promoter_ids=promoter_ids, now=now, max_delay_days=max_delay_days))
        n = len(self.calls)
        return ForcedItem(f"meeting-{n}", f"item-{n}", now + self.starts_in, False)


@dataclass
class RecordingAssembly:
    """Stands in for assembly_hooks.refer_initiative_to_assembly (the assembly family's)."""

    assembly_id: str | None = "assembly-1"
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, uow: Any, tenant: str, initiative_id: str, title: Any, now: datetime) -> str | None:
        self.calls.append(dict(tenant=tenant, initiative_id=initiative_id, title=title, now=now))
        return self.assembly_id


@dataclass(frozen=True)
class _Sitting:
    director_id: str


@dataclass
class StandInBoard:
    """RosterRepository's reads for the initiatives' tests: `secretary` holds the office, the
    `sitting` directors sit, every day (the roster family's SQL is not what is tested here)."""

    secretary: dict[str, str] = field(default_factory=lambda: {"coop": "sec-1"})
    sitting: tuple[str, ...] = ("sec-1", "dir-1")

    def officer_on(self, tenant: str, office: str, day: Any) -> str | None:
        return self.secretary.get(tenant) if office == "secretary" else None

    def sitting_on(self, tenant: str, day: Any) -> list[_Sitting]:
        return [_Sitting(d) for d in self.sitting] if tenant in self.secretary else []
