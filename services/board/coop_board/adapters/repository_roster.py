"""SQL repositories of the roster family."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, text, tuple_

from coop_board.adapters.orm_roster import (
    management_appointments,
    mandates,
    member_standing,
    officer_terms,
)
from coop_board.domain.links import CATEGORIES, CONVOCABLE_STATUSES, MemberStanding, SittingDirector
from coop_board.domain.officers import ManagementAppointment, OfficerTerm
from coop_board.domain.roster import Mandate
from coop_platform.sqlkit import dialect_of

_M = mandates.c
_AT = {"status": "status_at", "category": "category_at", "in_good_standing": "standing_at",
       "language": "language_at"}


def _mandate(r: Any) -> Mandate:
    return Mandate(r.mandate_id, r.tenant, r.director_id, r.seat_id, r.start_date, r.end_date, r.election_id,
                   r.ended_on, r.end_reason)


def _covering(day: date) -> Any:
    """SQL twin of Mandate.covers."""
    return and_(_M.start_date <= day, _M.end_date > day, or_(_M.ended_on.is_(None), _M.ended_on > day))


def _term(r: Any) -> OfficerTerm:
    return OfficerTerm(r.term_id, r.tenant, r.office, r.director_id, r.start_date, r.end_date, r.decision_id)


class SqlRosterRepository:
    def __init__(self, session: Any) -> None:
        self.session = session

    # -- the contract the meetings family relies on
    def sitting_on(self, tenant: str, day: date) -> list[SittingDirector]:
        s = member_standing.c
        rows = self.session.execute(
            select(_M.director_id, _M.mandate_id, _M.seat_id, s.category)
            .select_from(mandates.outerjoin(member_standing, s.member_id == _M.director_id))
            .where(_M.tenant == tenant, _covering(day)).order_by(_M.seat_id, _M.start_date)).all()
        return [SittingDirector(r.director_id, r.mandate_id, r.seat_id,
                                r.category if r.category in CATEGORIES else None) for r in rows]

    def officer_on(self, tenant: str, office: str, day: date) -> str | None:
        t = officer_terms.c
        return self.session.execute(
            select(t.director_id).select_from(officer_terms.join(
                mandates, and_(_M.tenant == t.tenant, _M.director_id == t.director_id)))
            .where(t.tenant == tenant, t.office == office, t.start_date <= day,
                   or_(t.end_date.is_(None), t.end_date > day), _covering(day))
            .order_by(t.start_date.desc()).limit(1)).scalar_one_or_none()

    # -- mandates
    def lock(self, tenant: str) -> None:
        if dialect_of(self.session).is_postgresql:
            key = int.from_bytes(hashlib.sha256(f"board.roster:{tenant}".encode()).digest()[:8], "big", signed=True)
            self.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def mandates(self, tenant: str) -> list[Mandate]:
        return [_mandate(r) for r in self.session.execute(
            select(mandates).where(_M.tenant == tenant).order_by(_M.start_date, _M.mandate_id))]

    def get(self, tenant: str, mandate_id: str) -> Mandate | None:
        r = self.session.execute(select(mandates).where(_M.tenant == tenant, _M.mandate_id == mandate_id)).first()
        return _mandate(r) if r else None

    def add(self, mandate: Mandate) -> None:
        self.session.execute(mandates.insert().values(
            mandate_id=mandate.mandate_id, tenant=mandate.tenant, director_id=mandate.director_id,
            seat_id=mandate.seat_id, start_date=mandate.start, end_date=mandate.end,
            election_id=mandate.election_id, ended_on=mandate.ended_on, end_reason=mandate.end_reason,
            created_at=datetime.now(UTC)))

    def save(self, mandate: Mandate) -> None:
        self.session.execute(mandates.update().where(_M.mandate_id == mandate.mandate_id).values(
            ended_on=mandate.ended_on, end_reason=mandate.end_reason))

    def of_election(self, tenant: str, election_id: str, director_id: str) -> Mandate | None:
        r = self.session.execute(select(mandates).where(
            _M.tenant == tenant, _M.election_id == election_id, _M.director_id == director_id)).first()
        return _mandate(r) if r else None

    def page(self, tenant: str, *, director_id: str | None, seat_id: str | None, covering: date | None,
             after: tuple[str, str] | None, limit: int) -> list[Mandate]:
        q = select(mandates).where(_M.tenant == tenant)
        if director_id is not None:
            q = q.where(_M.director_id == director_id)
        if seat_id is not None:
            q = q.where(_M.seat_id == seat_id)
        if covering is not None:
            q = q.where(_covering(covering))
        if after:
            q = q.where(tuple_(_M.start_date, _M.mandate_id) > tuple_(date.fromisoformat(after[0]), after[1]))
        return [_mandate(r) for r in self.session.execute(q.order_by(_M.start_date, _M.mandate_id).limit(limit))]

    def due_to_complete(self, today: date, limit: int) -> list[Mandate]:
        q = (select(mandates).where(_M.end_reason.is_(None), _M.end_date <= today)
             .order_by(_M.end_date, _M.mandate_id).limit(limit))
        return [_mandate(r) for r in self.session.execute(dialect_of(self.session).for_update(q, skip_locked=True))]

    # -- officers and the delegated administration
    def officer_terms(self, tenant: str, office: str | None = None) -> list[OfficerTerm]:
        t = officer_terms.c
        q = select(officer_terms).where(t.tenant == tenant)
        if office is not None:
            q = q.where(t.office == office)
        return [_term(r) for r in self.session.execute(q.order_by(t.start_date, t.term_id))]

    def add_officer_term(self, term: OfficerTerm) -> None:
        self.session.execute(officer_terms.insert().values(
            term_id=term.term_id, tenant=term.tenant, office=term.office, director_id=term.director_id,
            start_date=term.start, end_date=term.end, decision_id=term.decision_id))

    def save_officer_term(self, term: OfficerTerm) -> None:
        self.session.execute(officer_terms.update().where(officer_terms.c.term_id == term.term_id)
                             .values(end_date=term.end))

    def appointments(self, tenant: str) -> list[ManagementAppointment]:
        a = management_appointments.c
        return [ManagementAppointment(r.appointment_id, r.tenant, r.manager_id, r.title, r.start_date, r.end_date,
                                      r.decision_id)
                for r in self.session.execute(select(management_appointments).where(a.tenant == tenant)
                                              .order_by(a.start_date, a.appointment_id))]

    def add_appointment(self, appointment: ManagementAppointment) -> None:
        self.session.execute(management_appointments.insert().values(
            appointment_id=appointment.appointment_id, tenant=appointment.tenant,
            manager_id=appointment.manager_id, title=appointment.title, start_date=appointment.start,
            end_date=appointment.end, decision_id=appointment.decision_id))


def _standing(r: Any) -> MemberStanding:
    return MemberStanding(r.member_id, r.status, r.category, bool(r.in_good_standing), r.language)


class SqlMemberStandingRepository:
    def __init__(self, session: Any) -> None:
        self.session = session

    def standing(self, member_id: str) -> MemberStanding | None:
        r = self.session.execute(select(member_standing).where(member_standing.c.member_id == member_id)).first()
        return _standing(r) if r else None

    def standings(self, member_ids: list[str]) -> dict[str, MemberStanding]:
        if not member_ids:
            return {}
        rows = self.session.execute(select(member_standing).where(member_standing.c.member_id.in_(member_ids)))
        return {r.member_id: _standing(r) for r in rows}

    def project(self, member_id: str, at: datetime, *, status: str | None = None, category: str | None = None,
                in_good_standing: bool | None = None, language: str | None = None) -> None:
        """One statement: each given value replaces the stored one unless that came from a newer
        event; an erased member (status "erased") changes no more, and loses their language."""
        at = at.astimezone(UTC)
        c = member_standing.c
        given = {"status": status, "category": category, "in_good_standing": in_good_standing, "language": language}
        stmt = dialect_of(self.session).insert(member_standing).values(
            member_id=member_id, status=status, category=category, in_good_standing=bool(in_good_standing),
            language=language, **{_AT[name]: at if value is not None else None for name, value in given.items()})
        changes: dict[str, Any] = {}
        alive = or_(c.status.is_(None), c.status != "erased")
        for name, value in given.items():
            if value is None:
                continue
            stamp = _AT[name]
            newer = and_(alive, or_(c[stamp].is_(None), c[stamp] <= stmt.excluded[stamp]))
            changes[name] = case((newer, stmt.excluded[name]), else_=c[name])
            changes[stamp] = case((newer, stmt.excluded[stamp]), else_=c[stamp])
        if status == "erased":
            changes["language"] = None
        self.session.execute(stmt.on_conflict_do_update(index_elements=["member_id"], set_=changes)
                             if changes else stmt.on_conflict_do_nothing(index_elements=["member_id"]))

    def count_in_good_standing(self, tenant: str) -> int:
        """Members in good standing now (an initiative's percentage threshold is frozen on it)."""
        c = member_standing.c
        return int(self.session.execute(select(func.count()).select_from(member_standing).where(
            c.tenant == tenant, c.in_good_standing.is_(True),
            or_(c.status.is_(None), c.status != "erased"))).scalar_one())

    # -- the convocation's keyset pages (assembly family)
    @staticmethod
    def _convocable(tenant: str, good_standing_only: bool) -> list[Any]:
        c = member_standing.c
        where = [c.tenant == tenant, or_(c.status.is_(None), c.status.in_(CONVOCABLE_STATUSES))]
        if good_standing_only:
            where.append(c.in_good_standing.is_(True))
        return where

    def page(self, tenant: str, after: str | None, limit: int, *, good_standing_only: bool) -> list[MemberStanding]:
        """Members by member id after `after`: those still members (active or suspended, or of
        unknown status), in good standing when asked."""
        query = select(member_standing).where(*self._convocable(tenant, good_standing_only))
        if after:
            query = query.where(member_standing.c.member_id > after)
        rows = self.session.execute(query.order_by(member_standing.c.member_id).limit(limit))
        return [_standing(r) for r in rows]

    def count(self, tenant: str, *, good_standing_only: bool) -> int:
        return int(self.session.execute(select(func.count()).select_from(member_standing).where(
            *self._convocable(tenant, good_standing_only))).scalar_one())
