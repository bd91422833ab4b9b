"""Every MinutesService RPC against every role: director, secretary, management, member, admin
and an admin of another tenant ("other": NOT_FOUND for coop's records, nothing of coop's in a
list). Drafts are the board's; members read published material only."""

from __future__ import annotations

from datetime import date

import grpc
import pytest
from board_minutes_svc_helpers import ROLES, world  # noqa: F401
from google.protobuf.field_mask_pb2 import FieldMask
from google.type.date_pb2 import Date

from coop.board.v1 import common_pb2
from coop.board.v1 import minutes_pb2 as pb

OK, DENIED, MISSING = grpc.StatusCode.OK, grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND
WRITERS = {"secretary": OK, "admin": OK, "director": DENIED, "management": DENIED, "member": DENIED, "other": MISSING}
BOARD = {"secretary": OK, "admin": OK, "director": OK, "management": OK, "member": DENIED, "other": MISSING}
EVERYONE = {"secretary": OK, "admin": OK, "director": OK, "management": OK, "member": OK, "other": MISSING}
LISTS = {role: OK for role in ROLES} | {"member": OK}
TASKS = BOARD | {"other": OK}
DAY = Date(year=2031, month=5, day=5)


def _calls(w):
    s = w.stub

    def draft():
        return s.DraftMinutes(pb.DraftMinutesRequest(meeting_id=w.meeting(items=2)), metadata=META)

    def get():
        return s.GetMinutes(pb.GetMinutesRequest(minutes_id=w.draft(w.meeting(items=1)).minutes_id), metadata=META)

    def update():
        minutes_id = w.draft(w.meeting(items=1)).minutes_id
        return s.UpdateMinutes(pb.UpdateMinutesRequest(
            minutes=pb.Minutes(minutes_id=minutes_id, title=common_pb2.LocalizedText(fr="PV")),
            update_mask=FieldMask(paths=["title.fr"])), metadata=META)

    def submit():
        minutes_id = w.draft(w.meeting(items=1)).minutes_id
        return s.SubmitMinutesForApproval(pb.SubmitMinutesForApprovalRequest(minutes_id=minutes_id), metadata=META)

    def erratum():
        minutes_id = w.approved(w.meeting(items=1)).minutes_id
        return s.CreateErratum(pb.CreateErratumRequest(minutes_id=minutes_id, correction=common_pb2.LocalizedText(
            fr="c", nl="c", en="c")), metadata=META)

    def tasks():
        answer = s.ListTranslationTasks(pb.ListTranslationTasksRequest(page_size=1000), metadata=META)
        if ROLE == "other":
            assert not any(t.minutes_id in PUBLISHED_IDS for t in answer.tasks)
        return answer

    def publish():
        minutes_id = w.approved(w.meeting(items=1)).minutes_id
        return s.PublishMinutes(pb.PublishMinutesRequest(minutes_id=minutes_id), metadata=META)

    def list_published():
        answer = s.ListPublishedMinutes(pb.ListPublishedMinutesRequest(language="fr", from_date=DAY), metadata=META)
        assert (ROLE == "other") != any(m.minutes_id in PUBLISHED_IDS for m in answer.minutes)
        return answer

    def search():
        answer = s.SearchPublishedDecisions(pb.SearchPublishedDecisionsRequest(language="nl", from_date=DAY),
                                            metadata=META)
        assert (ROLE == "other") != any(d.minutes_id in PUBLISHED_IDS for d in answer.decisions)
        return answer

    def get_decision():
        return s.GetPublishedDecision(pb.GetPublishedDecisionRequest(
            decision_id=f"{PUBLISHED_MEETING[0]}-decision-1", language="en"), metadata=META)

    def render():
        return s.RenderMinutes(pb.RenderMinutesRequest(minutes_id=PUBLISHED_IDS[0], language="en",
                                                       format=pb.RENDER_FORMAT_PDF), metadata=META)

    return {"DraftMinutes": (draft, WRITERS), "GetMinutes": (get, BOARD), "UpdateMinutes": (update, WRITERS),
            "SubmitMinutesForApproval": (submit, WRITERS), "CreateErratum": (erratum, WRITERS),
            "ListTranslationTasks": (tasks, TASKS), "PublishMinutes": (publish, WRITERS),
            "ListPublishedMinutes": (list_published, LISTS), "SearchPublishedDecisions": (search, LISTS),
            "GetPublishedDecision": (get_decision, EVERYONE), "RenderMinutes": (render, EVERYONE)}


META: list = []
ROLE = ""
PUBLISHED_IDS: list[str] = []
PUBLISHED_MEETING: list[str] = []
RPCS = ("DraftMinutes", "GetMinutes", "UpdateMinutes", "SubmitMinutesForApproval", "CreateErratum",
        "ListTranslationTasks", "PublishMinutes", "ListPublishedMinutes", "SearchPublishedDecisions",
        "GetPublishedDecision", "RenderMinutes")


def test_every_rpc_of_the_service_is_in_the_matrix() -> None:
    assert set(RPCS) == set(pb.DESCRIPTOR.services_by_name["MinutesService"].methods_by_name)


@pytest.mark.parametrize("role", list(ROLES))
@pytest.mark.parametrize("rpc", RPCS)
def test_each_role_gets_what_its_role_allows(world, rpc: str, role: str) -> None:  # noqa: F811
    global META, ROLE
    if not PUBLISHED_IDS:
        meeting = world.meeting(items=2, day=date(2031, 5, 5))  # alone on its day: the lists' window
        PUBLISHED_MEETING.append(meeting)
        PUBLISHED_IDS.append(world.published(meeting).minutes_id)
    call, expected = _calls(world)[rpc]
    META, ROLE = ROLES[role], role
    try:
        call()
        code = OK
    except grpc.RpcError as error:
        code = error.code()
    assert code == expected[role], (rpc, role)
