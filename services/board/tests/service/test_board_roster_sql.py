"""The SQL roster agrees with the domain: `sitting_on` and `officer_on` on PostgreSQL answer what
`roster_on` computes from the same mandates, on every day around every boundary; concurrent
writes on one seat let exactly one mandate through."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import date, timedelta

import grpc
from roster_svc_helpers import callers, d, stub

from coop.board.v1 import roster_pb2 as pb
from coop_board.domain.officers import OfficerTerm
from coop_board.domain.roster import CompositionRule, roster_on, seat_ids
from coop_board.entrypoints.roster_settings import roster_settings
from coop_board.service_layer import roster
from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal

ADMIN = Principal("adm-sql", "coop", frozenset({"admin"}))


def test_sitting_on_in_sql_is_the_domains_roster_on_every_boundary_day(env) -> None:
    tenant = f"sql-{uuid.uuid4().hex[:6]}"
    admin = Principal("adm", tenant, frozenset({"admin"}))
    settings = roster_settings({"COOP_BOARD_SEATS": "6"})
    rng = random.Random(11)
    base = date(2040, 1, 1)
    for n in range(40):
        start = base + timedelta(days=rng.randrange(0, 3000))
        try:
            m, _ = roster.create_mandate(env.uow_factory(), admin, settings, director_id=f"d{n}", seat_id=None,
                                         start=start, end=start + timedelta(days=365 * rng.randint(1, 4)))
        except FailedPrecondition:  # no seat vacant for that term: skip
            continue
        if rng.random() < 0.3:
            roster.end_mandate(env.uow_factory(), admin, m.mandate_id,
                               m.start + timedelta(days=rng.randrange(0, (m.end - m.start).days)), "resignation")
    with env.uow_factory() as uow:
        mandates = uow.roster.mandates(tenant)
        days = sorted({x for m in mandates for b in (m.start, m.last_covered_before)
                       for x in (b - timedelta(days=1), b)})
        assert len(mandates) >= 10
        for day in days:
            expected = roster_on(day, mandates, {}, settings.seats, CompositionRule())
            sql = uow.roster.sitting_on(tenant, day)
            assert [(s.director_id, s.seat_id, s.mandate_id) for s in sql] == [
                (line.director.director_id, line.director.seat_id, line.director.mandate_id)
                for line in expected.sitting]


def test_officer_on_in_sql_needs_the_term_and_the_mandate_to_cover_the_day(env) -> None:
    tenant = f"sql-{uuid.uuid4().hex[:6]}"
    admin = Principal("adm", tenant, frozenset({"admin"}))
    settings = roster_settings({})
    m, _ = roster.create_mandate(env.uow_factory(), admin, settings, director_id="chair", seat_id=None,
                                 start=date(2050, 5, 15), end=date(2054, 5, 15))
    roster.end_mandate(env.uow_factory(), admin, m.mandate_id, date(2052, 1, 1), "resignation")
    with env.uow_factory() as uow:
        uow.roster.add_officer_term(OfficerTerm(str(uuid.uuid4()), tenant, "chair", "chair", date(2050, 6, 1),
                                                date(2053, 6, 1), "dec"))
        uow.commit()
    with env.uow_factory() as uow:
        on = {day: uow.roster.officer_on(tenant, "chair", day) for day in (
            date(2050, 5, 31), date(2050, 6, 1), date(2051, 12, 31), date(2052, 1, 1))}
        assert on == {date(2050, 5, 31): None, date(2050, 6, 1): "chair", date(2051, 12, 31): "chair",
                      date(2052, 1, 1): None}
        assert uow.roster.officer_on(tenant, "secretary", date(2051, 1, 1)) is None


def test_concurrent_mandates_on_one_seat_let_exactly_one_through(env) -> None:
    year = 2300 + random.Random().randrange(0, 500) * 10
    answers: list[object] = []
    barrier = threading.Barrier(6)

    def create(n: int) -> None:
        barrier.wait()
        try:
            answers.append(stub(env).CreateMandate(pb.CreateMandateRequest(
                director_id=f"c{n}-{uuid.uuid4().hex[:4]}", seat_id="seat-09", start_date=d(date(year, 5, 15)),
                end_date=d(date(year + 4, 5, 15))), metadata=callers()["admin"], timeout=30))
        except grpc.RpcError as exc:
            answers.append(exc.code())

    threads = [threading.Thread(target=create, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for a in answers if isinstance(a, pb.CreateMandateResponse)) == 1
    assert [a for a in answers if not isinstance(a, pb.CreateMandateResponse)] == [
        grpc.StatusCode.FAILED_PRECONDITION] * 5
    assert seat_ids(20)[8] == "seat-09"
