"""The board api as the end-to-end tests call it (test_board_flow.py,
test_participation_flow.py): the secretary's tools, the directors' and the members' portals."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import grpc
import pytest
from google.type.date_pb2 import Date

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import dossiers_pb2 as dpb
from coop.board.v1 import dossiers_pb2_grpc as dgrpc
from coop.board.v1 import meetings_pb2 as bpb
from coop.board.v1 import meetings_pb2_grpc as bgrpc
from coop.board.v1 import minutes_pb2_grpc as ngrpc
from coop.board.v1 import observers_pb2_grpc as ogrpc
from coop.board.v1 import roster_pb2_grpc as rgrpc
from coop_platform.pbtypes import to_timestamp
from coop_platform.rich_status import details_of
from coop_testkit import bearer


def rid() -> str:
    return str(uuid.uuid4())


def lt(en: str) -> cpb.LocalizedText:
    return cpb.LocalizedText(fr=f"{en} [fr]", nl=f"{en} [nl]", en=en)


def d(day: date) -> Date:
    return Date(year=day.year, month=day.month, day=day.day)


def reason_of(call) -> str:
    with pytest.raises(grpc.RpcError) as info:
        call()
    return details_of(info.value).reason


class Board:
    """The board api's five services as the secretary's tools, the directors' and the members'
    portals call them."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.roster = rgrpc.RosterServiceStub(channel)
        self.meetings = bgrpc.MeetingServiceStub(channel)
        self.dossiers = dgrpc.DossierServiceStub(channel)
        self.minutes = ngrpc.MinutesServiceStub(channel)
        self.observers = ogrpc.ObserverServiceStub(channel)
        self.admin = bearer("e2e-board-admin", "admin")
        self.management = bearer("e2e-manager", "management")

    @staticmethod
    def director(member_id: str) -> list[tuple[str, str]]:
        return bearer(member_id, "director")

    def schedule(self, starts_at: datetime, title: str, metadata) -> bpb.Meeting:
        return self.meetings.ScheduleMeeting(bpb.ScheduleMeetingRequest(meeting=bpb.Meeting(
            title=lt(title), starts_at=to_timestamp(starts_at), place="Rue de la Coopérative 1, Bruxelles"),
            request_id=rid()), metadata=metadata, timeout=15).meeting

    def add(self, meeting_id: str, item: bpb.AgendaItem, metadata) -> bpb.AgendaItem:
        return self.meetings.AddAgendaItem(bpb.AddAgendaItemRequest(meeting_id=meeting_id, item=item,
                                                                    request_id=rid()), metadata=metadata,
                                           timeout=15).item

    def publish_and_freeze(self, meeting_id: str, metadata) -> bpb.Meeting:
        self.meetings.PublishAgenda(bpb.PublishAgendaRequest(meeting_id=meeting_id, request_id=rid()),
                                    metadata=metadata, timeout=15)
        return self.meetings.FreezeAgenda(bpb.FreezeAgendaRequest(meeting_id=meeting_id, request_id=rid()),
                                          metadata=metadata, timeout=15).meeting

    def get(self, meeting_id: str, metadata) -> bpb.Meeting:
        return self.meetings.GetMeeting(bpb.GetMeetingRequest(meeting_id=meeting_id), metadata=metadata,
                                        timeout=15).meeting

    def attendance(self, meeting_id: str, present: list[str], absent: list[str], metadata) -> bpb.Meeting:
        lines = [bpb.Attendance(director_id=x, status=bpb.ATTENDANCE_STATUS_PRESENT) for x in present]
        lines += [bpb.Attendance(director_id=x, status=bpb.ATTENDANCE_STATUS_ABSENT) for x in absent]
        return self.meetings.RecordAttendance(bpb.RecordAttendanceRequest(meeting_id=meeting_id, attendance=lines,
                                                                          request_id=rid()),
                                              metadata=metadata, timeout=15).meeting

    def vote(self, meeting_id: str, item_id: str, subject: int, metadata, ballots: dict[str, int],
             subject_id: str = "") -> bpb.Vote:
        """Open a vote, each director casts their own ballot from their portal, close it."""
        vote = self.meetings.OpenVote(bpb.OpenVoteRequest(meeting_id=meeting_id, item_id=item_id, subject=subject,
                                                          subject_id=subject_id, request_id=rid()),
                                      metadata=metadata, timeout=15).vote
        for who, choice in ballots.items():
            self.meetings.CastVote(bpb.CastVoteRequest(meeting_id=meeting_id, vote_id=vote.vote_id, choice=choice,
                                                       request_id=rid()), metadata=self.director(who), timeout=15)
        closed = self.meetings.CloseVote(bpb.CloseVoteRequest(meeting_id=meeting_id, vote_id=vote.vote_id,
                                                              request_id=rid()), metadata=metadata, timeout=15).vote
        assert closed.quorum.met and not closed.open
        return closed

    def decide(self, meeting_id: str, item_id: str, vote_id: str, metadata, **kw) -> bpb.Decision:
        return self.meetings.Decide(bpb.DecideRequest(meeting_id=meeting_id, item_id=item_id, vote_id=vote_id,
                                                      request_id=rid(), **kw), metadata=metadata, timeout=15).decision

    def dossier(self, dossier_id: str, version: int = 0) -> dpb.GetDossierResponse:
        return self.dossiers.GetDossier(dpb.GetDossierRequest(dossier_id=dossier_id, version=version),
                                        metadata=self.management, timeout=15)
