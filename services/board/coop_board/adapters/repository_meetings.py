"""SQL repositories of the meetings family (tables in adapters/orm_meetings.py).

A meeting is read whole (one row, `FOR UPDATE` when it is to change) and written whole; a ballot
is one more insert whose primary key refuses a second ballot of a director. A vote costs four
round trips: lock the meeting, insert the ballot, write the meeting, commit."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, func, select, tuple_, update

from coop_board.adapters import rows_meetings as rows
from coop_board.adapters.orm_meetings import (
    board_actions,
    board_decisions,
    board_meetings,
    board_pending_concerns,
    board_pending_minutes,
    board_statutory_items,
    board_vote_ballots,
)
from coop_board.domain import meeting_record
from coop_board.domain.decisions import Action, Decision
from coop_board.domain.links import DecisionSummary, MeetingSummary
from coop_board.domain.meetings import Meeting
from coop_board.domain.record import MeetingRecord
from coop_board.domain.texts import LocalizedText
from coop_domain.clock import utcnow
from coop_domain.errors import AlreadyExists
from coop_platform.sqlkit import dialect_of

M, B, D, A = board_meetings.c, board_vote_ballots.c, board_decisions.c, board_actions.c


class SqlMeetingRepository:
    def __init__(self, session: Any) -> None:
        self.session = session

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
    def _values(self, m: Meeting) -> dict[str, Any]:
        return {"tenant": m.tenant, "starts_at": m.starts_at, "status": m.status,
                "agenda_version": m.agenda_version, "doc": rows.meeting_doc(m)}

    def add(self, meeting: Meeting) -> None:
        self.session.execute(board_meetings.insert().values(meeting_id=meeting.meeting_id, **self._values(meeting)))

    def get(self, tenant: str, meeting_id: str, *, for_update: bool = False) -> Meeting | None:
        query = select(board_meetings).where(M.meeting_id == meeting_id, M.tenant == tenant)
        if for_update:
            query = dialect_of(self.session).for_update(query)
        row = self.session.execute(query).first()
        return rows.meeting_of(row) if row else None

    def save(self, meeting: Meeting) -> None:
        self.session.execute(update(board_meetings).where(M.meeting_id == meeting.meeting_id)
                             .values(**self._values(meeting)))

    def list(self, tenant: str, after: tuple[datetime, str] | None, limit: int, *,
             published_only: bool = False) -> list[Meeting]:
        query = select(board_meetings).where(M.tenant == tenant)
        if published_only:
            query = query.where(M.agenda_version > 0, M.status != "cancelled")
        if after:
            query = query.where(tuple_(M.starts_at, M.meeting_id) > tuple_(*after))
        found = self.session.execute(query.order_by(M.starts_at, M.meeting_id).limit(limit))
        return [rows.meeting_of(r) for r in found]

    def upcoming(self, tenant: str, now: datetime, limit: int = 20) -> list[Meeting]:
        found = self.session.execute(select(board_meetings).where(
            M.tenant == tenant, M.starts_at > now, M.status != "cancelled").order_by(M.starts_at).limit(limit))
        return [rows.meeting_of(r) for r in found]

    def due_to_freeze(self, now: datetime, limit: int = 100) -> list[Meeting]:
        found = self.session.execute(select(board_meetings).where(
            M.starts_at > now, M.agenda_version > 0, M.status.in_(("scheduled", "in_session")))
            .order_by(M.starts_at).limit(limit * 4))
        due = [m for m in (rows.meeting_of(r) for r in found) if m.is_frozen(now) and not m.frozen_announced]
        return due[:limit]

    def add_ballots(self, tenant: str, meeting_id: str, vote_id: str, director_ids: list[str]) -> None:
        if len(set(director_ids)) != len(director_ids):
            raise AlreadyExists("a director appears twice", field="ballots", reason="ALREADY_VOTED")
        inserted = self.session.execute(
            dialect_of(self.session).insert(board_vote_ballots)
            .values([{"tenant": tenant, "meeting_id": meeting_id, "vote_id": vote_id, "director_id": d}
                     for d in director_ids])
            .on_conflict_do_nothing().returning(B.director_id)).all()
        if len(inserted) != len(director_ids):
            raise AlreadyExists("this director has voted already", field="vote_id", reason="ALREADY_VOTED")

    # -- yearly statutory items and minutes waiting for a meeting
    def claim_statutory(self, tenant: str, year: int, kind: str, meeting_id: str) -> bool:
        got = self.session.execute(
            dialect_of(self.session).insert(board_statutory_items)
            .values(tenant=tenant, year=year, kind=kind, meeting_id=meeting_id)
            .on_conflict_do_nothing().returning(board_statutory_items.c.kind)).first()
        return got is not None

    def release_statutory(self, tenant: str, meeting_id: str) -> None:
        c = board_statutory_items.c
        self.session.execute(delete(board_statutory_items).where(c.tenant == tenant, c.meeting_id == meeting_id))

    def add_pending_minutes(self, tenant: str, minutes_id: str, title: LocalizedText) -> None:
        self.session.execute(dialect_of(self.session).insert(board_pending_minutes)
                             .values(tenant=tenant, minutes_id=minutes_id, title=title.as_dict())
                             .on_conflict_do_nothing())

    def take_pending_minutes(self, tenant: str) -> list[tuple[str, LocalizedText]]:
        c = board_pending_minutes.c
        found = self.session.execute(delete(board_pending_minutes).where(c.tenant == tenant)
                                     .returning(c.minutes_id, c.title)).all()
        return sorted((r.minutes_id, LocalizedText(**r.title)) for r in found)

    def add_pending_concern(self, tenant: str, question_id: str, title: LocalizedText, text: LocalizedText) -> None:
        self.session.execute(dialect_of(self.session).insert(board_pending_concerns)
                             .values(tenant=tenant, question_id=question_id, title=title.as_dict(),
                                     text=text.as_dict())
                             .on_conflict_do_nothing())

    def take_pending_concerns(self, tenant: str) -> list[tuple[str, LocalizedText, LocalizedText]]:
        c = board_pending_concerns.c
        found = self.session.execute(delete(board_pending_concerns).where(c.tenant == tenant)
                                     .returning(c.question_id, c.title, c.text)).all()
        return sorted((r.question_id, LocalizedText(**r.title), LocalizedText(**r.text)) for r in found)

    # -- decisions and actions
    def add_decision(self, decision: Decision) -> None:
        inserted = self.session.execute(
            dialect_of(self.session).insert(board_decisions)
            .values(decision_id=decision.decision_id, tenant=decision.tenant, meeting_id=decision.meeting_id,
                    item_id=decision.item_id, decided_at=decision.decided_at, doc=rows.decision_doc(decision))
            .on_conflict_do_nothing().returning(D.decision_id)).first()
        if inserted is None:
            raise AlreadyExists("the item was decided", field="item_id", reason="ITEM_DECIDED")
        if decision.actions:
            self.session.execute(board_actions.insert(), [rows.action_row(a) for a in decision.actions])

    def _with_actions(self, found: list[Any]) -> list[Decision]:
        if not found:
            return []
        actions: dict[str, list[Action]] = {}
        for r in self.session.execute(select(board_actions).where(
                A.decision_id.in_([f.decision_id for f in found])).order_by(A.due_on, A.action_id)):
            actions.setdefault(r.decision_id, []).append(rows.action_of(r))
        return [rows.decision_of(f, actions.get(f.decision_id, [])) for f in found]

    def get_decision(self, tenant: str, decision_id: str) -> Decision | None:
        found = self.session.execute(select(board_decisions).where(
            D.decision_id == decision_id, D.tenant == tenant)).all()
        return (self._with_actions(found) or [None])[0]

    def decisions(self, tenant: str, meeting_id: str | None, after: tuple[datetime, str] | None,
                  limit: int) -> list[Decision]:
        query = select(board_decisions).where(D.tenant == tenant)
        if meeting_id:
            query = query.where(D.meeting_id == meeting_id)
        if after:
            query = query.where(tuple_(D.decided_at, D.decision_id) > tuple_(*after))
        return self._with_actions(self.session.execute(query.order_by(D.decided_at, D.decision_id).limit(limit)).all())

    def decisions_of(self, tenant: str, meeting_id: str) -> list[Decision]:
        return self.decisions(tenant, meeting_id, None, 10_000)

    def get_action(self, tenant: str, action_id: str, *, for_update: bool = False) -> Action | None:
        query = select(board_actions).where(A.action_id == action_id, A.tenant == tenant)
        if for_update:
            query = dialect_of(self.session).for_update(query)
        row = self.session.execute(query).first()
        return rows.action_of(row) if row else None

    def save_action(self, action: Action) -> None:
        self.session.execute(update(board_actions).where(A.action_id == action.action_id)
                             .values(done_on=action.done_on))

    def overdue_action_counts(self, on: date) -> dict[str, int]:
        """Per tenant, the actions not done whose due date is before `on` (the gauge)."""
        query = (select(A.tenant, func.count()).where(A.done_on.is_(None), A.due_on < on).group_by(A.tenant))
        return {tenant: count for tenant, count in self.session.execute(query)}

    def actions(self, tenant: str, *, overdue_on: date | None, owner_id: str | None,
                after: tuple[date, str] | None, limit: int) -> list[Action]:
        query = select(board_actions).where(A.tenant == tenant)
        if overdue_on is not None:
            query = query.where(and_(A.done_on.is_(None), A.due_on < overdue_on))
        if owner_id:
            query = query.where(A.owner_id == owner_id)
        if after:
            query = query.where(tuple_(A.due_on, A.action_id) > tuple_(*after))
        return [rows.action_of(r) for r in self.session.execute(query.order_by(A.due_on, A.action_id).limit(limit))]
