"""RosterService through the api on PostgreSQL: every RPC against every role (director,
secretary, management, member, admin, another tenant's admin), bad input named by field and
reason with nothing written, retries answered once."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, date, datetime

import grpc
import pytest
from roster_svc_helpers import DECISIONS, adopted, callers, d, load, refused, stub, uid
from sqlalchemy import text

from coop.board.v1 import events_pb2
from coop.board.v1 import roster_pb2 as pb
from coop_board.adapters.repository_meetings import SqlMeetingRepository
from coop_board.domain.links import APPOINT_MANAGEMENT, ELECT_OFFICER, DecisionSummary
from coop_testkit import bearer

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
_YEARS = itertools.count(2100, 10)


@pytest.fixture
def year() -> int:
    """A decade of dates no other test of the session uses (seats are shared by tenant)."""
    return next(_YEARS)


@pytest.fixture
def decisions(monkeypatch) -> dict[str, DecisionSummary]:
    """`uow.meetings.decision_summary` as the meetings family will answer it, from this dict."""
    def decision_summary(self, tenant: str, decision_id: str):
        found = DECISIONS.get(decision_id)
        return found if found is not None and found.tenant == tenant else None
    monkeypatch.setattr(SqlMeetingRepository, "decision_summary", decision_summary, raising=False)
    return DECISIONS


def _count(env, sql: str, **params) -> int:
    with env.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def _standing(env, member_id: str, category: str, good: bool = True) -> None:
    with env.engine.begin() as conn:
        conn.execute(text("INSERT INTO board_member_standing (member_id, status, category, in_good_standing) "
                          "VALUES (:m, 'active', :c, :g)"), {"m": member_id, "c": category, "g": good})


def test_every_role_reads_the_roster_members_without_flags_and_another_tenant_sees_none_of_ours(env, year) -> None:
    start, end = date(year, 5, 15), date(year + 4, 5, 15)
    good, lapsed = uid("dir"), uid("dir")
    _standing(env, good, "user")
    _standing(env, lapsed, "user", good=False)
    load(env, good, start, end)
    load(env, lapsed, start, end)
    on = d(date(year, 6, 1))
    env.clock.set(env.clock().replace(year=year, month=6, day=1))  # the tokens' subjects sit today
    for role, metadata in callers(secretary=good, director=lapsed).items():
        answer = stub(env).GetRoster(pb.GetRosterRequest(on_date=on), metadata=metadata, timeout=10)
        listed = stub(env).ListMandates(pb.ListMandatesRequest(covering=on), metadata=metadata, timeout=10)
        stub(env).ListOfficers(pb.ListOfficersRequest(on_date=on), metadata=metadata, timeout=10)
        stub(env).ListManagement(pb.ListManagementRequest(on_date=on), metadata=metadata, timeout=10)
        ids = [x.director_id for x in answer.directors]
        if role == "other":
            assert ids == [] and list(listed.mandates) == [] and answer.seats == 20
            continue
        assert ids == [good, lapsed] and answer.composition.ok and answer.composition.users == 2
        assert {m.director_id for m in listed.mandates} == {good, lapsed}
        flags = {x.director_id: list(x.flags) for x in answer.directors}
        if role == "member":
            assert flags == {good: [], lapsed: []}
        else:
            assert flags == {good: [], lapsed: [pb.DIRECTOR_FLAG_NOT_IN_GOOD_STANDING]}
    former = stub(env).GetRoster(pb.GetRosterRequest(on_date=on), metadata=callers()["director"], timeout=10)
    assert [list(x.flags) for x in former.directors] == [[], []]  # a director token of someone not sitting
    nobody = refused(stub(env).GetRoster, pb.GetRosterRequest(on_date=on), metadata=bearer("t-1", "teller"))
    assert nobody.code == DENIED  # a role of another service reads no roster


def test_only_an_admin_loads_and_ends_mandates_and_another_tenants_admin_finds_none_of_ours(env, year) -> None:
    start, end = date(year, 5, 15), date(year + 4, 5, 15)
    for role, metadata in callers().items():
        director = uid("dir")
        request = pb.CreateMandateRequest(director_id=director, start_date=d(start), end_date=d(end))
        if role in ("admin", "other"):
            created = stub(env).CreateMandate(request, metadata=metadata, timeout=10).mandate
            assert created.seat_id == "seat-01" and created.director_id == director  # each tenant its own seats
        else:
            assert refused(stub(env).CreateMandate, request, metadata=metadata).code == DENIED
    ours = load(env, uid("dir"), start, end)
    for role, metadata in callers().items():
        request = pb.EndMandateRequest(mandate_id=ours.mandate_id, ended_on=d(date(year + 1, 1, 1)),
                                       reason=events_pb2.MANDATE_END_REASON_RESIGNATION)
        if role == "admin":
            continue
        expected = grpc.StatusCode.NOT_FOUND if role == "other" else DENIED
        assert refused(stub(env).EndMandate, request, metadata=metadata).code == expected
    ended = stub(env).EndMandate(pb.EndMandateRequest(mandate_id=ours.mandate_id, ended_on=d(date(year + 1, 1, 1)),
                                                      reason=events_pb2.MANDATE_END_REASON_DEATH),
                                 metadata=callers()["admin"], timeout=10).mandate
    assert ended.end_reason == events_pb2.MANDATE_END_REASON_DEATH
    public = stub(env).ListMandates(pb.ListMandatesRequest(director_id=ours.director_id),
                                    metadata=callers()["member"], timeout=10).mandates
    assert public[0].ended_on == d(date(year + 1, 1, 1)) and public[0].end_reason == 0  # why: not a member's
    roster = stub(env).GetRoster(pb.GetRosterRequest(on_date=d(date(year + 1, 1, 1))), metadata=callers()["admin"])
    assert "seat-03" in [v.seat_id for v in roster.vacancies]


def test_officers_are_recorded_by_an_admin_or_the_sitting_secretary_only(env, year, decisions) -> None:
    start, end = date(year, 5, 15), date(year + 4, 5, 15)
    secretary, chair = uid("dir"), uid("dir")
    load(env, secretary, start, end)
    load(env, chair, start, end)
    term_start = d(date(year, 6, 1))
    env.clock.set(env.clock().replace(year=year, month=6, day=2))
    stub(env).ElectOfficer(pb.ElectOfficerRequest(office=pb.OFFICE_SECRETARY, director_id=secretary,
                                                  start_date=term_start, decision_id=adopted(ELECT_OFFICER)),
                           metadata=callers()["admin"], timeout=10)
    for role, metadata in callers(secretary=secretary).items():
        request = pb.ElectOfficerRequest(office=pb.OFFICE_CHAIR, director_id=chair, start_date=term_start,
                                         decision_id=adopted(ELECT_OFFICER))
        if role == "secretary":
            continue
        if role in ("admin",):
            continue
        expected = grpc.StatusCode.NOT_FOUND if role == "other" else DENIED
        assert refused(stub(env).ElectOfficer, request, metadata=metadata).code == expected
    not_the_secretary = refused(stub(env).ElectOfficer, pb.ElectOfficerRequest(
        office=pb.OFFICE_CHAIR, director_id=chair, start_date=term_start, decision_id=adopted(ELECT_OFFICER)),
        metadata=callers(secretary=chair)["secretary"])
    assert (not_the_secretary.code, not_the_secretary.reason) == (DENIED, "NOT_THE_SECRETARY")
    term = stub(env).ElectOfficer(pb.ElectOfficerRequest(office=pb.OFFICE_CHAIR, director_id=chair,
                                                         start_date=term_start, decision_id=adopted(ELECT_OFFICER)),
                                  metadata=callers(secretary=secretary)["secretary"], timeout=10).term
    assert term.director_id == chair
    roster = stub(env).GetRoster(pb.GetRosterRequest(on_date=term_start), metadata=callers()["member"], timeout=10)
    assert sorted((o.office, o.director_id) for o in roster.officers) == sorted(
        [(pb.OFFICE_CHAIR, chair), (pb.OFFICE_SECRETARY, secretary)])
    listed = stub(env).ListOfficers(pb.ListOfficersRequest(on_date=term_start), metadata=callers()["director"])
    assert {t.director_id for t in listed.terms} >= {chair, secretary}


def test_management_is_appointed_by_an_admin_from_an_adopted_decision(env, year, decisions) -> None:
    manager = uid("mgr")
    for role, metadata in callers().items():
        request = pb.AppointManagementRequest(manager_id=manager, start_date=d(date(year, 9, 1)),
                                              decision_id=adopted(APPOINT_MANAGEMENT))
        if role == "admin":
            answer = stub(env).AppointManagement(request, metadata=metadata, timeout=10).appointment
            assert answer.title == "managing director"
        else:
            expected = grpc.StatusCode.NOT_FOUND if role == "other" else DENIED
            assert refused(stub(env).AppointManagement, request, metadata=metadata).code == expected
    listed = stub(env).ListManagement(pb.ListManagementRequest(on_date=d(date(year, 9, 1))),
                                      metadata=callers()["member"], timeout=10)
    assert [a.manager_id for a in listed.appointments if a.manager_id == manager] == [manager]
    wrong_kind = refused(stub(env).AppointManagement, pb.AppointManagementRequest(
        manager_id=manager, start_date=d(date(year, 9, 1)), decision_id=adopted(ELECT_OFFICER)),
        metadata=callers()["admin"])
    assert (wrong_kind.code, wrong_kind.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "DECISION_KIND_MISMATCH")


@pytest.mark.parametrize(("change", "code", "field", "reason"), [
    ({"seat_id": "seat-01"}, "FAILED_PRECONDITION", "seat_id", "OVERLAPPING_MANDATE_ON_SEAT"),
    ({"seat_id": "seat-77"}, "INVALID_ARGUMENT", "seat_id", "UNKNOWN_SEAT"),
    ({"swap": True}, "INVALID_ARGUMENT", "end_date", "END_BEFORE_START"),
    ({"no_start": True}, "INVALID_ARGUMENT", "start_date", "START_DATE_REQUIRED"),
    ({"bad_date": True}, "INVALID_ARGUMENT", "end_date", "INVALID_DATE"),
    ({"director_id": " "}, "INVALID_ARGUMENT", "director_id", "DIRECTOR_REQUIRED"),
    ({"request_id": "not-a-uuid"}, "INVALID_ARGUMENT", "request_id", "INVALID_ARGUMENT"),
])
def test_a_bad_mandate_is_refused_naming_field_and_rule_with_nothing_written(env, year, change, code, field,
                                                                             reason) -> None:
    start, end = date(year, 5, 15), date(year + 4, 5, 15)
    load(env, uid("dir"), start, end, seat="seat-01")
    before = _count(env, "SELECT count(*) FROM board_mandates")
    outbox = _count(env, "SELECT count(*) FROM outbox")
    request = pb.CreateMandateRequest(director_id=change.get("director_id", uid("dir")),
                                      seat_id=change.get("seat_id", ""), start_date=d(date(year + 1, 5, 15)),
                                      end_date=d(date(year + 5, 5, 15)), request_id=change.get("request_id", ""))
    if change.get("swap"):
        request.start_date.CopyFrom(d(date(year + 5, 5, 15)))
        request.end_date.CopyFrom(d(date(year + 1, 5, 15)))
    if change.get("no_start"):
        request.ClearField("start_date")
    if change.get("bad_date"):
        request.end_date.month = 13
    found = refused(stub(env).CreateMandate, request, metadata=callers()["admin"])
    assert (found.code.name, found.reason) == (code, reason)
    assert field in found.field_violations
    assert _count(env, "SELECT count(*) FROM board_mandates") == before
    assert _count(env, "SELECT count(*) FROM outbox") == outbox


def test_a_bad_early_end_or_page_token_is_refused_by_field(env, year) -> None:
    m = load(env, uid("dir"), date(year, 5, 15), date(year + 4, 5, 15))
    no_reason = refused(stub(env).EndMandate, pb.EndMandateRequest(mandate_id=m.mandate_id,
                                                                   ended_on=d(date(year, 7, 1))),
                        metadata=callers()["admin"])
    assert (no_reason.code.name, no_reason.reason) == ("INVALID_ARGUMENT", "INVALID_END_REASON")
    outside = refused(stub(env).EndMandate, pb.EndMandateRequest(
        mandate_id=m.mandate_id, ended_on=d(date(year + 9, 1, 1)), reason=events_pb2.MANDATE_END_REASON_EXCLUSION),
        metadata=callers()["admin"])
    assert (outside.reason, "ended_on" in outside.field_violations) == ("ENDED_OUTSIDE_TERM", True)
    token = refused(stub(env).ListMandates, pb.ListMandatesRequest(page_token="garbage"), metadata=callers()["admin"])
    assert token.reason == "INVALID_PAGE_TOKEN"
    office = refused(stub(env).ElectOfficer, pb.ElectOfficerRequest(director_id="x", start_date=d(date(year, 6, 1)),
                                                                    decision_id="dec"), metadata=callers()["admin"])
    assert (office.code.name, office.reason) == ("INVALID_ARGUMENT", "UNKNOWN_OFFICE")


def test_a_retried_create_or_end_answers_the_first_answer_and_writes_once(env, year) -> None:
    director = uid("dir")
    request = pb.CreateMandateRequest(request_id=str(uuid.uuid4()), director_id=director,
                                      start_date=d(date(year, 5, 15)), end_date=d(date(year + 4, 5, 15)))
    first = stub(env).CreateMandate(request, metadata=callers()["admin"], timeout=10)
    again = stub(env).CreateMandate(request, metadata=callers()["admin"], timeout=10)
    assert again == first
    assert _count(env, "SELECT count(*) FROM board_mandates WHERE director_id = :d", d=director) == 1
    assert _count(env, "SELECT count(*) FROM outbox WHERE routing_key = 'mandate.started' AND body LIKE :m",
                  m=f"%{first.mandate.mandate_id}%") == 1
    request.seat_id = "seat-05"  # the same key with another request
    reused = refused(stub(env).CreateMandate, request, metadata=callers()["admin"])
    assert reused.code == grpc.StatusCode.FAILED_PRECONDITION
    end = pb.EndMandateRequest(request_id=str(uuid.uuid4()), mandate_id=first.mandate.mandate_id,
                               ended_on=d(date(year + 1, 1, 1)), reason=events_pb2.MANDATE_END_REASON_RESIGNATION)
    assert stub(env).EndMandate(end, metadata=callers()["admin"]) == stub(env).EndMandate(
        end, metadata=callers()["admin"])
    assert _count(env, "SELECT count(*) FROM outbox WHERE routing_key = 'mandate.ended' AND body LIKE :m",
                  m=f"%{first.mandate.mandate_id}%") == 1


def test_a_board_breaking_the_composition_rule_is_answered_and_flagged(env, year) -> None:
    staff = uid("dir")
    _standing(env, staff, "permanent_staff")
    answer = stub(env).CreateMandate(pb.CreateMandateRequest(director_id=staff, start_date=d(date(year, 5, 15)),
                                                             end_date=d(date(year + 4, 5, 15))),
                                     metadata=callers()["admin"], timeout=10)
    assert not answer.composition.ok
    assert [v.rule for v in answer.composition.violations] == ["USERS_NOT_MAJORITY"]
    roster = stub(env).GetRoster(pb.GetRosterRequest(on_date=d(date(year, 6, 1))), metadata=callers()["director"])
    assert not roster.composition.ok and roster.directors[0].category == pb.DIRECTOR_CATEGORY_PERMANENT_STAFF


@pytest.mark.parametrize("first_day, just_before, just_after", [
    ((5, 15), (5, 14, 21, 30), (5, 14, 22, 30)),   # summer: Brussels is UTC+2
    ((1, 1), (12, 31, 22, 30), (12, 31, 23, 30)),  # winter, and a new year: UTC+1
])
def test_today_is_the_cooperatives_day_so_a_mandate_starts_at_brussels_midnight_not_utc(
        env, year, decisions, first_day, just_before, just_after) -> None:
    start = date(year + 1, *first_day)
    secretary, chair = uid("dir"), uid("dir")
    for director in (secretary, chair):
        load(env, director, start, date(year + 5, *first_day))
    stub(env).ElectOfficer(pb.ElectOfficerRequest(office=pb.OFFICE_SECRETARY, director_id=secretary,
                                                  start_date=d(start), decision_id=adopted(ELECT_OFFICER)),
                           metadata=callers()["admin"], timeout=10)

    def at(month: int, day: int, hour: int, minute: int) -> None:
        eve = start.year - 1 if month == 12 and first_day == (1, 1) else start.year
        env.clock.set(datetime(eve, month, day, hour, minute, tzinfo=UTC))

    def elect_chair():
        return pb.ElectOfficerRequest(office=pb.OFFICE_CHAIR, director_id=chair, start_date=d(start),
                                      decision_id=adopted(ELECT_OFFICER))

    at(*just_before)  # 23:30 in Brussels, the eve: nobody sits yet, the secretary is not in office
    today = stub(env).GetRoster(pb.GetRosterRequest(), metadata=callers()["member"], timeout=10)
    assert not {secretary, chair} & {x.director_id for x in today.directors}
    early = refused(stub(env).ElectOfficer, elect_chair(), metadata=callers(secretary=secretary)["secretary"])
    assert (early.code, early.reason) == (DENIED, "NOT_THE_SECRETARY")

    at(*just_after)  # 00:30 in Brussels on the first day, still the eve in UTC
    today = stub(env).GetRoster(pb.GetRosterRequest(), metadata=callers()["member"], timeout=10)
    assert {secretary, chair} <= {x.director_id for x in today.directors}
    term = stub(env).ElectOfficer(elect_chair(), metadata=callers(secretary=secretary)["secretary"], timeout=10).term
    assert term.director_id == chair
