"""Every MeetingService RPC against every role: director, secretary, management, member, admin,
and an admin of another tenant (whose calls never reach the coop's meetings)."""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from board_svc_helpers import START
from google.protobuf.field_mask_pb2 import FieldMask
from meetings_svc_helpers import (
    ADMIN,
    DIRECTORS,
    ROLES,
    T,
    board_setup,  # noqa: F401 - fixture
    item,
    ready,
    rid,
    schedule,
)

from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_platform.pbtypes import to_date

pytestmark = pytest.mark.usefixtures("board_setup")
OK, PD, NF = "OK", "PERMISSION_DENIED", "NOT_FOUND"
RUNNERS = {"director": PD, "secretary": OK, "management": PD, "member": PD, "admin": OK, "other": NF}
VOTERS = {"director": OK, "secretary": OK, "management": PD, "member": PD, "admin": PD, "other": NF}
READERS = {"director": OK, "secretary": OK, "management": OK, "member": PD, "admin": OK, "other": OK}


def _voting(stub):
    mid, (it, _) = ready(stub, [item(text=T), item(text=T, consent=True)])
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=it.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    return mid, it, vote


def _voted(stub):
    mid, it, vote = _voting(stub)
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN)
    return mid, it, vote


def _decided(stub):
    mid, it, vote = _voted(stub)
    return stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=it.item_id, vote_id=vote.vote_id, actions=[
        pb.FollowUpActionSpec(description=T, owner_id="mg-1", due_date=to_date(START.date()))]),
        metadata=ADMIN).decision


def _published(stub):
    m = schedule(stub)
    it = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=m.meeting_id, item=item(text=T)), metadata=ADMIN).item
    stub.PublishAgenda(pb.PublishAgendaRequest(meeting_id=m.meeting_id), metadata=ADMIN)
    return m, it


def _meeting_req(stub):
    return pb.Meeting(title=T, starts_at=schedule(stub).starts_at, place="Ghent")


