"""SQL repository of the assembly family (tables in adapters/orm_assembly.py).

Registrations are the hot path (thousands of members in minutes, many api threads), served in
batches: the seats of a batch are taken with one UPDATE of free seat rows chosen FOR UPDATE SKIP
LOCKED, so batches never queue behind each other's row locks, and a workshop never seats more
members than it has seat rows."""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    tuple_,
    update,
)

from coop_board.adapters.orm_assembly import (
    arrival_sequence,
    assemblies,
    places,
    referrals,
    registrations,
    seats,
)
from coop_board.adapters.orm_assembly import registrations as registrations_table
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


# a place's arrival: the registration's when seated, a new number when waiting (compiled once)
_INSERT_PLACES_PG = (insert(places).values(arrival=func.coalesce(bindparam("arrival", type_=BigInteger),
                                                                 arrival_sequence.next_value()))
                     .returning(P.registration_id, P.workshop_id, P.arrival))


class SqlAssemblyRepository:
    def __init__(self, session: Any) -> None:
        self._db = session
        self._postgres = dialect_of(session).name == "postgresql"
        self._next_arrival = 0  # SQLite: the next arrival number this unit may give

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

    def _arrivals(self, count: int) -> list[int]:
        """`count` new arrival numbers, ascending, each greater than every one given before."""
        if count == 0:
            return []
        if self._postgres:
            return sorted(int(n) for (n,) in self._db.execute(
                select(arrival_sequence.next_value()).select_from(func.generate_series(1, count))))
        # SQLite (make run): one writer at a time, so numbers after the largest stored one, and
        # after those this unit gave already, are safe
        stored = self._db.execute(select(func.coalesce(func.max(P.arrival), 0))).scalar_one()
        first = max(int(stored) + 1, self._next_arrival)
        self._next_arrival = first + count
        return list(range(first, first + count))

    def add_registrations(self, registrations: list[AssemblyRegistration]) -> dict[str, int]:
        if not registrations:
            return {}
        rows = [{"registration_id": r.registration_id, "tenant": r.tenant, "assembly_id": r.assembly_id,
                 "member_id": r.member_id, "attendance": r.attendance,
                 "interpretation_language": r.interpretation_language, "registered_at": r.registered_at,
                 "code_hash": r.code_hash, "code_issued_at": r.code_issued_at} for r in registrations]
        # many rows to one statement compiled once (SQLAlchemy's insertmanyvalues)
        stmt = dialect_of(self._db).insert(registrations_table).on_conflict_do_nothing(
            index_elements=["tenant", "assembly_id", "member_id"], index_where=R.cancelled_at.is_(None))
        if self._postgres:  # the numbers drawn as the rows go in: one round trip
            drawn = dict(self._db.execute(stmt.returning(R.registration_id, arrival_sequence.next_value()), rows).all())
            numbers = sorted(int(n) for n in drawn.values())
        else:
            drawn = dict.fromkeys(self._db.execute(stmt.returning(R.registration_id), rows).scalars())
            numbers = self._arrivals(len(drawn))
        kept = [r.registration_id for r in registrations if r.registration_id in drawn]
        return dict(zip(kept, numbers, strict=True))  # ascending in the list's order

    def take_seats(self, tenant: str, wants: list[tuple[str, list[str]]]) -> dict[str, set[str]]:
        pairs = [(wid, rid) for rid, wids in wants for wid in wids]
        taken: dict[str, set[str]] = {}
        if not pairs:
            return taken
        if not self._postgres:
            for wid, rid in pairs:
                if self._take_seat(wid, rid):
                    taken.setdefault(rid, set()).add(wid)
            return taken
        # one statement: per workshop, as many free seats as it is wanted, not locked by another
        # unit, handed out in the order wanted (the n-th wanter of a workshop, its n-th free seat)
        rows = self._db.execute(text(
            "WITH wanted AS ("
            "  SELECT t.workshop_id, t.registration_id,"
            "         row_number() OVER (PARTITION BY t.workshop_id ORDER BY t.ord) AS rn"
            "  FROM unnest(CAST(:ws AS varchar[]), CAST(:rids AS varchar[])) WITH ORDINALITY"
            "       AS t(workshop_id, registration_id, ord)),"
            " free AS ("
            "  SELECT w.workshop_id, f.seat_no, row_number() OVER (PARTITION BY w.workshop_id ORDER BY f.seat_no) AS rn"
            "  FROM (SELECT workshop_id, count(*) AS n FROM wanted GROUP BY workshop_id) w"
            "  CROSS JOIN LATERAL (SELECT seat_no FROM board_assembly_seats"
            "                      WHERE workshop_id = w.workshop_id AND registration_id IS NULL"
            "                      ORDER BY seat_no LIMIT w.n FOR UPDATE SKIP LOCKED) f)"
            " UPDATE board_assembly_seats s SET registration_id = wanted.registration_id"
            " FROM free JOIN wanted ON wanted.workshop_id = free.workshop_id AND wanted.rn = free.rn"
            " WHERE s.workshop_id = free.workshop_id AND s.seat_no = free.seat_no"
            " RETURNING s.workshop_id, s.registration_id"),
            {"ws": [w for w, _ in pairs], "rids": [r for _, r in pairs]})
        for wid, rid in rows:
            taken.setdefault(rid, set()).add(wid)
        return taken

    def _take_seat(self, workshop_id: str, registration_id: str) -> bool:
        free = (select(S.workshop_id, S.seat_no).where(S.workshop_id == workshop_id, S.registration_id.is_(None))
                .order_by(S.seat_no).limit(1))
        free_sq = free.subquery()
        taken = self._db.execute(update(seats).where(
            tuple_(S.workshop_id, S.seat_no).in_(select(free_sq.c.workshop_id, free_sq.c.seat_no)))
            .values(registration_id=registration_id).returning(S.seat_no)).first()
        return taken is not None

    def add_places(self, tenant: str, assembly_id: str,
                   registrations: list[tuple[str, list[tuple[str, bool]], int]]) -> dict[str, list[WorkshopPlace]]:
        rows = [{"registration_id": rid, "workshop_id": wid, "tenant": tenant, "assembly_id": assembly_id,
                 "choice": n, "arrival": arrival if seated else None, "seated": seated, "active": True,
                 "promoted_at": None}
                for rid, choices, arrival in registrations for n, (wid, seated) in enumerate(choices, start=1)]
        if not rows:
            return {}
        # a waiting place takes a new number, after every seated one, in the rows' order
        waiting_rows = [row for row in rows if not row["seated"]]
        if self._postgres:  # drawn in the insert (VALUES rows are inserted in order): one round trip
            drawn = {(rid, wid): int(a) for rid, wid, a in self._db.execute(_INSERT_PLACES_PG, rows)}
            for row in waiting_rows:
                row["arrival"] = drawn[(row["registration_id"], row["workshop_id"])]
        else:
            for row, number in zip(waiting_rows, self._arrivals(len(waiting_rows)), strict=True):
                row["arrival"] = number
            self._db.execute(insert(places), rows)
        out: dict[str, list[WorkshopPlace]] = {}
        for r in rows:
            out.setdefault(r["registration_id"], []).append(
                WorkshopPlace(r["registration_id"], r["workshop_id"], r["choice"], r["arrival"], r["seated"]))
        if waiting_rows:
            positions = self._waiting_positions([(row["workshop_id"], row["arrival"]) for row in waiting_rows])
            for placed in out.values():
                for p in placed:
                    if not p.seated:
                        p.waiting_position = positions[(p.workshop_id, p.arrival)]
        return out

    def waiting_position(self, workshop_id: str, arrival: int) -> int:
        return self._waiting_positions([(workshop_id, arrival)])[(workshop_id, arrival)]

    def _waiting_positions(self, wanted: list[tuple[str, int]]) -> dict[tuple[str, int], int]:
        """1 + the active waiting places ahead, for each (workshop id, arrival). Counting is a walk
        of the waiting list, so it is done once per workshop (the places ahead of its first
        arrival asked), and the few places between its first and last arrival asked are read."""
        spans: dict[str, tuple[int, int]] = {}
        for wid, arrival in wanted:
            low, high = spans.get(wid, (arrival, arrival))
            spans[wid] = (min(low, arrival), max(high, arrival))
        if self._postgres:
            waiting = "p.workshop_id = w.id AND p.active AND NOT p.seated"
            rows = self._db.execute(text(
                f"SELECT w.id, (SELECT count(*) FROM board_assembly_places p WHERE {waiting} AND p.arrival < w.low),"
                f" ARRAY(SELECT p.arrival FROM board_assembly_places p WHERE {waiting}"
                "        AND p.arrival BETWEEN w.low AND w.high ORDER BY p.arrival)"
                " FROM unnest(CAST(:ws AS varchar[]), CAST(:lows AS bigint[]), CAST(:highs AS bigint[])) AS w(id, low, high)"),
                {"ws": list(spans), "lows": [lo for lo, _ in spans.values()],
                 "highs": [hi for _, hi in spans.values()]}).all()
        else:
            waiting_in = and_(P.active, ~P.seated)
            rows = [(wid, self._db.execute(select(func.count()).where(
                        P.workshop_id == wid, waiting_in, P.arrival < low)).scalar_one(),
                     list(self._db.execute(select(P.arrival).where(
                         P.workshop_id == wid, waiting_in, P.arrival.between(low, high))).scalars()))
                    for wid, (low, high) in spans.items()]
        found = {wid: (int(before), sorted(int(a) for a in between)) for wid, before, between in rows}
        return {(wid, arrival): 1 + found[wid][0] + bisect_left(found[wid][1], arrival) for wid, arrival in wanted}

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
