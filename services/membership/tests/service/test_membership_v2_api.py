"""coop.membership.v2 through grpcio on a real database: every RPC against every role, the
FieldMask and google.type.Date rules, and rich status details (field violations and a reason)
for bad input. v1 is served from the same servicer; its own tests stay in the other files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask
from google.type.date_pb2 import Date

from coop.membership.v1 import membership_pb2 as v1
from coop.membership.v2 import membership_pb2 as pb
from coop.membership.v2 import membership_pb2_grpc as pb_grpc
from coop_platform.rich_status import details_of
from coop_testkit import bearer, cooperative_today

THIS_YEAR = datetime.now(UTC).year
SERVICE = pb.DESCRIPTOR.services_by_name["MembershipService"]
OK, DENIED, UNAUTHENTICATED = "ok", grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED
ROLES = ("member_self", "other_member", "board", "admin", "other_tenant_admin", "no_token")


@pytest.fixture(scope="module")
def stub(svc) -> pb_grpc.MembershipServiceStub:
    return pb_grpc.MembershipServiceStub(svc.channel)


def _register(stub, h, **overrides) -> v1.Member:
    request = pb.RegisterMemberRequest(member=h.draft(**overrides), admit=True)
    return stub.RegisterMember(request, metadata=h.ADMIN).member


def _resigned(stub, h, member: v1.Member) -> None:
    stub.ChangeStatus(pb.ChangeStatusRequest(member_id=member.member_id, status=v1.MEMBER_STATUS_RESIGNED,
                                             reason="leaving"), metadata=h.ADMIN)


def _paid_and_resigned(stub, h, member: v1.Member) -> None:
    stub.RecordSharePayment(pb.RecordSharePaymentRequest(member_id=member.member_id, year=THIS_YEAR,
                                                         amount_cents=3000, payment_reference=h.unique("INV")),
                            metadata=h.ADMIN)
    _resigned(stub, h, member)


def _by_id(message: Any) -> Callable[[v1.Member, Any], Any]:
    return lambda m, h: message(member_id=m.member_id)


#: RPC -> (prepare the target member, the request about it, the roles allowed besides admin)
CASES: dict[str, tuple[Callable | None, Callable, set[str]]] = {
    "RegisterMember": (None, lambda m, h: pb.RegisterMemberRequest(member=h.draft()), set()),
    "GetMember": (None, _by_id(pb.GetMemberRequest), {"member_self", "board"}),
    "UpdateMember": (None, lambda m, h: pb.UpdateMemberRequest(
        member_id=m.member_id, member=v1.MemberDraft(phone="+32 2 555 10 10"),
        update_mask=FieldMask(paths=["phone"])), {"member_self"}),
    "ChangeStatus": (None, lambda m, h: pb.ChangeStatusRequest(
        member_id=m.member_id, status=v1.MEMBER_STATUS_RESIGNED, reason="moving"), {"member_self"}),
    "GetMemberHistory": (None, _by_id(pb.GetMemberHistoryRequest), {"member_self", "board"}),
    "ListMembers": (None, lambda m, h: pb.ListMembersRequest(page_size=2), {"board"}),
    "CountMembers": (None, lambda m, h: pb.CountMembersRequest(), {"board"}),
    "SetShareYear": (None, lambda m, h: pb.SetShareYearRequest(year=THIS_YEAR + 1, amount_cents=3000,
                                                               grace_days=90), set()),
    "SubscribeShare": (None, lambda m, h: pb.SubscribeShareRequest(member_id=m.member_id, year=THIS_YEAR),
                       {"member_self"}),
    "RecordSharePayment": (None, lambda m, h: pb.RecordSharePaymentRequest(
        member_id=m.member_id, year=THIS_YEAR, amount_cents=3000, payment_reference=h.unique("INV")), set()),
    "RefundShares": (_paid_and_resigned, lambda m, h: pb.RefundSharesRequest(member_id=m.member_id,
                                                                             reason="resigned"), set()),
    "ListShares": (None, _by_id(pb.ListSharesRequest), {"member_self", "board"}),
    "ExportMemberData": (None, _by_id(pb.ExportMemberDataRequest), {"member_self"}),
    "ErasePersonalData": (_resigned, lambda m, h: pb.ErasePersonalDataRequest(member_id=m.member_id,
                                                                              reason="asked"), set()),
    "ImportMembers": (None, lambda m, h: pb.ImportMembersRequest(
        rows=[v1.ImportRow(line=2, member=h.draft(), status=v1.MEMBER_STATUS_ACTIVE)]), set()),
}


def _metadata(role: str, target: v1.Member, other: v1.Member) -> Any:
    return {
        "member_self": bearer(target.member_id, "member"),
        "other_member": bearer(other.member_id, "member"),
        "board": bearer("board-1", "board"),
        "admin": bearer("admin-1", "admin"),
        "other_tenant_admin": bearer("partner-admin", "admin", "partner", tenant="partner-a"),
        "no_token": None,
    }[role]


def _expected(role: str, allowed: set[str]) -> Any:
    if role == "no_token":
        return UNAUTHENTICATED
    return OK if role == "admin" or role in allowed else DENIED


def test_every_v2_rpc_has_a_case_for_every_role():
    assert set(CASES) == {m.name for m in SERVICE.methods}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_every_v2_rpc_answers_each_role_as_its_access_rule_says_and_a_refusal_writes_nothing(
        svc, h, stub, method, role):
    prepare, make_request, allowed = CASES[method]
    target, other = _register(stub, h), _register(stub, h)
    if prepare:
        prepare(stub, h, target)
    request = make_request(target, h)
    streaming = SERVICE.methods_by_name[method].client_streaming
    before = svc.counts()
    expected = _expected(role, allowed)
    try:
        getattr(stub, method)(iter([request]) if streaming else request,
                              metadata=_metadata(role, target, other), timeout=30)
        outcome = OK
    except grpc.RpcError as err:
        outcome = err.code()
    assert outcome == expected, f"{method} as {role}"
    if expected != OK:
        assert svc.counts() == before


def test_v2_responses_wrap_the_same_resource_v1_answers(svc, h, stub):
    member = _register(stub, h)
    v1_member = svc.stub.GetMember(v1.GetMemberRequest(member_id=member.member_id), metadata=h.ADMIN)
    assert stub.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=h.ADMIN).member == v1_member
    page = stub.ListMembers(pb.ListMembersRequest(filter=v1.MemberFilter(query=member.email)), metadata=h.ADMIN)
    assert [m.member_id for m in page.members] == [member.member_id] and not page.next_page_token


# -- FieldMask ---------------------------------------------------------------------------------

def test_update_mask_changes_only_the_named_fields(svc, h, stub):
    member = _register(stub, h)
    changes = h.draft(given_name="Grace", phone="+32 2 555 20 20", country_of_residence="NL")
    updated = stub.UpdateMember(pb.UpdateMemberRequest(member_id=member.member_id, member=changes,
                                                       update_mask=FieldMask(paths=["phone", "given_name"])),
                                metadata=h.ADMIN).member
    assert (updated.given_name, updated.phone) == ("Grace", "+32 2 555 20 20")
    assert (updated.country_of_residence, updated.email) == ("BE", member.email)  # not named: unchanged


def test_update_mask_wins_over_v1_update_paths(svc, h, stub):
    member = _register(stub, h)
    updated = stub.UpdateMember(pb.UpdateMemberRequest(
        member_id=member.member_id, member=v1.MemberDraft(phone="+32 2 555 30 30", given_name="Other"),
        update_paths=["given_name"], update_mask=FieldMask(paths=["phone"])), metadata=h.ADMIN).member
    assert (updated.phone, updated.given_name) == ("+32 2 555 30 30", member.given_name)


@pytest.mark.parametrize(("mask", "reason"), [([], "EMPTY_UPDATE_MASK"), (["status"], "FIELD_NOT_UPDATABLE"),
                                              (["phone", "member_no"], "FIELD_NOT_UPDATABLE"),
                                              (["address.city"], "FIELD_NOT_UPDATABLE")])
def test_an_update_mask_naming_nothing_or_what_cannot_change_is_refused_on_update_mask(svc, h, stub, mask, reason):
    member = _register(stub, h)
    before = svc.counts()
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateMember(pb.UpdateMemberRequest(member_id=member.member_id, member=v1.MemberDraft(phone="+3225550000"),
                                                 update_mask=FieldMask(paths=mask)), metadata=h.ADMIN)
    found = details_of(err.value)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert found.reason == reason and set(found.field_violations) == {"update_mask"}
    assert svc.counts() == before


def test_a_member_naming_category_in_the_mask_is_denied(svc, h, stub):
    member = _register(stub, h)
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateMember(pb.UpdateMemberRequest(
            member_id=member.member_id, member=v1.MemberDraft(category=v1.MEMBER_CATEGORY_PERMANENT_STAFF),
            update_mask=FieldMask(paths=["category"])), metadata=bearer(member.member_id, "member"))
    assert err.value.code() == DENIED


def test_a_category_named_in_the_mask_must_be_given(svc, h, stub):
    member = _register(stub, h)
    with pytest.raises(grpc.RpcError) as err:
        stub.UpdateMember(pb.UpdateMemberRequest(member_id=member.member_id, member=v1.MemberDraft(),
                                                 update_mask=FieldMask(paths=["category"])), metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.reason, list(found.field_violations)) == ("FIELD_REQUIRED", ["member.category"])


# -- google.type.Date --------------------------------------------------------------------------

def test_a_joining_date_sent_as_a_date_is_answered_as_a_date_and_as_v1s_string(svc, h, stub):
    member = _register(stub, h, joined_on_date=Date(year=2019, month=4, day=1))
    assert member.joined_on_date == Date(year=2019, month=4, day=1) and member.joined_on == "2019-04-01"


def test_the_date_is_read_before_the_v1_string(svc, h, stub):
    member = _register(stub, h, joined_on="2010-01-01", joined_on_date=Date(year=2018, month=6, day=30))
    assert member.joined_on == "2018-06-30"


def test_a_v1_string_date_still_works_through_v2(svc, h, stub):
    member = _register(stub, h, joined_on="2017-09-01")
    assert member.joined_on_date == Date(year=2017, month=9, day=1)


def test_members_admitted_today_carry_todays_date(svc, h, stub):
    member = _register(stub, h)
    today = date.fromisoformat(member.joined_on)
    assert today == cooperative_today()
    assert member.joined_on_date == Date(year=today.year, month=today.month, day=today.day)


@pytest.mark.parametrize("bad", [Date(year=2021, month=2, day=30), Date(year=2021), Date(month=5, day=1),
                                 Date(year=2021, month=13, day=1)])
def test_a_date_that_is_not_a_calendar_day_is_refused_on_its_field(svc, h, stub, bad):
    before = svc.counts()
    with pytest.raises(grpc.RpcError) as err:
        _register(stub, h, joined_on_date=bad)
    found = details_of(err.value)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (found.reason, list(found.field_violations)) == ("INVALID_DATE", ["member.joined_on_date"])
    assert svc.counts() == before


def test_import_rows_take_dates_too(svc, h, stub):
    tag = h.unique("Dt")
    report = stub.ImportMembers(iter([pb.ImportMembersRequest(rows=[v1.ImportRow(
        line=2, member=h.draft(tag, joined_on_date=Date(year=2016, month=2, day=29)),
        status=v1.MEMBER_STATUS_ACTIVE)])]), metadata=h.ADMIN).report
    assert report.committed
    listed = stub.ListMembers(pb.ListMembersRequest(filter=v1.MemberFilter(query=tag)), metadata=h.ADMIN).members
    assert [m.joined_on for m in listed] == ["2016-02-29"]


# -- rich status -------------------------------------------------------------------------------

@pytest.mark.parametrize(("overrides", "field", "reason"), [
    (dict(email="not-an-email"), "member.email", "INVALID_EMAIL"),
    (dict(email=""), "member.email", "FIELD_REQUIRED"),
    (dict(country_of_residence="XX"), "member.country_of_residence", "INVALID_COUNTRY"),
    (dict(preferred_language="xx"), "member.preferred_language", "UNSUPPORTED_LANGUAGE"),
    (dict(given_name="A" * 101), "member.given_name", "FIELD_TOO_LONG"),
    (dict(address=v1.PostalAddress(country="QQ")), "member.address.country", "INVALID_COUNTRY"),
    (dict(category=v1.MEMBER_CATEGORY_UNSPECIFIED), "member.category", "FIELD_REQUIRED"),
    (dict(joined_on="yesterday"), "member.joined_on", "INVALID_DATE"),
])
def test_bad_member_fields_come_back_as_a_field_violation_and_a_reason(svc, h, stub, overrides, field, reason):
    with pytest.raises(grpc.RpcError) as err:
        _register(stub, h, **overrides)
    found = details_of(err.value)
    assert found.code == grpc.StatusCode.INVALID_ARGUMENT
    assert (found.reason, list(found.field_violations)) == (reason, [field])
    assert found.domain


def test_a_taken_email_is_already_exists_on_member_email(svc, h, stub):
    first = _register(stub, h)
    with pytest.raises(grpc.RpcError) as err:
        _register(stub, h, email=first.email)
    found = details_of(err.value)
    assert (found.code, found.reason, list(found.field_violations)) == (
        grpc.StatusCode.ALREADY_EXISTS, "EMAIL_TAKEN", ["member.email"])


def test_an_illegal_transition_carries_what_is_allowed(svc, h, stub):
    member = _register(stub, h)
    with pytest.raises(grpc.RpcError) as err:
        stub.ChangeStatus(pb.ChangeStatusRequest(member_id=member.member_id, status=v1.MEMBER_STATUS_APPLICANT),
                          metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.code, found.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ILLEGAL_TRANSITION")
    assert found.metadata["allowed"] == "excluded,resigned,suspended"


@pytest.mark.parametrize(("request_", "field", "reason"), [
    (pb.ListMembersRequest(page_size=1001), "page_size", "INVALID_PAGE_SIZE"),
    (pb.ListMembersRequest(page_token="nope"), "page_token", "INVALID_PAGE_TOKEN"),
    (pb.ListMembersRequest(filter=v1.MemberFilter(good_standing="maybe")), "filter.good_standing",
     "INVALID_GOOD_STANDING"),
    (pb.ListMembersRequest(filter=v1.MemberFilter(statuses=[42])), "filter.statuses", "UNKNOWN_STATUS"),
])
def test_bad_list_requests_name_their_field(svc, h, stub, request_, field, reason):
    with pytest.raises(grpc.RpcError) as err:
        stub.ListMembers(request_, metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.reason, list(found.field_violations)) == (reason, [field])


@pytest.mark.parametrize(("request_", "field", "reason"), [
    (pb.GetMemberRequest(member_id="not-a-uuid"), "member_id", "INVALID_MEMBER_ID"),
    (pb.GetMemberRequest(member_number="42"), "member_number", "INVALID_MEMBER_NUMBER"),
    (pb.GetMemberRequest(), "member_id", "FIELD_REQUIRED"),
])
def test_a_malformed_member_key_names_its_field(svc, h, stub, request_, field, reason):
    with pytest.raises(grpc.RpcError) as err:
        stub.GetMember(request_, metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.code, found.reason, list(found.field_violations)) == (
        grpc.StatusCode.INVALID_ARGUMENT, reason, [field])


def test_a_payment_of_the_wrong_amount_says_the_amount_expected(svc, h, stub):
    member = _register(stub, h)
    with pytest.raises(grpc.RpcError) as err:
        stub.RecordSharePayment(pb.RecordSharePaymentRequest(member_id=member.member_id, year=THIS_YEAR,
                                                             amount_cents=2500, payment_reference=h.unique("INV")),
                                metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.reason, found.metadata.get("expected_cents"), list(found.field_violations)) == (
        "AMOUNT_MISMATCH", "3000", ["amount_cents"])


# -- retries (request_id) ------------------------------------------------------------------------

def test_a_retried_status_change_gets_the_first_answer_and_moves_once(svc, h, stub):
    member = _register(stub, h)
    request = pb.ChangeStatusRequest(member_id=member.member_id, status=v1.MEMBER_STATUS_SUSPENDED, reason="late",
                                     request_id=str(uuid.uuid4()))
    first = stub.ChangeStatus(request, metadata=h.ADMIN)
    before = svc.counts()
    assert stub.ChangeStatus(request, metadata=h.ADMIN) == first
    assert svc.counts() == before
    other = pb.ChangeStatusRequest(member_id=member.member_id, status=v1.MEMBER_STATUS_ACTIVE, reason="paid",
                                   request_id=request.request_id)
    with pytest.raises(grpc.RpcError) as err:
        stub.ChangeStatus(other, metadata=h.ADMIN)
    found = details_of(err.value)
    assert (found.code, list(found.field_violations)) == (grpc.StatusCode.FAILED_PRECONDITION, ["request_id"])


def test_a_retried_refund_gets_the_first_refund_back(svc, h, stub):
    member = _register(stub, h)
    _paid_and_resigned(stub, h, member)
    request = pb.RefundSharesRequest(member_id=member.member_id, reason="resigned", request_id=str(uuid.uuid4()))
    first = stub.RefundShares(request, metadata=h.ADMIN)
    before = svc.counts()
    assert stub.RefundShares(request, metadata=h.ADMIN) == first and first.total_cents == 3000
    assert svc.counts() == before
    assert svc.outbox_types(member.member_id).count("share.refunded") == 1


def test_health_and_reflection_report_both_versions(svc):
    from grpc_health.v1 import health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    from coop_testkit import wait_until

    health = health_pb2_grpc.HealthStub(svc.channel)
    for name in ("coop.membership.v2.MembershipService", "coop.membership.v1.MembershipService"):
        wait_until(lambda name=name: health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
                   == health_pb2.HealthCheckResponse.SERVING, message=f"{name} SERVING")
    responses = reflection_pb2_grpc.ServerReflectionStub(svc.channel).ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {"coop.membership.v2.MembershipService", "coop.membership.v1.MembershipService"} <= names