CASES = {
    "ScheduleMeeting": (lambda s: pb.ScheduleMeetingRequest(meeting=_meeting_req(s), request_id=rid()),
                        {**RUNNERS, "other": OK}),
    "GetMeeting": (lambda s: pb.GetMeetingRequest(meeting_id=_published(s)[0].meeting_id),
                   {**READERS, "member": OK, "other": NF}),
    "ListMeetings": (lambda s: pb.ListMeetingsRequest(page_size=5), {**READERS, "member": OK}),
    "UpdateMeeting": (lambda s: pb.UpdateMeetingRequest(
        meeting=pb.Meeting(meeting_id=schedule(s).meeting_id, place="Liège"), update_mask=FieldMask(paths=["place"])),
        RUNNERS),
    "CancelMeeting": (lambda s: pb.CancelMeetingRequest(meeting_id=schedule(s).meeting_id), RUNNERS),
    "CloseMeeting": (lambda s: pb.CloseMeetingRequest(meeting_id=ready(s, [item()])[0]), RUNNERS),
    "AddAgendaItem": (lambda s: pb.AddAgendaItemRequest(meeting_id=schedule(s).meeting_id, item=item()), RUNNERS),
    "UpdateAgendaItem": (lambda s: (lambda m, it: pb.UpdateAgendaItemRequest(
        meeting_id=m.meeting_id, item=pb.AgendaItem(item_id=it.item_id, ref="x-1"),
        update_mask=FieldMask(paths=["ref"])))(*_published(s)), RUNNERS),
    "RemoveAgendaItem": (lambda s: (lambda m, it: pb.RemoveAgendaItemRequest(
        meeting_id=m.meeting_id, item_id=it.item_id))(*_published(s)), RUNNERS),
    "ReorderAgendaItems": (lambda s: (lambda m, it: pb.ReorderAgendaItemsRequest(
        meeting_id=m.meeting_id, item_ids=[it.item_id]))(*_published(s)), RUNNERS),
    "PublishAgenda": (lambda s: pb.PublishAgendaRequest(meeting_id=_published(s)[0].meeting_id), RUNNERS),
    "FreezeAgenda": (lambda s: pb.FreezeAgendaRequest(meeting_id=_published(s)[0].meeting_id), RUNNERS),
    "RecordAttendance": (lambda s: pb.RecordAttendanceRequest(meeting_id=schedule(s).meeting_id, attendance=[
        pb.Attendance(director_id="dir-04", status=pb.ATTENDANCE_STATUS_REMOTE)]), RUNNERS),
    "DeclareInterest": (lambda s: (lambda m, it: pb.DeclareInterestRequest(
        meeting_id=m.meeting_id, item_id=it.item_id, statement="family"))(*_published(s)), VOTERS),
    "PullFromConsent": (lambda s: (lambda mid, items: pb.PullFromConsentRequest(
        meeting_id=mid, item_id=items[1].item_id))(*ready(s, [item(), item(consent=True, text=T)])), VOTERS),
    "OpenVote": (lambda s: (lambda mid, items: pb.OpenVoteRequest(
        meeting_id=mid, item_id=items[0].item_id, subject=pb.VOTE_SUBJECT_ITEM))(*ready(s, [item(text=T)])),
        RUNNERS),
    "CastVote": (lambda s: (lambda mid, it, v: pb.CastVoteRequest(meeting_id=mid, vote_id=v.vote_id,
                                                                  choice=pb.VOTE_CHOICE_FOR))(*_voting(s)), VOTERS),
    "RecordVotes": (lambda s: (lambda mid, it, v: pb.RecordVotesRequest(meeting_id=mid, vote_id=v.vote_id, ballots=[
        pb.Ballot(director_id="dir-05", choice=pb.VOTE_CHOICE_AGAINST)]))(*_voting(s)), RUNNERS),
    "CloseVote": (lambda s: (lambda mid, it, v: pb.CloseVoteRequest(meeting_id=mid, vote_id=v.vote_id))(*_voting(s)),
                  RUNNERS),
    "Decide": (lambda s: (lambda mid, it, v: pb.DecideRequest(meeting_id=mid, item_id=it.item_id,
                                                              vote_id=v.vote_id))(*_voted(s)), RUNNERS),
    "ListDecisions": (lambda s: pb.ListDecisionsRequest(meeting_id=_decided(s).meeting_id), {**READERS, "other": NF}),
    "ListActions": (lambda s: pb.ListActionsRequest(owner_id=_decided(s).actions[0].owner_id), READERS),
    "CompleteAction": (lambda s: pb.CompleteActionRequest(action_id=_decided(s).actions[0].action_id),
                       {**RUNNERS, "management": OK, "other": NF}),
}


def test_every_rpc_is_in_the_table() -> None:
    assert set(CASES) == set(pb.DESCRIPTOR.services_by_name["MeetingService"].methods_by_name)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("rpc", list(CASES))
def test_every_rpc_answers_each_role_as_its_access_rule_says(env, rpc, role) -> None:
    stub = env.stub(pb_grpc.MeetingServiceStub)
    build, expected = CASES[rpc]
    request = build(stub)
    try:
        answer = getattr(stub, rpc)(request, metadata=ROLES[role], timeout=10)
        got = OK
    except grpc.RpcError as exc:
        got, answer = exc.code().name, None
    assert got == expected[role], f"{rpc} as {role}"
    if role == "other" and answer is not None and rpc.startswith("List"):
        field = rpc.removeprefix("List").lower()
        request.ClearField("page_size")
        coop = getattr(getattr(stub, rpc)(request, metadata=ADMIN), field)
        assert coop and not {x.SerializeToString() for x in coop} & {x.SerializeToString()
                                                                       for x in getattr(answer, field)}
    env.clock.set(START + timedelta(days=0))
