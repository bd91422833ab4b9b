"""RegisterMember takes an idempotency key (AIP-155 request_id; hardening issue, point 8): a portal
that retries a registration after a timeout gets the first answer back, not a second member or a
bare ALREADY_EXISTS for the e-mail its own first call stored."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import grpc

from coop.membership.v1 import membership_pb2 as pb


def _request(h, key: str, **overrides) -> pb.RegisterMemberRequest:
    return pb.RegisterMemberRequest(member=h.draft(**overrides), admit=True, request_id=key)


def test_a_retried_registration_gets_the_first_answer_and_registers_one_member(svc, h):
    key = str(uuid.uuid4())
    request = _request(h, key)
    first = svc.stub.RegisterMember(request, metadata=h.ADMIN)
    before = svc.counts()
    again = svc.stub.RegisterMember(request, metadata=h.ADMIN)
    assert again == first
    assert svc.counts() == before  # no member, history row or event more
    assert svc.outbox_types(first.member_id) == ["member.admitted", "member.status_changed"]


def test_concurrent_retries_of_one_registration_make_one_member(svc, h):
    request = _request(h, str(uuid.uuid4()))
    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: svc.stub.RegisterMember(request, metadata=h.ADMIN, timeout=30), range(10)))
    assert len({a.member_id for a in answers}) == 1
    assert len({a.member_number for a in answers}) == 1
    listed = svc.stub.ListMembers(pb.ListMembersRequest(filter=pb.MemberFilter(query=request.member.email)),
                                  metadata=h.ADMIN).members
    assert [m.member_id for m in listed] == [answers[0].member_id]


def test_one_key_for_two_different_registrations_is_failed_precondition_and_writes_nothing(svc, h):
    key = str(uuid.uuid4())
    svc.stub.RegisterMember(_request(h, key), metadata=h.ADMIN)
    before = svc.counts()
    code = h.code_of(svc.stub.RegisterMember, _request(h, key), metadata=h.ADMIN)
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert svc.counts() == before


def test_a_request_id_that_is_not_a_uuid_is_invalid_argument(svc, h):
    before = svc.counts()
    assert h.code_of(svc.stub.RegisterMember, _request(h, "retry-1"), metadata=h.ADMIN) == grpc.StatusCode.INVALID_ARGUMENT
    assert svc.counts() == before


def test_a_refused_registration_keeps_no_answer_so_its_retry_runs_again(svc, h):
    """The first call is refused (the e-mail belongs to someone else); once that person's data is
    erased, the same request with the same key registers the member."""
    holder = h.register(svc)
    request = _request(h, str(uuid.uuid4()), email=holder.email)
    assert h.code_of(svc.stub.RegisterMember, request, metadata=h.ADMIN) == grpc.StatusCode.ALREADY_EXISTS
    svc.stub.ChangeStatus(pb.ChangeStatusRequest(member_id=holder.member_id, status=pb.MEMBER_STATUS_RESIGNED,
                                                 reason="leaving"), metadata=h.ADMIN)
    svc.stub.ErasePersonalData(pb.EraseRequest(member_id=holder.member_id, reason="asked"), metadata=h.ADMIN)
    registered = svc.stub.RegisterMember(request, metadata=h.ADMIN)
    assert registered.email == holder.email and registered.member_id != holder.member_id


def test_the_same_key_used_by_another_caller_is_their_own_registration(svc, h):
    """Keys are per caller: two portals choosing the same UUID (or one replaying another's) do not
    receive each other's answers."""
    from coop_testkit import bearer

    key = str(uuid.uuid4())
    mine = svc.stub.RegisterMember(_request(h, key), metadata=h.ADMIN)
    theirs = svc.stub.RegisterMember(pb.RegisterMemberRequest(member=h.draft(), request_id=key),
                                     metadata=bearer("portal-2", "service"))
    assert theirs.member_id != mine.member_id
