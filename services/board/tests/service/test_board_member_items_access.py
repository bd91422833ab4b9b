"""The RPCs whose answers a forced initiative item changes, against every role and no token: the
board's runners (admin, the secretary) get FORCED_ITEM refusals, everyone else is refused before
(PERMISSION_DENIED; NOT_FOUND for another tenant's admin; UNAUTHENTICATED without a token), and
the secretary's list of observers shows the presenters."""

from __future__ import annotations

import itertools
from datetime import timedelta

import grpc
import pytest
from board_svc_helpers import START
from google.protobuf.field_mask_pb2 import FieldMask
from meetings_svc_helpers import (
    ADMIN,
    ROLES,
    board_setup,  # noqa: F401 - fixture
    rid,
)

from coop.board.v1 import common_pb2
from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop.board.v1 import observers_pb2 as opb
from coop.board.v1 import observers_pb2_grpc as opb_grpc
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks
from coop_platform.pbtypes import to_timestamp

pytestmark = pytest.mark.usefixtures("board_setup")
FP, PD, NF, UN, OK = "FAILED_PRECONDITION", "PERMISSION_DENIED", "NOT_FOUND", "UNAUTHENTICATED", "OK"
RUNNERS = {"director": PD, "secretary": FP, "management": PD, "member": PD, "admin": FP, "other": NF, "none": UN}
SECRETARY_LIST = {**RUNNERS, "secretary": OK, "admin": OK}
TOKENS = {**ROLES, "none": []}
T = LocalizedText("fr", "nl", "en")
_days = itertools.count(6000, 40)  # a day of its own per meeting: no other meeting within the delay


def forced(env) -> tuple[str, str]:
    """A coop meeting carrying a forced item: (meeting id, item id)."""
    days = next(_days)
    stub = env.stub(pb_grpc.MeetingServiceStub)
    mid = stub.ScheduleMeeting(pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=common_pb2.LocalizedText(fr="CA", nl="RvB", en="Board"),
        starts_at=to_timestamp(START + timedelta(days=days)), place="Brussels"), request_id=rid()),
        metadata=ADMIN).meeting.meeting_id
    with env.uow_factory() as uow:
        found = agenda_hooks.force_initiative_item(uow, "coop", f"ini-{days}", T, T, ("pro-1",),
                                                   START + timedelta(days=days - 20), 25)
        uow.commit()
    assert found.meeting_id == mid
    return mid, found.item_id


def _move_past_delay(mid: str) -> pb.UpdateMeetingRequest:
    return pb.UpdateMeetingRequest(meeting=pb.Meeting(meeting_id=mid, starts_at=to_timestamp(START + timedelta(
        days=10_000))), update_mask=FieldMask(paths=["starts_at"]))


CASES = {
    "RemoveAgendaItem": (pb_grpc.MeetingServiceStub, lambda mid, iid: pb.RemoveAgendaItemRequest(
        meeting_id=mid, item_id=iid), RUNNERS),
    "CancelMeeting": (pb_grpc.MeetingServiceStub, lambda mid, iid: pb.CancelMeetingRequest(meeting_id=mid), RUNNERS),
    "UpdateAgendaItem": (pb_grpc.MeetingServiceStub, lambda mid, iid: pb.UpdateAgendaItemRequest(
        meeting_id=mid, item=pb.AgendaItem(item_id=iid, consent=True), update_mask=FieldMask(paths=["consent"])),
        RUNNERS),
    "UpdateMeeting": (pb_grpc.MeetingServiceStub, lambda mid, iid: _move_past_delay(mid), RUNNERS),
    "ListObservers": (opb_grpc.ObserverServiceStub, lambda mid, iid: opb.ListObserversRequest(meeting_id=mid),
                      SECRETARY_LIST),
}


@pytest.mark.parametrize("role", list(TOKENS))
@pytest.mark.parametrize("rpc", list(CASES))
def test_each_role_gets_the_answer_its_access_rule_says_on_a_forced_item(env, rpc, role) -> None:
    stub_class, build, expected = CASES[rpc]
    mid, iid = forced(env)
    try:
        answer = getattr(env.stub(stub_class), rpc)(build(mid, iid), metadata=TOKENS[role], timeout=10)
        got = OK
    except grpc.RpcError as exc:
        got, answer = exc.code().name, None
    assert got == expected[role], f"{rpc} as {role}"
    if rpc == "ListObservers" and got == OK:
        assert [(r.member_id, r.speaking_slot) for r in answer.registrations] == [("pro-1", True)]
    meeting = env.stub(pb_grpc.MeetingServiceStub).GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN)
    assert [(it.item_id, it.forced, it.consent) for it in meeting.meeting.items if it.forced] == [(iid, True, False)]
    assert meeting.meeting.status != pb.MEETING_STATUS_CANCELLED
