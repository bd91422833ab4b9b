"""Who may call what (DESIGN D6): bearer JWTs checked on every RPC, members limited to their own record."""

from __future__ import annotations

import grpc
import pytest

from coop.membership.v1 import membership_pb2 as pb
from coop_testkit import bad_tokens, bearer

METHOD_NAMES = [m.name for m in pb.DESCRIPTOR.services_by_name["MembershipService"].methods]
DENIED = grpc.StatusCode.PERMISSION_DENIED


def _empty_request(name):
    method = pb.DESCRIPTOR.services_by_name["MembershipService"].methods_by_name[name]
    return getattr(pb, method.input_type.name)()


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_every_rpc_without_a_token_is_unauthenticated_and_writes_nothing(svc, h, method):
    before = svc.counts()
    assert h.code_of(h.call, svc, method, _empty_request(method), None) == grpc.StatusCode.UNAUTHENTICATED
    assert svc.counts() == before


@pytest.mark.parametrize("kind", sorted(bad_tokens()))
def test_an_expired_forged_malformed_or_incomplete_token_is_unauthenticated(svc, h, kind):
    metadata = bad_tokens()[kind]
    before = svc.counts()
    for method, request in [("ListMembers", pb.ListMembersRequest()),
                            ("RegisterMember", pb.RegisterMemberRequest(member=h.draft(), admit=True))]:
        assert h.code_of(h.call, svc, method, request, metadata) == grpc.StatusCode.UNAUTHENTICATED
    assert svc.counts() == before


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_another_tenants_admin_is_refused_on_every_rpc_and_nothing_is_written(svc, h, method):
    """Membership serves the cooperative (tenant "coop") only: a partner cooperative's valid admin
    token used to be the cooperative's admin here."""
    before = svc.counts()
    partner_admin = bearer("partner-admin", "admin", "partner", tenant="partner-a")
    assert h.code_of(h.call, svc, method, _empty_request(method), partner_admin) == DENIED
    assert svc.counts() == before


@pytest.fixture
def two_members(svc, h):
    me, other = h.register(svc), h.register(svc)
    return me, other, bearer(me.member_id, "member")


def test_member_reads_own_record_by_id_and_number_history_shares_and_export(svc, h, two_members):
    me, _, token = two_members
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=me.member_id), metadata=token).member_id == me.member_id
    assert svc.stub.GetMember(pb.GetMemberRequest(member_number=me.member_number), metadata=token).email == me.email
    assert svc.stub.GetMemberHistory(pb.GetMemberRequest(member_id=me.member_id), metadata=token).changes
    svc.stub.ListShares(pb.ListSharesRequest(member_id=me.member_id), metadata=token)
    assert me.email in svc.stub.ExportMemberData(pb.GetMemberRequest(member_id=me.member_id), metadata=token).json


def test_member_updates_own_contact_details_but_not_own_category(svc, h, two_members):
    me, _, token = two_members
    updated = svc.stub.UpdateMember(pb.UpdateMemberRequest(
        member_id=me.member_id, member=pb.MemberDraft(phone="+32 478 00 11 22"), update_paths=["phone"]),
        metadata=token)
    assert updated.phone == "+32 478 00 11 22"
    before = svc.counts()
    assert h.code_of(svc.stub.UpdateMember, pb.UpdateMemberRequest(
        member_id=me.member_id, member=pb.MemberDraft(category=pb.MEMBER_CATEGORY_PERMANENT_STAFF),
        update_paths=["category"]), metadata=token) == DENIED
    assert svc.counts() == before


def test_member_may_resign_but_not_reactivate_or_suspend_themselves(svc, h, two_members):
    me, _, token = two_members
    before = svc.counts()
    assert h.code_of(svc.stub.ChangeStatus, pb.ChangeStatusRequest(
        member_id=me.member_id, status=pb.MEMBER_STATUS_SUSPENDED, reason="x"), metadata=token) == DENIED
    assert svc.counts() == before
    resigned = svc.stub.ChangeStatus(pb.ChangeStatusRequest(
        member_id=me.member_id, status=pb.MEMBER_STATUS_RESIGNED, reason="moving"), metadata=token)
    assert resigned.status == pb.MEMBER_STATUS_RESIGNED
    assert h.code_of(svc.stub.ChangeStatus, pb.ChangeStatusRequest(
        member_id=me.member_id, status=pb.MEMBER_STATUS_ACTIVE, reason="back"), metadata=token) == DENIED


