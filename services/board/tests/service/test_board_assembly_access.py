"""Every AssemblyService RPC against every role (director, secretary, management, member, admin,
another tenant's admin, no token): what each may do, and a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from board_assembly_helpers import ROLES, TOKENS, AssemblyApi, assembly_api, member_token, text
from board_svc_helpers import START

from coop.board.v1 import assembly_pb2 as pb
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
SERVICE = pb.DESCRIPTOR.services_by_name["AssemblyService"]


@pytest.fixture(scope="module")
def api() -> Iterator[AssemblyApi]:
    with assembly_api("coop_board_assembly_access") as running:
        running.add_members(5)
        yield running


@pytest.fixture(autouse=True)
def _clock(api: AssemblyApi) -> None:
    api.clock.set(START)


def _workshop(api: AssemblyApi) -> tuple[pb.Assembly, pb.Workshop]:
    a = api.schedule()
    return a, api.workshop(a)


def _registered(api: AssemblyApi) -> tuple[pb.Assembly, pb.Workshop, pb.RegisterForAssemblyResponse]:
    a, w = _workshop(api)
    return a, w, api.register(a.assembly_id, 1, (w.workshop_id,))


def _schedule(api):
    return pb.ScheduleAssemblyRequest(title=text("AG"), starts_at=to_timestamp(START + timedelta(days=40)),
                                      place="Liège", registration_deadline=to_timestamp(START + timedelta(days=30)),
                                      election_id="el-1")


def _get(api):
    return pb.GetAssemblyRequest(assembly_id=api.schedule().assembly_id)


def _list(api):
    api.schedule()
    return pb.ListAssembliesRequest()


def _add_workshop(api):
    a = api.schedule()
    day = START + timedelta(days=40, hours=5)
    return pb.AddWorkshopRequest(assembly_id=a.assembly_id, title=text("W"), capacity=5, language="en",
                                 starts_at=to_timestamp(day), ends_at=to_timestamp(day + timedelta(hours=1)))


def _list_workshops(api):
    return pb.ListWorkshopsRequest(assembly_id=_workshop(api)[0].assembly_id)


def _convene(api):
    return pb.ConveneAssemblyRequest(assembly_id=api.schedule().assembly_id)


def _register(api):
    a, w = _workshop(api)
    return pb.RegisterForAssemblyRequest(assembly_id=a.assembly_id, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE,
                                         interpretation_language="nl", workshop_ids=[w.workshop_id])


def _cancel(api):
    return pb.CancelAssemblyRegistrationRequest(registration_id=_registered(api)[2].registration.registration_id)


def _mine(api):
    return pb.GetMyAssemblyRegistrationRequest(assembly_id=_registered(api)[0].assembly_id)


def _attendees(api):
    a, w, _ = _registered(api)
    return pb.ListWorkshopRegistrationsRequest(assembly_id=a.assembly_id, workshop_id=w.workshop_id)


def _check_in(api):
    a, _, answer = _registered(api)
    return pb.CheckInAtAssemblyRequest(assembly_id=a.assembly_id, check_in_code=answer.check_in_code)


def _reissue(api):
    return pb.ReissueAssemblyCheckInCodeRequest(registration_id=_registered(api)[2].registration.registration_id)


def _figures(api):
    return pb.GetAttendanceFiguresRequest(assembly_id=_registered(api)[0].assembly_id)


SECRETARIAL = {"secretary": OK, "admin": OK, "other": NOT_FOUND}
READERS = {"director": OK, "secretary": OK, "management": OK, "member": OK, "admin": OK, "other": NOT_FOUND}
CASES: dict[str, tuple[Callable[[AssemblyApi], Any], dict[str, grpc.StatusCode]]] = {
    "ScheduleAssembly": (_schedule, {"secretary": OK, "admin": OK, "other": OK}),  # in the caller's own tenant
    "GetAssembly": (_get, READERS),
    "ListAssemblies": (_list, {**READERS, "other": OK}),  # another tenant's list holds only its own
    "AddWorkshop": (_add_workshop, SECRETARIAL),
    "ListWorkshops": (_list_workshops, READERS),
    "ConveneAssembly": (_convene, SECRETARIAL),
    "RegisterForAssembly": (_register, {"member": OK}),
    "CancelAssemblyRegistration": (_cancel, {"member": OK, "secretary": OK, "admin": OK, "other": NOT_FOUND}),
    "GetMyAssemblyRegistration": (_mine, {"member": OK}),
    "ListWorkshopRegistrations": (_attendees, SECRETARIAL),
    "CheckInAtAssembly": (_check_in, SECRETARIAL),
    "ReissueAssemblyCheckInCode": (_reissue, {"member": OK}),
    "GetAttendanceFigures": (_figures, {"director": OK, "secretary": OK, "management": OK, "admin": OK,
                                        "other": NOT_FOUND}),
}


def test_every_rpc_of_the_service_is_covered() -> None:
    assert sorted(CASES) == sorted(m.name for m in SERVICE.methods)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_every_rpc_against_every_role(api: AssemblyApi, method: str, role: str) -> None:
    prepare, allowed = CASES[method]
    request = prepare(api)
    expected = allowed.get(role, grpc.StatusCode.UNAUTHENTICATED if role == "none" else DENIED)
    before = api.counts()
    try:
        getattr(api.stub, method)(request, metadata=TOKENS[role])
        code = OK
    except grpc.RpcError as exc:
        code = exc.code()
        assert details_of(exc).reason, "a refusal names its reason"
    assert code == expected, f"{method} as {role}"
    if code != OK:
        assert api.counts() == before, "a refused call writes nothing"


def test_a_secretary_role_without_the_office_is_refused_with_its_reason(api: AssemblyApi) -> None:
    not_in_office = bearer("dir-2", "secretary", "director")
    before = api.counts()
    with pytest.raises(grpc.RpcError) as exc:
        api.stub.ScheduleAssembly(_schedule(api), metadata=not_in_office)
    assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_THE_SECRETARY"
    assert api.counts() == before


def test_a_member_cannot_cancel_or_get_a_code_for_anothers_registration(api: AssemblyApi) -> None:
    a, w, mine = _registered(api)
    theirs = api.register(a.assembly_id, 2, (w.workshop_id,))
    before = api.counts()
    for call, request in ((api.stub.CancelAssemblyRegistration, pb.CancelAssemblyRegistrationRequest(
                              registration_id=theirs.registration.registration_id)),
                          (api.stub.ReissueAssemblyCheckInCode, pb.ReissueAssemblyCheckInCodeRequest(
                              registration_id=theirs.registration.registration_id))):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=member_token(1))
        assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_YOUR_REGISTRATION"
    assert api.counts() == before
    assert mine.registration.member_id == "mem-1"


def test_another_tenants_member_finds_no_assembly_and_no_registration(api: AssemblyApi) -> None:
    a, _, answer = _registered(api)
    theirs = bearer("mem-1", "member", tenant="other")
    before = api.counts()
    for call, request in ((api.stub.RegisterForAssembly, pb.RegisterForAssemblyRequest(
                              assembly_id=a.assembly_id, attendance=pb.ASSEMBLY_ATTENDANCE_REMOTE,
                              interpretation_language="fr")),
                          (api.stub.GetMyAssemblyRegistration, pb.GetMyAssemblyRegistrationRequest(
                              assembly_id=a.assembly_id)),
                          (api.stub.CancelAssemblyRegistration, pb.CancelAssemblyRegistrationRequest(
                              registration_id=answer.registration.registration_id))):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=theirs)
        assert exc.value.code() == NOT_FOUND
    assert api.counts() == before
