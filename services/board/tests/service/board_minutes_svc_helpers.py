"""Helpers of the minutes api tests: the meetings family's record and the roster's secretary
are stood in for (the minutes are built from hand-made MeetingRecord values), approval is the
hook the meetings family calls, and calls are made as each role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from fakes_minutes import make_record

from coop.board.v1 import minutes_pb2 as pb
from coop.board.v1 import minutes_pb2_grpc as pb_grpc
from coop_board.adapters.repository_meetings import SqlMeetingRepository
from coop_board.adapters.repository_roster import SqlRosterRepository
from coop_board.domain.record import MeetingRecord
from coop_board.service_layer import agenda_hooks, minutes_hooks
from coop_platform.rich_status import details_of
from coop_testkit import bearer

SECRETARY_ID = "dir-2"
ROLES = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer(SECRETARY_ID, "secretary", "director"),
    "management": bearer("mgmt-1", "management"),
    "member": bearer("member-42", "member"),
    "admin": bearer("ops-1", "admin"),
    "other": bearer("ops-9", "admin", tenant="other"),
}


@dataclass
class MinutesWorld:
    env: Any
    records: dict[tuple[str, str], MeetingRecord] = field(default_factory=dict)
    approval_items: list[str] = field(default_factory=list)

    @property
    def stub(self) -> pb_grpc.MinutesServiceStub:
        return self.env.stub(pb_grpc.MinutesServiceStub)

    def meeting(self, **kw: Any) -> str:
        meeting_id = f"meeting-{uuid.uuid4().hex[:10]}"
        record = make_record(meeting_id, **kw)
        self.records[(record.tenant, meeting_id)] = record
        return meeting_id

    def draft(self, meeting_id: str) -> pb.Minutes:
        return self.stub.DraftMinutes(pb.DraftMinutesRequest(meeting_id=meeting_id),
                                      metadata=ROLES["secretary"], timeout=10).minutes

    def approve(self, minutes_id: str) -> None:
        uow = self.env.uow_factory()
        with uow:
            minutes_hooks.minutes_approved(uow, "coop", minutes_id, f"dec-{minutes_id[:8]}", "meeting-next",
                                           datetime(2027, 3, 1, 20, 0, tzinfo=UTC))
            uow.commit()

    def approved(self, meeting_id: str) -> pb.Minutes:
        m = self.draft(meeting_id)
        self.stub.SubmitMinutesForApproval(pb.SubmitMinutesForApprovalRequest(minutes_id=m.minutes_id),
                                           metadata=ROLES["secretary"], timeout=10)
        self.approve(m.minutes_id)
        return m

    def published(self, meeting_id: str) -> pb.Minutes:
        m = self.approved(meeting_id)
        return self.stub.PublishMinutes(pb.PublishMinutesRequest(minutes_id=m.minutes_id),
                                        metadata=ROLES["secretary"], timeout=10).minutes


@pytest.fixture
def world(env: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[MinutesWorld]:
    w = MinutesWorld(env)
    monkeypatch.setattr(SqlMeetingRepository, "record",
                        lambda self, tenant, meeting_id: w.records.get((tenant, meeting_id)), raising=False)
    monkeypatch.setattr(SqlRosterRepository, "officer_on",
                        lambda self, tenant, office, day: SECRETARY_ID if office == "secretary" else None,
                        raising=False)

    def add_item(uow: Any, tenant: str, minutes_id: str, title: Any, now: Any = None) -> str:
        w.approval_items.append(minutes_id)
        return f"item-approve-{minutes_id[:8]}"
    monkeypatch.setattr(agenda_hooks, "add_minutes_approval_item", add_item)
    yield w


def refused(call: Any) -> Any:
    try:
        call()
    except grpc.RpcError as error:
        return details_of(error)
    raise AssertionError("the call was not refused")
