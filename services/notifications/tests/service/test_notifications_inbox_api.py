"""The in-app inbox over gRPC: cursor pages newest first, unread count, mark read, archive;
a member sees only their own, an admin of the same cooperative anyone's, nobody else anything."""

from __future__ import annotations

import uuid
from datetime import timedelta

import grpc
import pytest
from notif_helpers import ADMIN, OTHER_ADMIN, OTHER_ROLES, START, member

from coop.notifications.v1 import notifications_pb2 as pb
from coop.notifications.v1 import notifications_pb2_grpc as pb_grpc
from coop_domain.membership import MemberChanged, MemberContact
from coop_notifications.domain.catalog import NOTIFICATIONS
from coop_notifications.service_layer.notify import notify
from coop_notifications.service_layer.recipients import apply_member_fact
from coop_testkit import bearer


def _seed(env, n: int = 3) -> tuple[str, list[str]]:
    """A new member with n in-app messages (one a second apart); their ids, newest first."""
    mid = f"m-{uuid.uuid4().hex[:10]}"
    with env.uow_factory() as uow:
        apply_member_fact(uow, MemberChanged(mid, START, status="active",
                                             contact=MemberContact("M1", "Ana", f"{mid}@example.org", "nl")))
        for i in range(n):
            notify(uow, NOTIFICATIONS["member_status_changed"], tenant="coop", event_id=f"{mid}-ev{i}",
                   members=[mid], context={"to_status": "active", "n": i}, now=START + timedelta(seconds=i))
        uow.commit()
        ids = [d.delivery_key for d in uow.ledger.inbox_page("coop", mid, 100, "", True)[0]]
    return mid, ids


def _stub(env) -> pb_grpc.InboxServiceStub:
    return env.stub(pb_grpc.InboxServiceStub)


def test_a_member_pages_through_their_inbox_newest_first(env) -> None:
    mid, ids = _seed(env, 5)
    stub, seen, token = _stub(env), [], ""
    while True:
        page = stub.ListInbox(pb.ListInboxRequest(page_size=2, page_token=token), metadata=member(mid), timeout=10)
        assert len(page.items) <= 2 and page.unread_count == 5
        seen += [i.notification_id for i in page.items]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    first = stub.ListInbox(pb.ListInboxRequest(page_size=1), metadata=member(mid), timeout=10).items[0]
    assert first.notification == "member_status_changed" and first.category == "membership"
    assert first.priority == pb.PRIORITY_CLASS_TRANSACTIONAL
    assert dict(first.context)["n"] == 4 and not first.HasField("read_at")


def test_mark_read_and_archive_change_the_unread_count_and_the_list(env) -> None:
    mid, ids = _seed(env, 3)
    stub = _stub(env)
    assert stub.MarkRead(pb.MarkReadRequest(notification_ids=ids[:2]), metadata=member(mid),
                         timeout=10).unread_count == 1
    assert stub.GetUnreadCount(pb.GetUnreadCountRequest(), metadata=member(mid), timeout=10).unread_count == 1
    assert stub.Archive(pb.ArchiveRequest(notification_ids=[ids[2]]), metadata=member(mid),
                        timeout=10).unread_count == 0
    listed = stub.ListInbox(pb.ListInboxRequest(), metadata=member(mid), timeout=10)
    assert [i.notification_id for i in listed.items] == ids[:2] and all(i.HasField("read_at") for i in listed.items)
    everything = stub.ListInbox(pb.ListInboxRequest(include_archived=True), metadata=member(mid), timeout=10)
    assert len(everything.items) == 3 and everything.items[2].HasField("archived_at")


def test_a_retried_mark_read_with_its_request_id_answers_the_same(env) -> None:
    mid, ids = _seed(env, 2)
    request = pb.MarkReadRequest(notification_ids=[ids[0]], request_id=str(uuid.uuid4()))
    first = _stub(env).MarkRead(request, metadata=member(mid), timeout=10)
    assert _stub(env).MarkRead(request, metadata=member(mid), timeout=10) == first
    other = pb.MarkReadRequest(notification_ids=[ids[1]], request_id=request.request_id)
    with pytest.raises(grpc.RpcError) as refused:
        _stub(env).MarkRead(other, metadata=member(mid), timeout=10)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_bad_input_is_refused_with_a_reason(env) -> None:
    mid, ids = _seed(env, 1)
    stub = _stub(env)
    cases = [
        (lambda: stub.ListInbox(pb.ListInboxRequest(page_size=500), metadata=member(mid), timeout=10),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.ListInbox(pb.ListInboxRequest(page_token="not-a-token!"), metadata=member(mid), timeout=10),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.MarkRead(pb.MarkReadRequest(), metadata=member(mid), timeout=10),
         grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.MarkRead(pb.MarkReadRequest(notification_ids=["nope"]), metadata=member(mid), timeout=10),
         grpc.StatusCode.NOT_FOUND),
    ]
    for call, code in cases:
        with pytest.raises(grpc.RpcError) as refused:
            call()
        assert refused.value.code() == code


def _calls(stub, mid: str, ids: list[str], metadata) -> dict:
    return {
        "ListInbox": lambda: stub.ListInbox(pb.ListInboxRequest(member_id=mid), metadata=metadata, timeout=10),
        "GetUnreadCount": lambda: stub.GetUnreadCount(pb.GetUnreadCountRequest(member_id=mid), metadata=metadata,
                                                      timeout=10),
        "MarkRead": lambda: stub.MarkRead(pb.MarkReadRequest(member_id=mid, notification_ids=ids[:1]),
                                          metadata=metadata, timeout=10),
        "Archive": lambda: stub.Archive(pb.ArchiveRequest(member_id=mid, notification_ids=ids[1:2]),
                                        metadata=metadata, timeout=10),
    }


@pytest.mark.parametrize("method", ["ListInbox", "GetUnreadCount", "MarkRead", "Archive"])
def test_every_role_on_every_inbox_call(env, method: str) -> None:
    mid, ids = _seed(env, 2)
    stub = _stub(env)
    # the member themself and an admin of the cooperative: allowed
    for metadata in (member(mid), ADMIN):
        _calls(stub, mid, ids, metadata)[method]()
    # another member, every other role: refused
    for metadata in [member("someone-else"), *(bearer("x-1", role) for role in OTHER_ROLES)]:
        with pytest.raises(grpc.RpcError) as refused:
            _calls(stub, mid, ids, metadata)[method]()
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, metadata
    # another cooperative's admin: the member does not exist there
    with pytest.raises(grpc.RpcError) as refused:
        _calls(stub, mid, ids, OTHER_ADMIN)[method]()
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as anonymous:
        _calls(stub, mid, ids, None)[method]()
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
