"""Every ObserverService RPC against every role (director, secretary, management, member, admin,
another tenant's admin): what each may do, and a refusal writes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import grpc
import pytest
from board_fakes_observers import SECRETARY_ID
from board_observers_helpers import ROLES, ROSTER, TOKENS, ObserversApi, observers_api
from board_svc_helpers import START
from google.protobuf.timestamp_pb2 import Timestamp

from coop.board.v1 import observers_pb2 as pb
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
SERVICE = pb.DESCRIPTOR.services_by_name["ObserverService"]


@pytest.fixture(scope="module")
def api(pg_url: str) -> Iterator[ObserversApi]:
    with observers_api(pg_url) as running:
        yield running


@pytest.fixture(autouse=True)
def _clock(api: ObserversApi) -> None:
    api.clock.set(START)


def _opened(api: ObserversApi) -> str:
    meeting_id = api.new_meeting()
    api.open(meeting_id)
    return meeting_id


def _registered(api: ObserversApi) -> tuple[str, pb.RegisterAsObserverResponse]:
    meeting_id = _opened(api)
    return meeting_id, api.register(meeting_id, 1)


def _open(api):
    return pb.OpenToObserversRequest(meeting_id=api.new_meeting(), seats=3, registration_deadline=_deadline())


def _register(api):
    return pb.RegisterAsObserverRequest(meeting_id=_opened(api))


def _cancel(api):
    return pb.CancelObserverRegistrationRequest(registration_id=_registered(api)[1].registration.registration_id)


def _list_mine(api):
    _registered(api)
    return pb.ListMyObserverRegistrationsRequest()


def _list(api):
    return pb.ListObserversRequest(meeting_id=_registered(api)[0])


def _check_in(api):
    meeting_id, answer = _registered(api)
    return pb.CheckInObserverRequest(meeting_id=meeting_id, check_in_code=answer.check_in_code)


def _reissue(api):
    return pb.ReissueCheckInCodeRequest(registration_id=_registered(api)[1].registration.registration_id)


def _agenda(api):
    return pb.GetObserverAgendaRequest(meeting_id=_registered(api)[0])


SECRETARIAL = {"secretary": OK, "admin": OK, "other": NOT_FOUND}
CASES: dict[str, tuple[Callable[[ObserversApi], Any], dict[str, grpc.StatusCode]]] = {
    "OpenToObservers": (_open, SECRETARIAL),
    "RegisterAsObserver": (_register, {"member": OK}),
    "CancelObserverRegistration": (_cancel, {"member": OK, "secretary": OK, "admin": OK, "other": NOT_FOUND}),
    "ListMyObserverRegistrations": (_list_mine, {"member": OK}),
    "ListObservers": (_list, SECRETARIAL),
    "CheckInObserver": (_check_in, SECRETARIAL),
    "ReissueCheckInCode": (_reissue, {"member": OK}),
    "GetObserverAgenda": (_agenda, {"member": OK, "director": OK, "secretary": OK, "management": OK, "admin": OK,
                                    "other": NOT_FOUND}),
}


def test_every_rpc_of_the_service_is_covered() -> None:
    assert sorted(CASES) == sorted(m.name for m in SERVICE.methods)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_every_rpc_against_every_role(api: ObserversApi, method: str, role: str) -> None:
    prepare, allowed = CASES[method]
    request = prepare(api)
    expected = allowed.get(role, DENIED)
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


def test_a_secretary_role_without_the_office_is_refused_with_its_reason(api: ObserversApi) -> None:
    meeting_id = api.new_meeting()
    not_in_office = bearer("dir-2", "secretary", "director")
    with pytest.raises(grpc.RpcError) as exc:
        api.stub.OpenToObservers(pb.OpenToObserversRequest(meeting_id=meeting_id, seats=2,
                                                           registration_deadline=_deadline()), metadata=not_in_office)
    assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_THE_SECRETARY"
    assert ROSTER.officer_on("coop", "secretary", START.date()) == SECRETARY_ID


def test_another_tenants_member_finds_no_meeting_and_no_registration(api: ObserversApi) -> None:
    meeting_id, answer = _registered(api)
    theirs = bearer("mem-1", "member", tenant="other")
    before = api.counts()
    for call, request in ((api.stub.RegisterAsObserver, pb.RegisterAsObserverRequest(meeting_id=meeting_id)),
                          (api.stub.CancelObserverRegistration, pb.CancelObserverRegistrationRequest(
                              registration_id=answer.registration.registration_id)),
                          (api.stub.ReissueCheckInCode, pb.ReissueCheckInCodeRequest(
                              registration_id=answer.registration.registration_id))):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=theirs)
        assert exc.value.code() == NOT_FOUND
    assert api.stub.ListMyObserverRegistrations(pb.ListMyObserverRegistrationsRequest(),
                                                metadata=theirs).registrations == []
    assert api.counts() == before


def test_a_member_sees_only_their_own_registrations_and_cannot_touch_anothers(api: ObserversApi) -> None:
    meeting_id, mine = _registered(api)
    theirs = api.register(meeting_id, 2)
    listed = api.stub.ListMyObserverRegistrations(pb.ListMyObserverRegistrationsRequest(page_size=1000),
                                                  metadata=TOKENS["member"]).registrations
    ids = {r.registration_id for r in listed}
    assert mine.registration.registration_id in ids and theirs.registration.registration_id not in ids
    assert {r.member_id for r in listed} == {"mem-1"}
    before = api.counts()
    for call, request in ((api.stub.CancelObserverRegistration, pb.CancelObserverRegistrationRequest(
                              registration_id=theirs.registration.registration_id)),
                          (api.stub.ReissueCheckInCode, pb.ReissueCheckInCodeRequest(
                              registration_id=theirs.registration.registration_id))):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=TOKENS["member"])
        assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_YOUR_REGISTRATION"
    assert api.counts() == before


def test_a_member_not_registered_may_not_read_the_observer_agenda(api: ObserversApi) -> None:
    meeting_id = _opened(api)
    with pytest.raises(grpc.RpcError) as exc:
        api.stub.GetObserverAgenda(pb.GetObserverAgendaRequest(meeting_id=meeting_id), metadata=TOKENS["member"])
    assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_AN_OBSERVER"


def _deadline() -> Timestamp:
    return to_timestamp(START + timedelta(days=7))
