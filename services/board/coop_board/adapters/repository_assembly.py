"""SQL repository of the assembly family (tables in adapters/orm_assembly.py).

Registrations are the hot path (thousands of members in minutes, many api threads): a seat is
taken with one UPDATE of a free seat row chosen FOR UPDATE SKIP LOCKED, so registrations for one
workshop never queue behind each other's row lock, and a workshop never seats more members than it
has seat rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, insert, or_, select, text, tuple_, update

from coop_board.adapters.orm_assembly import (
    arrival_sequence,
    assemblies,
    places,
    referrals,
    registrations,
    seats,
)
from coop_board.adapters.orm_assembly import workshops as workshops_table
from coop_board.domain.assembly import (
    CONVENING,
    Assembly,
    AssemblyDocument,
    AssemblyRegistration,
    Referral,
    Workshop,
    WorkshopCounts,
    WorkshopPlace,
)
from coop_board.domain.texts import LocalizedText
from coop_domain.clock import as_utc
from coop_domain.errors import AlreadyExists
from coop_platform.sqlkit import dialect_of

A, R, P, S, W = assemblies.c, registrations.c, places.c, seats.c, workshops_table.c


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)  # SQLite gives naive values back


def _text(value: dict[str, str]) -> LocalizedText:
    return LocalizedText.of(value)


def _assembly(r: Any) -> Assembly:
    return Assembly(
        assembly_id=r.assembly_id, tenant=r.tenant, title=_text(r.title), starts_at=_utc(r.starts_at),  # type: ignore[arg-type]
        place=r.place, registration_deadline=_utc(r.registration_deadline),  # type: ignore[arg-type]
        election_id=r.election_id,
        documents=tuple(AssemblyDocument(_text(d["title"]), _text(d["reference"])) for d in r.documents),
        scheduled_at=_utc(r.scheduled_at), scheduled_by=r.scheduled_by, status=r.status,  # type: ignore[arg-type]
        convened_at=_utc(r.convened_at), convened_by=r.convened_by, convene_all_members=r.convene_all_members,
        convocation_total=r.convocation_total, convocation_sent=r.convocation_sent,
        convocation_cursor=r.convocation_cursor, convocation_completed_at=_utc(r.convocation_completed_at))


def _workshop(r: Any) -> Workshop:
    return Workshop(r.workshop_id, r.tenant, r.assembly_id, _text(r.title), r.capacity, r.language,
                    _utc(r.starts_at), _utc(r.ends_at), _utc(r.created_at))  # type: ignore[arg-type]


def _registration(r: Any) -> AssemblyRegistration:
    return AssemblyRegistration(
        registration_id=r.registration_id, tenant=r.tenant, assembly_id=r.assembly_id, member_id=r.member_id,
        attendance=r.attendance, interpretation_language=r.interpretation_language,
        registered_at=_utc(r.registered_at), cancelled_at=_utc(r.cancelled_at),  # type: ignore[arg-type]
        cancelled_by=r.cancelled_by, code_hash=r.code_hash, code_issued_at=_utc(r.code_issued_at),
        checked_in_at=_utc(r.checked_in_at), checked_in_by=r.checked_in_by)


def _place(r: Any) -> WorkshopPlace:
    return WorkshopPlace(r.registration_id, r.workshop_id, r.choice, r.arrival, r.seated, r.active,
                         _utc(r.promoted_at))


class SqlAssemblyRepository:
    def __init__(self, session: Any) -> None:
        self._db = session
        self._postgres = dialect_of(session).name == "postgresql"

    # -- assemblies ---------------------------------------------------------------------------------

    def add(self, a: Assembly) -> None:
        self._db.execute(insert(assemblies).values(
            assembly_id=a.assembly_id, tenant=a.tenant, title=a.title.as_dict(), starts_at=a.starts_at, place=a.place,
            registration_deadline=a.registration_deadline, election_id=a.election_id,
            documents=[{"title": d.title.as_dict(), "reference": d.reference.as_dict()} for d in a.documents],
            scheduled_at=a.scheduled_at, scheduled_by=a.scheduled_by, **self._progress(a)))

    @staticmethod
    def _progress(a: Assembly) -> dict[str, Any]:
        return dict(status=a.status, convened_at=a.convened_at, convened_by=a.convened_by,
                    convene_all_members=a.convene_all_members, convocation_total=a.convocation_total,
                    convocation_sent=a.convocation_sent, convocation_cursor=a.convocation_cursor,
                    convocation_completed_at=a.convocation_completed_at)

    def get(self, tenant: str, assembly_id: str, *, lock: bool = False) -> Assembly | None:
        query = select(assemblies).where(A.tenant == tenant, A.assembly_id == assembly_id)
        row = self._db.execute(query.with_for_update() if lock else query).first()
        return None if row is None else _assembly(row)

    def save(self, a: Assembly) -> None:
        self._db.execute(update(assemblies).where(A.tenant == a.tenant, A.assembly_id == a.assembly_id)
                         .values(**self._progress(a)))

    def page(self, tenant: str, after: tuple[str, str] | None, limit: int) -> list[Assembly]:
        query = select(assemblies).where(A.tenant == tenant)
        if after is not None:
            at = datetime.fromisoformat(after[0])
            query = query.where(or_(A.starts_at < at, and_(A.starts_at == at, A.assembly_id < after[1])))
        rows = self._db.execute(query.order_by(A.starts_at.desc(), A.assembly_id.desc()).limit(limit))
        return [_assembly(r) for r in rows]

    def next_not_convened(self, tenant: str, now: datetime) -> Assembly | None:
        row = self._db.execute(select(assemblies).where(
            A.tenant == tenant, A.convened_at.is_(None), A.status != "cancelled", A.starts_at > now)
            .order_by(A.starts_at, A.assembly_id).limit(1)).first()
        return None if row is None else _assembly(row)

    def registering(self, now: datetime) -> list[Assembly]:
        rows = self._db.execute(select(assemblies).where(A.registration_deadline >= now, A.status != "cancelled")
                                .order_by(A.tenant, A.assembly_id))
        return [_assembly(r) for r in rows]

    def claim_convening(self) -> Assembly | None:
        query = select(assemblies).where(A.status == CONVENING).order_by(A.convened_at, A.assembly_id).limit(1)
        row = self._db.execute(query.with_for_update(skip_locked=True)).first()
        return None if row is None else _assembly(row)

    # -- referrals ------------------------------------------------------------------------------------

    def referral(self, tenant: str, initiative_id: str) -> Referral | None:
        r = self._db.execute(select(referrals).where(referrals.c.tenant == tenant,
                                                     referrals.c.initiative_id == initiative_id)).first()
        return None if r is None else Referral(r.tenant, r.initiative_id, _text(r.title), _utc(r.referred_at),  # type: ignore[arg-type]
                                               r.assembly_id)

    def refer(self, ref: Referral) -> None:
        self._db.execute(insert(referrals).values(tenant=ref.tenant, initiative_id=ref.initiative_id,
                                                  title=ref.title.as_dict(), referred_at=ref.referred_at,
                                                  assembly_id=ref.assembly_id))

    def referrals(self, tenant: str, assembly_id: str) -> list[Referral]:
        rows = self._db.execute(select(referrals).where(referrals.c.tenant == tenant,
                                                        referrals.c.assembly_id == assembly_id))
        return [Referral(r.tenant, r.initiative_id, _text(r.title), _utc(r.referred_at), r.assembly_id)  # type: ignore[arg-type]
                for r in rows]

    def attach_pending(self, tenant: str, assembly_id: str) -> int:
        done = self._db.execute(update(referrals).where(referrals.c.tenant == tenant,
                                                        referrals.c.assembly_id.is_(None))
                                .values(assembly_id=assembly_id))
        return int(done.rowcount or 0)

    # -- workshops -------------------------------------------------------------------------------------

    def add_workshop(self, w: Workshop) -> None:
        self._db.execute(insert(workshops_table).values(
            workshop_id=w.workshop_id, tenant=w.tenant, assembly_id=w.assembly_id, title=w.title.as_dict(),
            capacity=w.capacity, language=w.language, starts_at=w.starts_at, ends_at=w.ends_at,
            created_at=w.created_at))
        self._db.execute(insert(seats), [{"workshop_id": w.workshop_id, "seat_no": n, "registration_id": None}
                                         for n in range(1, w.capacity + 1)])

    def workshop(self, tenant: str, workshop_id: str) -> Workshop | None:
        r = self._db.execute(select(workshops_table).where(W.tenant == tenant, W.workshop_id == workshop_id)).first()
        return None if r is None else _workshop(r)

    def workshops(self, tenant: str, assembly_id: str) -> list[Workshop]:
        rows = self._db.execute(select(workshops_table).where(W.tenant == tenant, W.assembly_id == assembly_id)
                                .order_by(W.starts_at, W.workshop_id))
        return [_workshop(r) for r in rows]

    def workshop_counts(self, tenant: str, assembly_id: str) -> dict[str, WorkshopCounts]:
        present = and_(P.seated, R.checked_in_at.is_not(None))
        rows = self._db.execute(
            select(P.workshop_id, func.count().filter(P.seated), func.count().filter(~P.seated),
                   func.count().filter(present))
            .select_from(places.join(registrations, R.registration_id == P.registration_id))
            .where(P.tenant == tenant, P.assembly_id == assembly_id, P.active)
            .group_by(P.workshop_id))
        return {wid: WorkshopCounts(int(s), int(w), int(p)) for wid, s, w, p in rows}

    # -- registrations ----------------------------------------------------------------------------------

    def _arrival(self) -> Any:
        if self._postgres:
            return arrival_sequence.next_value()
        # SQLite (make run): one writer at a time, so the largest number + 1 is safe
        return select(func.coalesce(func.max(P.arrival), 0) + 1).scalar_subquery()

    def add_registration(self, r: AssemblyRegistration) -> int:
        stmt = dialect_of(self._db).insert(registrations).values(
            registration_id=r.registration_id, tenant=r.tenant, assembly_id=r.assembly_id,
            member_id=r.member_id, attendance=r.attendance, interpretation_language=r.interpretation_language,
            registered_at=r.registered_at, code_hash=r.code_hash, code_issued_at=r.code_issued_at)
        arrival = self._db.execute(stmt.on_conflict_do_nothing(
            index_elements=["tenant", "assembly_id", "member_id"], index_where=R.cancelled_at.is_(None))
            .returning(self._arrival())).scalar_one_or_none()
        if arrival is None:
            raise AlreadyExists("you are already registered for this Assembly", field="assembly_id",
                                reason="ALREADY_REGISTERED")
        return int(arrival)

    def take_seats(self, tenant: str, workshop_ids: list[str], registration_id: str) -> set[str]:
        if not workshop_ids:
            return set()
        if not self._postgres:
            return {w for w in workshop_ids if self._take_seat(w, registration_id)}
        # one statement: per workshop, its first free seat not locked by another unit
        taken = self._db.execute(text(
            "UPDATE board_assembly_seats s SET registration_id = :rid"
            " FROM (SELECT w.id AS workshop_id, f.seat_no FROM unnest(CAST(:ws AS varchar[])) AS w(id)"
            "       CROSS JOIN LATERAL (SELECT seat_no FROM board_assembly_seats"
            "                           WHERE workshop_id = w.id AND registration_id IS NULL"
            "                           ORDER BY seat_no LIMIT 1 FOR UPDATE SKIP LOCKED) f) AS free"
            " WHERE s.workshop_id = free.workshop_id AND s.seat_no = free.seat_no"
            " RETURNING s.workshop_id"), {"rid": registration_id, "ws": list(workshop_ids)})
        return {row[0] for row in taken}

    def _take_seat(self, workshop_id: str, registration_id: str) -> bool:
        free = (select(S.workshop_id, S.seat_no).where(S.workshop_id == workshop_id, S.registration_id.is_(None))
                .order_by(S.seat_no).limit(1))
        if self._postgres:
            free = free.with_for_update(skip_locked=True)
        free_sq = free.subquery()
        taken = self._db.execute(update(seats).where(
            tuple_(S.workshop_id, S.seat_no).in_(select(free_sq.c.workshop_id, free_sq.c.seat_no)))
            .values(registration_id=registration_id).returning(S.seat_no)).first()
        return taken is not None

    def add_places(self, tenant: str, assembly_id: str, registration_id: str,
                   choices: list[tuple[str, bool]], arrival: int) -> list[WorkshopPlace]:
        if not choices:
            return []
        # a waiting place takes its number in the insert, after it found no seat
        rows = [{"registration_id": registration_id, "workshop_id": wid, "tenant": tenant,
                 "assembly_id": assembly_id, "choice": n, "arrival": arrival if seated else self._arrival(),
                 "seated": seated, "active": True, "promoted_at": None}
                for n, (wid, seated) in enumerate(choices, start=1)]
        if self._postgres:
            numbers = dict(self._db.execute(insert(places).values(rows).returning(P.workshop_id, P.arrival)).all())
        else:  # one row at a time: each reads the largest number so far
            for row in rows:
                self._db.execute(insert(places).values(**row))
            numbers = dict(self._db.execute(select(P.workshop_id, P.arrival).where(
                P.registration_id == registration_id)).all())
        for row in rows:
            row["arrival"] = int(numbers[row["workshop_id"]])
        out = [WorkshopPlace(registration_id, r["workshop_id"], r["choice"], r["arrival"], r["seated"]) for r in rows]
        waiting = [p for p in out if not p.seated]
        if waiting:
            ahead = places.alias("ahead")
            counts = dict(self._db.execute(
                select(P.workshop_id, select(func.count()).select_from(ahead).where(
                    ahead.c.workshop_id == P.workshop_id, ahead.c.active, ~ahead.c.seated,
                    ahead.c.arrival < P.arrival).scalar_subquery())
                .where(P.registration_id == registration_id, ~P.seated)).all())
            for p in waiting:
                p.waiting_position = 1 + int(counts.get(p.workshop_id, 0))
        return out

    def waiting_position(self, workshop_id: str, arrival: int) -> int:
        ahead = self._db.execute(select(func.count()).select_from(places).where(
            P.workshop_id == workshop_id, P.active, ~P.seated, P.arrival < arrival)).scalar_one()
        return 1 + int(ahead)

    def _with_places(self, row: Any) -> AssemblyRegistration:
        reg = _registration(row)
        reg.places = [_place(p) for p in self._db.execute(
            select(places).where(P.registration_id == reg.registration_id).order_by(P.choice))]
        for p in reg.places:
            if p.active and not p.seated:
                p.waiting_position = self.waiting_position(p.workshop_id, p.arrival)
        return reg

    def registration(self, tenant: str, registration_id: str, *, lock: bool = False) -> AssemblyRegistration | None:
        query = select(registrations).where(R.tenant == tenant, R.registration_id == registration_id)
        row = self._db.execute(query.with_for_update() if lock else query).first()
        return None if row is None else self._with_places(row)

    def registration_of(self, tenant: str, assembly_id: str, member_id: str) -> AssemblyRegistration | None:
        row = self._db.execute(select(registrations).where(
            R.tenant == tenant, R.assembly_id == assembly_id, R.member_id == member_id,
            R.cancelled_at.is_(None))).first()
        return None if row is None else self._with_places(row)

    def save_registration(self, r: AssemblyRegistration) -> None:
        self._db.execute(update(registrations).where(R.registration_id == r.registration_id, R.tenant == r.tenant)
                         .values(cancelled_at=r.cancelled_at, cancelled_by=r.cancelled_by, code_hash=r.code_hash,
                                 code_issued_at=r.code_issued_at, checked_in_at=r.checked_in_at,
                                 checked_in_by=r.checked_in_by))
        if not r.active:
            self._db.execute(update(places).where(P.registration_id == r.registration_id).values(active=False))

    def hand_over_seat(self, tenant: str, workshop_id: str, registration_id: str,
                       now: datetime) -> tuple[str, str] | None:
        first = (select(P.registration_id).where(P.workshop_id == workshop_id, P.active, ~P.seated)
                 .order_by(P.arrival).limit(1))
        if self._postgres:
            first = first.with_for_update(skip_locked=True)
        promoted = self._db.execute(first).scalar_one_or_none()
        freed = self._db.execute(update(seats).where(S.workshop_id == workshop_id, S.registration_id == registration_id)
                                 .values(registration_id=promoted).returning(S.seat_no)).first()
        if promoted is None or freed is None:  # nothing held (already handed over): nobody is seated
            return None
        self._db.execute(update(places).where(P.registration_id == promoted, P.workshop_id == workshop_id)
                         .values(seated=True, promoted_at=now))
        member = self._db.execute(select(R.member_id).where(R.registration_id == promoted)).scalar_one()
        return promoted, member

    def by_code(self, tenant: str, assembly_id: str, code_hash: str) -> AssemblyRegistration | None:
        query = select(registrations).where(R.tenant == tenant, R.assembly_id == assembly_id, R.code_hash == code_hash)
        row = self._db.execute(query.with_for_update()).first()  # a code checks in once, even twice at once
        return None if row is None else self._with_places(row)

    def workshop_listing(self, tenant: str, workshop_id: str, after: tuple[int, int] | None,
                         limit: int) -> list[tuple[WorkshopPlace, str, datetime]]:
        rank = case((P.seated, 0), else_=1)
        query = (select(places, R.member_id, R.registered_at)
                 .select_from(places.join(registrations, R.registration_id == P.registration_id))
                 .where(P.tenant == tenant, P.workshop_id == workshop_id, P.active))
        if after is not None:
            query = query.where(tuple_(rank, P.arrival) > tuple_(after[0], after[1]))
        out = []
        position = None
        for row in self._db.execute(query.order_by(rank, P.arrival).limit(limit)):
            place = _place(row)
            if not place.seated:  # consecutive on the page: one count, then +1
                position = self.waiting_position(workshop_id, place.arrival) if position is None else position + 1
                place.waiting_position = position
            out.append((place, row.member_id, _utc(row.registered_at)))
        return out  # type: ignore[return-value]

    def figures(self, tenant: str, assembly_id: str) -> tuple[int, int, int, int]:
        in_person = R.attendance == "in_person"
        row = self._db.execute(select(
            func.count(), func.count().filter(in_person),
            func.count().filter(and_(in_person, R.checked_in_at.is_not(None))),
            func.count().filter(R.attendance == "remote"))
            .where(R.tenant == tenant, R.assembly_id == assembly_id, R.cancelled_at.is_(None))).one()
        return int(row[0]), int(row[1]), int(row[2]), int(row[3])

    def settle(self, tenant: str, assembly_id: str, now: datetime) -> list[tuple[str, str, str]]:
        promoted = []
        for w in self.workshops(tenant, assembly_id):
            while True:
                waiting = (select(P.registration_id).where(P.workshop_id == w.workshop_id, P.active, ~P.seated)
                           .order_by(P.arrival).limit(1))
                if self._postgres:
                    waiting = waiting.with_for_update(skip_locked=True)
                first = self._db.execute(waiting).scalar_one_or_none()
                if first is None or not self._take_seat(w.workshop_id, first):
                    break
                self._db.execute(update(places).where(P.registration_id == first, P.workshop_id == w.workshop_id)
                                 .values(seated=True, promoted_at=now))
                member = self._db.execute(select(R.member_id).where(R.registration_id == first)).scalar_one()
                promoted.append((w.workshop_id, first, member))
        return promoted
