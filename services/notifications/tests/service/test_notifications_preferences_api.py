"""Preferences over gRPC: every category listed, opt out of all but legal notices; a member
changes only their own, an admin of the same cooperative anyone's, nobody else anything."""

from __future__ import annotations

import uuid

import grpc
import pytest
from notif_helpers import ADMIN, OTHER_ADMIN, OTHER_ROLES, member, seed_member

from coop.notifications.v1 import notifications_pb2 as pb
from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.service_layer.notify import notify
from coop_testkit import bearer

CATEGORIES = ["legal", "membership", "billing", "elections", "board", "participation", "assembly"]


def _stub(env) -> pb_grpc.PreferenceServiceStub:
    return env.stub(pb_grpc.PreferenceServiceStub)


def _mid() -> str:
    return f"m-{uuid.uuid4().hex[:10]}"


def test_a_new_member_receives_every_category(env) -> None:
    mid = _mid()
    got = _stub(env).GetPreferences(pb.GetPreferencesRequest(), metadata=member(mid), timeout=10)
    assert got.member_id == mid
    assert [(p.category, p.opted_out) for p in got.preferences] == [(c, False) for c in CATEGORIES]


def test_an_opt_out_is_kept_and_stops_that_categorys_notices(env) -> None:
    mid = _mid()
    stub = _stub(env)
    set_ = stub.SetPreference(pb.SetPreferenceRequest(category="elections", opted_out=True,
                                                      request_id=str(uuid.uuid4())), metadata=member(mid), timeout=10)
    assert set_.preference.opted_out and set_.preference.HasField("updated_at")
    got = {p.category: p.opted_out for p in stub.GetPreferences(pb.GetPreferencesRequest(), metadata=member(mid),
                                                                timeout=10).preferences}
    assert got["elections"] and not got["membership"]
    with env.uow_factory() as uow:
        notify(uow, NOTIFICATIONS["election_invitation"], tenant="coop", event_id=f"{mid}-e", members=[mid],
               context={}, now=env.clock())
        notify(uow, NOTIFICATIONS["assembly_convocation"], tenant="coop", event_id=f"{mid}-ga", members=[mid],
               context={}, now=env.clock())
        uow.commit()
        inbox = [d.notification for d in uow.ledger.inbox_page("coop", mid, 10, "", True)[0]]
    assert inbox == ["assembly_convocation"]  # legal notices reach them anyway


def test_legal_notices_cannot_be_opted_out_of_and_unknown_categories_are_refused(env) -> None:
    stub = _stub(env)
    for category, opted_out, code in (("legal", True, grpc.StatusCode.FAILED_PRECONDITION),
                                      ("spam", True, grpc.StatusCode.INVALID_ARGUMENT),
                                      ("digest", True, grpc.StatusCode.INVALID_ARGUMENT)):
        with pytest.raises(grpc.RpcError) as refused:
            stub.SetPreference(pb.SetPreferenceRequest(category=category, opted_out=opted_out),
                               metadata=member(_mid()), timeout=10)
        assert refused.value.code() == code
    assert stub.SetPreference(pb.SetPreferenceRequest(category="legal", opted_out=False), metadata=member(_mid()),
                              timeout=10).preference.category == "legal"


def _calls(stub, mid: str, metadata) -> dict:
    return {
        "GetPreferences": lambda: stub.GetPreferences(pb.GetPreferencesRequest(member_id=mid), metadata=metadata,
                                                      timeout=10),
        "SetPreference": lambda: stub.SetPreference(
            pb.SetPreferenceRequest(member_id=mid, category="board", opted_out=True), metadata=metadata, timeout=10),
    }


@pytest.mark.parametrize("method", ["GetPreferences", "SetPreference"])
def test_every_role_on_every_preference_call(env, method: str) -> None:
    mid = seed_member(env)
    stub = _stub(env)
    for metadata in (member(mid), ADMIN):
        _calls(stub, mid, metadata)[method]()
    for metadata in [member("someone-else"), *(bearer("x-1", role) for role in OTHER_ROLES)]:
        with pytest.raises(grpc.RpcError) as refused:
            _calls(stub, mid, metadata)[method]()
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # another cooperative's admin: the member does not exist there
    with pytest.raises(grpc.RpcError) as refused:
        _calls(stub, mid, OTHER_ADMIN)[method]()
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as anonymous:
        _calls(stub, mid, None)[method]()
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED


def test_an_admin_acting_for_an_unknown_member_gets_not_found(env) -> None:
    with pytest.raises(grpc.RpcError) as refused:
        _stub(env).GetPreferences(pb.GetPreferencesRequest(member_id="nobody"), metadata=ADMIN, timeout=10)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
