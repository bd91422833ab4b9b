"""SQL repositories of the observers family (tables in adapters/orm_observers.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, tuple_, update

from coop_board.adapters.orm_observers import observer_registrations as regs
from coop_board.adapters.orm_observers import observer_sessions as sessions
from coop_board.domain.observers import CANCELLED, SEATED, WAITING, ObserverSession, Registration
from coop_domain.errors import Aborted
from coop_platform.sqlkit import dialect_of

_RANK = case((regs.c.status == SEATED, 0), (regs.c.status == WAITING, 1), else_=2)
_FIELDS = [c.name for c in regs.columns]


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:  # SQLite gives naive values back
        return value.replace(tzinfo=UTC)
    return value


def _registration(row: Any) -> Registration:
    return Registration(
        registration_id=row.registration_id, tenant=row.tenant, meeting_id=row.meeting_id, member_id=row.member_id,
        sequence=row.sequence, status=row.status, registered_at=_utc(row.registered_at),  # type: ignore[arg-type]
        promoted_at=_utc(row.promoted_at), cancelled_at=_utc(row.cancelled_at), cancelled_by=row.cancelled_by,
        code_hash=row.code_hash, code_issued_at=_utc(row.code_issued_at), checked_in_at=_utc(row.checked_in_at),
        checked_in_by=row.checked_in_by, speaking_slot=row.speaking_slot)


class SqlObserverRepository:
    def __init__(self, session: Any) -> None:
        self._db = session  # not `session`: that is the aggregate's read below

    def session(self, tenant: str, meeting_id: str, *, lock: bool = False) -> ObserverSession | None:
        query = select(sessions).where(sessions.c.tenant == tenant, sessions.c.meeting_id == meeting_id)
        row = self._db.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        active = self._db.execute(select(regs).where(
            regs.c.tenant == tenant, regs.c.meeting_id == meeting_id, regs.c.status != CANCELLED)).all()
        return ObserverSession(
            tenant=row.tenant, meeting_id=row.meeting_id, seats=row.seats,
            registration_deadline=_utc(row.registration_deadline),  # type: ignore[arg-type]
            meeting_starts_at=_utc(row.meeting_starts_at), opened_by=row.opened_by,  # type: ignore[arg-type]
            opened_at=_utc(row.opened_at), next_sequence=row.next_sequence,  # type: ignore[arg-type]
            registrations={r.registration_id: _registration(r) for r in active})

    def save(self, s: ObserverSession) -> None:
        values = dict(seats=s.seats, registration_deadline=s.registration_deadline,
                      meeting_starts_at=s.meeting_starts_at, next_sequence=s.next_sequence)
        if s.new:
            inserted = self._db.execute(
                dialect_of(self._db).insert(sessions)
                .values(tenant=s.tenant, meeting_id=s.meeting_id, opened_by=s.opened_by, opened_at=s.opened_at,
                        **values)
                .on_conflict_do_nothing(index_elements=["tenant", "meeting_id"])
                .returning(sessions.c.meeting_id)).first()
            if inserted is None:
                raise Aborted("the meeting was opened to observers by a concurrent call: retry",
                              reason="CONCURRENT_OPEN")
            s.new = False
        else:
            self._db.execute(update(sessions).where(
                sessions.c.tenant == s.tenant, sessions.c.meeting_id == s.meeting_id).values(**values))
        for rid in sorted(s.changed):
            r = s.registrations[rid]
            row = {name: getattr(r, name) for name in _FIELDS}
            insert = dialect_of(self._db).insert(regs).values(**row)
            self._db.execute(insert.on_conflict_do_update(
                index_elements=["registration_id"],
                set_={k: v for k, v in row.items() if k not in ("registration_id", "tenant", "meeting_id")}))
        s.changed.clear()

    def registration(self, tenant: str, registration_id: str) -> Registration | None:
        row = self._db.execute(select(regs).where(
            regs.c.registration_id == registration_id, regs.c.tenant == tenant)).first()
        return None if row is None else _registration(row)

    def of_member(self, tenant: str, member_id: str, after: tuple[str, str] | None, limit: int) -> list[Registration]:
        query = select(regs).where(regs.c.tenant == tenant, regs.c.member_id == member_id)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(regs.c.registered_at > at,
                                    and_(regs.c.registered_at == at, regs.c.registration_id > after[1])))
        rows = self._db.execute(query.order_by(regs.c.registered_at, regs.c.registration_id).limit(limit))
        return [_registration(r) for r in rows]

    def listing(self, tenant: str, meeting_id: str, include_cancelled: bool, after: tuple[int, int] | None,
                limit: int) -> list[Registration]:
        query = select(regs).where(regs.c.tenant == tenant, regs.c.meeting_id == meeting_id)
        if not include_cancelled:
            query = query.where(regs.c.status != CANCELLED)
        if after is not None:
            query = query.where(tuple_(_RANK, regs.c.sequence) > tuple_(after[0], after[1]))
        rows = self._db.execute(query.order_by(_RANK, regs.c.sequence).limit(limit))
        return [_registration(r) for r in rows]

    def waiting_position(self, tenant: str, meeting_id: str, sequence: int) -> int:
        ahead = self._db.execute(select(func.count()).select_from(regs).where(
            regs.c.tenant == tenant, regs.c.meeting_id == meeting_id, regs.c.status == WAITING,
            regs.c.sequence < sequence)).scalar_one()
        return 1 + int(ahead)

    def totals(self, now: datetime) -> list[tuple[str, int, int, int]]:
        taken = func.count().filter(regs.c.status == SEATED, regs.c.speaking_slot.is_(False))
        waiting = func.count().filter(regs.c.status == WAITING)
        per_meeting = (select(sessions.c.tenant, sessions.c.meeting_id, sessions.c.seats,
                              taken.label("taken"), waiting.label("waiting"))
                       .select_from(sessions.outerjoin(regs, and_(regs.c.tenant == sessions.c.tenant,
                                                                  regs.c.meeting_id == sessions.c.meeting_id)))
                       .where(sessions.c.meeting_starts_at > now)
                       .group_by(sessions.c.tenant, sessions.c.meeting_id, sessions.c.seats)).subquery()
        rows = self._db.execute(select(per_meeting.c.tenant, func.sum(per_meeting.c.seats),
                                           func.sum(per_meeting.c.taken), func.sum(per_meeting.c.waiting))
                                    .group_by(per_meeting.c.tenant).order_by(per_meeting.c.tenant))
        return [(t, int(s or 0), int(k or 0), int(w or 0)) for t, s, k, w in rows]