def test_member_touching_another_members_record_is_permission_denied_and_nothing_changes(svc, h, two_members):
    me, other, token = two_members
    theirs = pb.GetMemberRequest(member_id=other.member_id)
    calls = [
        ("GetMember", theirs),
        ("GetMember", pb.GetMemberRequest(member_number=other.member_number)),
        ("GetMemberHistory", theirs),
        ("ExportMemberData", theirs),
        ("ExportMemberData", pb.GetMemberRequest(member_number=other.member_number)),
        ("UpdateMember", pb.UpdateMemberRequest(member_id=other.member_id,
                                                member=pb.MemberDraft(phone="+32 2 000 00 00"),
                                                update_paths=["phone"])),
        ("ChangeStatus", pb.ChangeStatusRequest(member_id=other.member_id, status=pb.MEMBER_STATUS_RESIGNED)),
        ("ListShares", pb.ListSharesRequest(member_id=other.member_id)),
        ("SubscribeShare", pb.SubscribeShareRequest(member_id=other.member_id, year=2026)),
    ]
    before = svc.counts()
    for method, request in calls:
        assert h.code_of(h.call, svc, method, request, token) == DENIED, method
    assert svc.counts() == before
    assert svc.stub.GetMember(theirs, metadata=h.ADMIN) == svc.stub.GetMember(theirs, metadata=h.ADMIN)
    assert svc.stub.GetMember(theirs, metadata=h.ADMIN).phone == other.phone


def test_member_cannot_use_admin_only_or_collective_rpcs(svc, h, two_members):
    me, _, token = two_members
    calls = [
        ("ListMembers", pb.ListMembersRequest()),
        ("CountMembers", pb.CountMembersRequest()),
        ("RegisterMember", pb.RegisterMemberRequest(member=h.draft(), admit=True)),
        ("RegisterMember", pb.RegisterMemberRequest(member=h.draft(), admit=False)),
        ("SetShareYear", pb.SetShareYearRequest(year=2026, amount_cents=1)),
        ("RecordSharePayment", pb.RecordSharePaymentRequest(member_id=me.member_id, year=2026, amount_cents=3000,
                                                            payment_reference="self-paid")),
        ("RefundShares", pb.RefundSharesRequest(member_id=me.member_id, reason="x")),
        ("ErasePersonalData", pb.EraseRequest(member_id=me.member_id, reason="x")),
        ("ImportMembers", pb.ImportMembersChunk(rows=[pb.ImportRow(line=1, member=h.draft())])),
    ]
    before = svc.counts()
    for method, request in calls:
        assert h.code_of(h.call, svc, method, request, token) == DENIED, method
    assert svc.counts() == before


def test_a_token_naming_a_member_without_the_member_role_gets_nothing(svc, h, two_members):
    me, _, _ = two_members
    partner = bearer(me.member_id, "partner")
    assert h.code_of(svc.stub.GetMember, pb.GetMemberRequest(member_id=me.member_id), metadata=partner) == DENIED


def test_service_role_registers_applicants_but_cannot_admit(svc, h):
    service = bearer("billing", "service")
    m = svc.stub.RegisterMember(pb.RegisterMemberRequest(member=h.draft()), metadata=service)
    assert m.status == pb.MEMBER_STATUS_APPLICANT
    before = svc.counts()
    assert h.code_of(svc.stub.RegisterMember, pb.RegisterMemberRequest(member=h.draft(), admit=True),
                     metadata=service) == DENIED
    assert svc.counts() == before


def test_board_role_reads_everyone_but_cannot_change_anything(svc, h):
    board = bearer("board-1", "board")
    m = h.register(svc)
    assert svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=board).member_id == m.member_id
    svc.stub.ListMembers(pb.ListMembersRequest(page_size=1), metadata=board)
    svc.stub.CountMembers(pb.CountMembersRequest(), metadata=board)
    assert h.code_of(svc.stub.UpdateMember, pb.UpdateMemberRequest(
        member_id=m.member_id, member=pb.MemberDraft(phone="+3220000000"), update_paths=["phone"]),
        metadata=board) == DENIED


def test_admin_may_call_everything_on_anyone(svc, h):
    m = h.register(svc, admit=False)
    assert svc.stub.ListMembers(pb.ListMembersRequest(page_size=5), metadata=h.ADMIN).members
    assert svc.stub.CountMembers(pb.CountMembersRequest(), metadata=h.ADMIN).total >= 1
    svc.stub.UpdateMember(pb.UpdateMemberRequest(
        member_id=m.member_id, member=pb.MemberDraft(category=pb.MEMBER_CATEGORY_PERMANENT_STAFF),
        update_paths=["category"]), metadata=h.ADMIN)
    active = svc.stub.ChangeStatus(pb.ChangeStatusRequest(member_id=m.member_id, status=pb.MEMBER_STATUS_ACTIVE),
                                   metadata=h.ADMIN)
    assert active.category == pb.MEMBER_CATEGORY_PERMANENT_STAFF and active.status == pb.MEMBER_STATUS_ACTIVE
    svc.stub.ExportMemberData(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN)
