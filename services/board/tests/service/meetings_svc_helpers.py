"""The meetings family's api tests: a static roster in place of the roster family's, the dossier
and minutes hooks faked, and helpers to bring a meeting to a vote through gRPC."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import grpc
import pytest
from board_fakes_meetings import FakeDossierHooks, StaticRoster
from board_svc_helpers import START

from coop.board.v1 import common_pb2
from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop_board.adapters import repository_roster
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer

DIRECTORS = [f"dir-{n:02d}" for n in range(1, 10)]
SECRETARY_ID, CHAIR_ID = "dir-01", "dir-02"
ROSTER = StaticRoster({"coop": DIRECTORS, "other": ["o-1", "o-2", "o-3"]},
                      {("coop", "secretary"): SECRETARY_ID, ("coop", "chair"): CHAIR_ID})

ADMIN = bearer("admin-1", "admin")
SECRETARY = bearer(SECRETARY_ID, "secretary", "director")
MANAGEMENT = bearer("mg-1", "management")
MEMBER = bearer("member-1", "member")
OTHER = bearer("admin-9", "admin", tenant="other")
T = common_pb2.LocalizedText(fr="fr", nl="nl", en="en")


def director(d: str) -> list[tuple[str, str]]:
    return bearer(d, "director")


ROLES = {"director": director("dir-03"), "secretary": SECRETARY, "management": MANAGEMENT, "member": MEMBER,
         "admin": ADMIN, "other": OTHER}


@pytest.fixture(scope="module")
def board_setup() -> Iterator[FakeDossierHooks]:
    """The roster's reads from ROSTER, and the dossier and minutes hooks faked (module-wide)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(repository_roster.SqlRosterRepository, "sitting_on",
                   lambda self, tenant, day: ROSTER.sitting_on(tenant, day), raising=False)
        mp.setattr(repository_roster.SqlRosterRepository, "officer_on",
                   lambda self, tenant, office, day: ROSTER.officer_on(tenant, office, day), raising=False)
        yield FakeDossierHooks().install(mp)


def refused(call, *args, **kw):
    """The rich status of a call that must fail (code, reason, field violations)."""
    with pytest.raises(grpc.RpcError) as exc:
        call(*args, **kw)
    return details_of(exc.value)


def rid() -> str:
    return str(uuid.uuid4())


def item(kind: str = "other", **kw) -> pb.AgendaItem:
    kw.setdefault("source", 2 if kind == "dossier" else 5)
    return pb.AgendaItem(title=common_pb2.LocalizedText(fr=f"{kind} fr", nl=f"{kind} nl", en=f"{kind} en"),
                         kind=kind, **kw)


def schedule(stub: pb_grpc.MeetingServiceStub, days: int = 30) -> pb.Meeting:
    return stub.ScheduleMeeting(pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=common_pb2.LocalizedText(fr="CA", nl="RvB", en="Board"), starts_at=to_timestamp(START + timedelta(days=days)),
        place="Brussels"), request_id=rid()), metadata=ADMIN).meeting


def ready(stub, items: list[pb.AgendaItem], present=DIRECTORS, days: int = 30) -> tuple[str, list[pb.AgendaItem]]:
    """A meeting with these items, its agenda published and frozen, attendance recorded."""
    m = schedule(stub, days)
    added = [stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=m.meeting_id, item=it), metadata=ADMIN).item
             for it in items]
    stub.PublishAgenda(pb.PublishAgendaRequest(meeting_id=m.meeting_id), metadata=ADMIN)
    stub.FreezeAgenda(pb.FreezeAgendaRequest(meeting_id=m.meeting_id), metadata=ADMIN)
    if present:
        stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=m.meeting_id, attendance=[
            pb.Attendance(director_id=d, status=pb.ATTENDANCE_STATUS_PRESENT) for d in present]), metadata=ADMIN)
    return m.meeting_id, added
