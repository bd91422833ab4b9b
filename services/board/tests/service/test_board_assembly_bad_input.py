"""Bad input to the AssemblyService: a clear status and reason, the field at fault, and nothing
written; a full workshop is a waiting list, not an error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from board_assembly_helpers import TOKENS, AssemblyApi, assembly_api, member_token, new_id, text
from board_svc_helpers import START
from sqlalchemy import update

from coop.board.v1 import assembly_pb2 as pb
from coop.board.v1 import common_pb2
from coop_board.adapters.orm_roster import member_standing
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of

INVALID, FAILED = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND, EXISTS = grpc.StatusCode.NOT_FOUND, grpc.StatusCode.ALREADY_EXISTS


@pytest.fixture(scope="module")
def api() -> Iterator[AssemblyApi]:
    with assembly_api("coop_board_assembly_bad") as running:
        running.add_members(20)
        running.add_members(2, prefix="lapsed-", good=False)
        yield running


@pytest.fixture(autouse=True)
def _clock(api: AssemblyApi) -> None:
    api.clock.set(START)


def _refused(api: AssemblyApi, call: Any, request: Any, metadata: Any) -> tuple[grpc.StatusCode, str, str]:
    before = api.counts()
    with pytest.raises(grpc.RpcError) as exc:
        call(request, metadata=metadata)
    assert api.counts() == before, "a refused call writes nothing"
    details = details_of(exc.value)
    fields = list(details.field_violations) or [""]
    return exc.value.code(), details.reason, fields[0]


def _schedule(**kw: Any) -> pb.ScheduleAssemblyRequest:
    values: dict[str, Any] = dict(title=text("AG"), starts_at=to_timestamp(START + timedelta(days=40)),
                                  place="Namur", registration_deadline=to_timestamp(START + timedelta(days=30)),
                                  election_id="el-1")
    values.update(kw)
    return pb.ScheduleAssemblyRequest(**values)


@pytest.mark.parametrize(("request_", "expected"), [
    (_schedule(title=common_pb2.LocalizedText(fr="AG", en="GA")), (INVALID, "TEXT_LANGUAGE_MISSING", "title.nl")),
    (_schedule(starts_at=to_timestamp(START - timedelta(days=1))), (INVALID, "IN_THE_PAST", "starts_at")),
    (_schedule(registration_deadline=to_timestamp(START + timedelta(days=41))),
     (INVALID, "DEADLINE_AFTER_START", "registration_deadline")),
    (_schedule(registration_deadline=None), (INVALID, "FIELD_REQUIRED", "registration_deadline")),
    (_schedule(place="  "), (INVALID, "INVALID_PLACE", "place")),
    (_schedule(election_id=""), (INVALID, "INVALID_ID", "election_id")),
    (_schedule(documents=[pb.AssemblyDocument(title=text("Accounts"),
                                              reference=common_pb2.LocalizedText(fr="/fr", nl="/nl"))]),
     (INVALID, "TEXT_LANGUAGE_MISSING", "documents[0].reference.en")),
], ids=["title-without-nl", "in-the-past", "deadline-after-start", "no-deadline", "no-place", "no-election",
        "document-reference-without-en"])
def test_scheduling_refuses_bad_input(api: AssemblyApi, request_: Any, expected: tuple) -> None:
    assert _refused(api, api.stub.ScheduleAssembly, request_, TOKENS["secretary"]) == expected


def test_workshops_refuse_bad_capacity_language_time_and_a_convened_assembly(api: AssemblyApi) -> None:
    a = api.schedule()
    day = START + timedelta(days=40, hours=5)

    def add(**kw: Any) -> tuple:
        values: dict[str, Any] = dict(assembly_id=a.assembly_id, title=text("W"), capacity=5, language="fr",
                                      starts_at=to_timestamp(day), ends_at=to_timestamp(day + timedelta(hours=1)))
        values.update(kw)
        return _refused(api, api.stub.AddWorkshop, pb.AddWorkshopRequest(**values), TOKENS["secretary"])
    assert add(capacity=0) == (INVALID, "INVALID_CAPACITY", "capacity")
    assert add(language="de") == (INVALID, "UNKNOWN_LANGUAGE", "language")
    assert add(starts_at=to_timestamp(day + timedelta(days=1)), ends_at=to_timestamp(day + timedelta(days=1, hours=1))
               ) == (INVALID, "WORKSHOP_OUTSIDE_ASSEMBLY", "starts_at")
    assert add(ends_at=to_timestamp(day)) == (INVALID, "ENDS_BEFORE_START", "ends_at")
    assert add(assembly_id=new_id()) == (NOT_FOUND, "ASSEMBLY_NOT_FOUND", "assembly_id")
    api.stub.ConveneAssembly(pb.ConveneAssemblyRequest(assembly_id=a.assembly_id), metadata=TOKENS["secretary"])
    assert add() == (FAILED, "ASSEMBLY_ALREADY_CONVENED", "assembly_id")


def test_registration_refuses_bad_choices(api: AssemblyApi) -> None:
    a = api.schedule()
    ws = [api.workshop(a, hour=13 + n, title=f"W{n}").workshop_id for n in range(4)]
    elsewhere = api.workshop(api.schedule()).workshop_id

    def register(who: int | str = 3, **kw: Any) -> tuple:
        values: dict[str, Any] = dict(assembly_id=a.assembly_id, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE,
                                      interpretation_language="en")
        values.update(kw)
        return _refused(api, api.stub.RegisterForAssembly, pb.RegisterForAssemblyRequest(**values),
                        member_token(who))
    assert register(attendance=pb.ASSEMBLY_ATTENDANCE_UNSPECIFIED) == (INVALID, "INVALID_ATTENDANCE", "attendance")
    assert register(interpretation_language="de") == (INVALID, "UNKNOWN_LANGUAGE", "interpretation_language")
    assert register(workshop_ids=ws) == (INVALID, "TOO_MANY_WORKSHOPS", "workshop_ids")
    assert register(workshop_ids=[ws[0], ws[0]]) == (INVALID, "DUPLICATE_WORKSHOP", "workshop_ids")
    assert register(workshop_ids=[ws[0], elsewhere]) == (INVALID, "WORKSHOP_NOT_FOUND", "workshop_ids[1]")
    assert register(assembly_id="") == (INVALID, "INVALID_ID", "assembly_id")
    assert register("lapsed-1") == (FAILED, "NOT_IN_GOOD_STANDING", "")
    assert register("stranger") == (FAILED, "NOT_IN_GOOD_STANDING", "")
    api.register(a.assembly_id, 3)
    assert register(3) == (EXISTS, "ALREADY_REGISTERED", "assembly_id")
    api.clock.set(START + timedelta(days=38))  # after the deadline
    assert register(4) == (FAILED, "REGISTRATION_CLOSED", "assembly_id")


def test_a_member_losing_good_standing_may_no_longer_register(api: AssemblyApi) -> None:
    a = api.schedule()
    with api.engine.begin() as conn:
        conn.execute(update(member_standing).where(member_standing.c.member_id == "mem-9")
                     .values(in_good_standing=False))
    assert _refused(api, api.stub.RegisterForAssembly, pb.RegisterForAssemblyRequest(
        assembly_id=a.assembly_id, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE, interpretation_language="fr"),
        member_token(9))[:2] == (FAILED, "NOT_IN_GOOD_STANDING")


def test_a_full_workshop_is_a_waiting_list_not_an_error(api: AssemblyApi) -> None:
    a = api.schedule()
    w = api.workshop(a, capacity=1)
    api.register(a.assembly_id, 10, (w.workshop_id,))
    late = api.register(a.assembly_id, 11, (w.workshop_id,)).registration.workshops[0]
    assert (late.seated, late.waiting_position) == (False, 1)


def test_cancelling_twice_codes_and_tokens_are_refused_clearly(api: AssemblyApi) -> None:
    a = api.schedule()
    remote = api.register(a.assembly_id, 12, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE)
    rid = remote.registration.registration_id
    assert not remote.check_in_code and not remote.registration.has_check_in_code
    assert _refused(api, api.stub.ReissueAssemblyCheckInCode, pb.ReissueAssemblyCheckInCodeRequest(
        registration_id=rid), member_token(12)) == (FAILED, "NOT_IN_PERSON", "registration_id")
    api.stub.CancelAssemblyRegistration(pb.CancelAssemblyRegistrationRequest(registration_id=rid),
                                        metadata=member_token(12))
    assert _refused(api, api.stub.CancelAssemblyRegistration, pb.CancelAssemblyRegistrationRequest(
        registration_id=rid), member_token(12)) == (FAILED, "ALREADY_CANCELLED", "registration_id")
    assert _refused(api, api.stub.CancelAssemblyRegistration, pb.CancelAssemblyRegistrationRequest(
        registration_id="not-a-uuid"), member_token(12)) == (INVALID, "INVALID_ID", "registration_id")
    assert _refused(api, api.stub.CheckInAtAssembly, pb.CheckInAtAssemblyRequest(
        assembly_id=a.assembly_id, check_in_code="nope"), TOKENS["secretary"])[:2] == (INVALID, "INVALID_CHECK_IN_CODE")
    assert _refused(api, api.stub.CheckInAtAssembly, pb.CheckInAtAssemblyRequest(
        assembly_id=a.assembly_id, check_in_code="0000-0000-0000"), TOKENS["secretary"])[:2] == (
        NOT_FOUND, "CHECK_IN_CODE_UNKNOWN")
    assert _refused(api, api.stub.GetMyAssemblyRegistration, pb.GetMyAssemblyRegistrationRequest(
        assembly_id=a.assembly_id), member_token(12))[:2] == (NOT_FOUND, "NOT_REGISTERED")
    assert _refused(api, api.stub.ListAssemblies, pb.ListAssembliesRequest(page_token="garbage"),
                    TOKENS["member"])[:2] == (INVALID, "INVALID_PAGE_TOKEN")


def test_a_request_id_reused_for_another_request_is_refused(api: AssemblyApi) -> None:
    a = api.schedule()
    request_id = new_id()
    api.register(a.assembly_id, 13, request_id=request_id)
    again = api.register(a.assembly_id, 13, request_id=request_id)  # a retry: the first answer, without the code
    assert again.registration.member_id == "mem-13" and not again.check_in_code
    code, _, field = _refused(api, api.stub.RegisterForAssembly, pb.RegisterForAssemblyRequest(
        assembly_id=a.assembly_id, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE, interpretation_language="nl",
        request_id=request_id), member_token(13))
    assert (code, field) == (FAILED, "request_id")
