"""In-memory fakes of the meetings family's repositories (service_layer/ports_meetings.py), and
a small static roster for the meetings tests (the roster family owns the real one)."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from coop_board.domain import meeting_record
from coop_board.domain.decisions import Action, Decision
from coop_board.domain.links import DecisionSummary, MeetingSummary, SittingDirector
from coop_board.domain.meetings import Meeting
from coop_board.domain.record import MeetingRecord
from coop_board.domain.texts import LocalizedText
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists


class FakeMeetingRepository:
    def __init__(self) -> None:
        self.meetings: dict[str, Meeting] = {}
        self.ballots: set[tuple[str, str]] = set()
        self.statutory: dict[tuple[str, int, str], str] = {}
        self.pending: dict[str, list[tuple[str, LocalizedText]]] = {}
        self.decisions_: dict[str, Decision] = {}
        self.concerns: dict[str, dict[str, tuple[LocalizedText, LocalizedText]]] = {}

    def snapshot(self) -> Any:
        return copy.deepcopy((self.meetings, self.ballots, self.statutory, self.pending, self.decisions_,
                              self.concerns))

    def restore(self, state: Any) -> None:
        self.meetings, self.ballots, self.statutory, self.pending, self.decisions_, self.concerns = state

    # -- contracts with other families
    def summary(self, tenant: str, meeting_id: str) -> MeetingSummary | None:
        m = self.get(tenant, meeting_id)
        return meeting_record.summary(m, m.is_frozen(utcnow())) if m else None

    def record(self, tenant: str, meeting_id: str) -> MeetingRecord | None:
        m = self.get(tenant, meeting_id)
        return meeting_record.record(m, self.decisions_of(tenant, meeting_id)) if m else None

    def decision_summary(self, tenant: str, decision_id: str) -> DecisionSummary | None:
        d = self.get_decision(tenant, decision_id)
        return meeting_record.decision_summary(d) if d else None

    # -- meetings
    def add(self, meeting: Meeting) -> None:
        self.meetings[meeting.meeting_id] = meeting

    def get(self, tenant: str, meeting_id: str, *, for_update: bool = False) -> Meeting | None:
        m = self.meetings.get(meeting_id)
        return m if m is not None and m.tenant == tenant else None

    def save(self, meeting: Meeting) -> None:
        self.meetings[meeting.meeting_id] = meeting

    def list(self, tenant: str, after: tuple[datetime, str] | None, limit: int, *,
             published_only: bool = False) -> list[Meeting]:
        found = sorted((m for m in self.meetings.values() if m.tenant == tenant
                        and (not published_only or (m.agenda_published and m.status != "cancelled"))),
                       key=lambda m: (m.starts_at, m.meeting_id))
        return [m for m in found if after is None or (m.starts_at, m.meeting_id) > after][:limit]

    def upcoming(self, tenant: str, now: datetime, limit: int = 20) -> list[Meeting]:
        return [m for m in self.list(tenant, None, 10**6) if m.starts_at > now and m.status != "cancelled"][:limit]

    def due_to_freeze(self, now: datetime, limit: int = 100) -> list[Meeting]:
        return [m for m in sorted(self.meetings.values(), key=lambda m: m.starts_at)
                if m.starts_at > now and m.agenda_published and m.status in ("scheduled", "in_session")
                and m.is_frozen(now) and not m.frozen_announced][:limit]

    def add_ballots(self, tenant: str, meeting_id: str, vote_id: str, director_ids: list[str]) -> None:
        keys = [(vote_id, d) for d in director_ids]
        if len(set(keys)) != len(keys) or self.ballots & set(keys):
            raise AlreadyExists("this director has voted already", field="vote_id", reason="ALREADY_VOTED")
        self.ballots |= set(keys)

    def claim_statutory(self, tenant: str, year: int, kind: str, meeting_id: str) -> bool:
        return self.statutory.setdefault((tenant, year, kind), meeting_id) == meeting_id

    def release_statutory(self, tenant: str, meeting_id: str) -> None:
        self.statutory = {k: v for k, v in self.statutory.items() if not (k[0] == tenant and v == meeting_id)}

    def add_pending_minutes(self, tenant: str, minutes_id: str, title: LocalizedText) -> None:
        self.pending.setdefault(tenant, []).append((minutes_id, title))

    def take_pending_minutes(self, tenant: str) -> list[tuple[str, LocalizedText]]:
        return self.pending.pop(tenant, [])

    def add_pending_concern(self, tenant: str, question_id: str, title: LocalizedText, text: LocalizedText) -> None:
        self.concerns.setdefault(tenant, {}).setdefault(question_id, (title, text))

    def take_pending_concerns(self, tenant: str) -> list[tuple[str, LocalizedText, LocalizedText]]:
        return sorted((q, t, x) for q, (t, x) in self.concerns.pop(tenant, {}).items())

    # -- decisions and actions
    def add_decision(self, decision: Decision) -> None:
        if any(d.tenant == decision.tenant and d.item_id == decision.item_id for d in self.decisions_.values()):
            raise AlreadyExists("the item was decided", field="item_id", reason="ITEM_DECIDED")
        self.decisions_[decision.decision_id] = decision

    def get_decision(self, tenant: str, decision_id: str) -> Decision | None:
        d = self.decisions_.get(decision_id)
        return d if d is not None and d.tenant == tenant else None

    def decisions(self, tenant: str, meeting_id: str | None, after: tuple[datetime, str] | None,
                  limit: int) -> list[Decision]:
        found = sorted((d for d in self.decisions_.values() if d.tenant == tenant
                        and (meeting_id is None or d.meeting_id == meeting_id)),
                       key=lambda d: (d.decided_at, d.decision_id))
        return [d for d in found if after is None or (d.decided_at, d.decision_id) > after][:limit]

    def decisions_of(self, tenant: str, meeting_id: str) -> list[Decision]:
        return self.decisions(tenant, meeting_id, None, 10**6)

    def _all_actions(self) -> list[Action]:
        return [a for d in self.decisions_.values() for a in d.actions]

    def get_action(self, tenant: str, action_id: str, *, for_update: bool = False) -> Action | None:
        return next((a for a in self._all_actions() if a.action_id == action_id and a.tenant == tenant), None)

    def save_action(self, action: Action) -> None:
        pass  # the action is the decision's own object

    def overdue_action_counts(self, on: date) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self._all_actions():
            if a.overdue(on):
                counts[a.tenant] = counts.get(a.tenant, 0) + 1
        return counts

    def actions(self, tenant: str, *, overdue_on: date | None, owner_id: str | None,
                after: tuple[date, str] | None, limit: int) -> list[Action]:
        found = sorted((a for a in self._all_actions() if a.tenant == tenant
                        and (overdue_on is None or a.overdue(overdue_on))
                        and (owner_id is None or a.owner_id == owner_id)), key=lambda a: (a.due_on, a.action_id))
        return [a for a in found if after is None or (a.due_on, a.action_id) > after][:limit]


class StaticRoster:
    """The roster family's reads, from a fixed list: {tenant: [director ids]} sitting every day,
    and officers {(tenant, office): director id}."""

    def __init__(self, sitting: dict[str, list[str]] | None = None,
                 officers: dict[tuple[str, str], str] | None = None) -> None:
        self.sitting = sitting or {}
        self.officers = officers or {}

    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]:
        return [SittingDirector(d, f"mandate-{d}", f"seat-{n}", "user")
                for n, d in enumerate(self.sitting.get(tenant, []), 1)]

    def officer_on(self, tenant: str, office: str, day: date) -> str | None:
        return self.officers.get((tenant, office))


class FakeDossierHooks:
    """Stands in for service_layer/dossier_hooks and minutes_hooks until those families merge:
    `install(monkeypatch)` replaces the hook functions; calls are recorded."""

    def __init__(self) -> None:
        from coop_board.domain.links import ProposalRef  # noqa: F401 - the values it serves

        self.refs: dict[str, Any] = {}
        self.outcomes: list[tuple[str, str, str | None]] = []
        self.sent_back_closed: list[bool] = []
        self.sent_back: list[tuple[str, int, str]] = []
        self.approved_minutes: list[tuple[str, str]] = []

    def version_before_board(self, uow: Any, tenant: str, dossier_id: str) -> tuple[int, LocalizedText]:
        from coop_domain.errors import NotFound

        versions = [r.version for r in self.refs.values() if r.dossier_id == dossier_id]
        if not versions:
            raise NotFound(f"no dossier {dossier_id}", field="dossier_id", reason="DOSSIER_NOT_FOUND")
        return max(versions), LocalizedText(dossier_id, dossier_id, dossier_id)

    def add_dossier(self, dossier_id: str, version: int, proposals: int, amendments_of: dict[int, int] | None = None
                    ) -> list[str]:
        from coop_board.domain.links import ProposalRef

        ids = []
        for n in range(1, proposals + 1):
            pid = f"{dossier_id}-v{version}-p{n}"
            text = LocalizedText(f"texte {n}", f"tekst {n}", f"text {n}")
            self.refs[pid] = ProposalRef(pid, dossier_id, version, None, 0, LocalizedText(f"P{n}", f"P{n}", f"P{n}"),
                                         text, n <= 2, "open")
            ids.append(pid)
            for k in range(1, (amendments_of or {}).get(n, 0) + 1):
                aid = f"{pid}-a{k}"
                self.refs[aid] = ProposalRef(aid, dossier_id, version, pid, 1, LocalizedText("A", "A", "A"),
                                             LocalizedText("am fr", "am nl", "am en"), False, "open")
        return ids

    def proposals_for_vote(self, uow: Any, tenant: str, dossier_id: str, version: int) -> list[Any]:
        return [r for r in self.refs.values() if r.dossier_id == dossier_id and r.version == version]

    def subject(self, uow: Any, tenant: str, subject_id: str) -> Any:
        from coop_domain.errors import NotFound

        if subject_id not in self.refs:
            raise NotFound("no such proposal", field="subject_id", reason="PROPOSAL_NOT_FOUND")
        return self.refs[subject_id]

    def record_outcome(self, uow: Any, tenant: str, subject_id: str, outcome: str, decision_id: str | None,
                       at: datetime) -> None:
        import dataclasses

        self.refs[subject_id] = dataclasses.replace(self.refs[subject_id], status=outcome)
        self.outcomes.append((subject_id, outcome, decision_id))

    def send_back(self, uow: Any, tenant: str, dossier_id: str, version: int, reasons: LocalizedText, due_on: date,
                  meeting_id: str, item_id: str, decision_id: str, at: datetime, *, closed: bool = False) -> None:
        self.sent_back.append((dossier_id, version, decision_id))
        self.sent_back_closed.append(closed)

    def minutes_approved(self, uow: Any, tenant: str, minutes_id: str, decision_id: str, meeting_id: str,
                         at: datetime) -> None:
        self.approved_minutes.append((minutes_id, decision_id))

    def install(self, monkeypatch: Any) -> FakeDossierHooks:
        from coop_board.service_layer import dossier_hooks, minutes_hooks

        for name in ("proposals_for_vote", "subject", "record_outcome", "send_back", "version_before_board"):
            monkeypatch.setattr(dossier_hooks, name, getattr(self, name))
        monkeypatch.setattr(minutes_hooks, "minutes_approved", self.minutes_approved)
        return self
