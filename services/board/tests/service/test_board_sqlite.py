"""The board's api on SQLite, as `make run` starts it (COOP_DATA_DIR, no database server): SQLite
hands instants back without their time zone, and the board must read them as UTC."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from board_svc_helpers import START

from coop.board.v1 import common_pb2 as cpb
from coop.board.v1 import meetings_pb2 as mpb
from coop.board.v1 import meetings_pb2_grpc as mgrpc
from coop.board.v1 import observers_pb2 as opb
from coop.board.v1 import observers_pb2_grpc as ogrpc
from coop_board.entrypoints.grpc_api import build
from coop_domain.clock import FixedClock
from coop_platform.config import Settings
from coop_platform.grpc_server import start_server
from coop_platform.migrations import upgrade
from coop_platform.pbtypes import to_timestamp
from coop_testkit import bearer

ADMIN = bearer("sqlite-admin", "admin")


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[grpc.Channel]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('board-sqlite')) / 'board.db'}"
    upgrade("board", url)
    settings = Settings(service_name="board", database_url=url, dev_mode=True, served_tenants=("coop",),
                        grpc_port=0, grpc_workers=4)
    clock = FixedClock(START)
    engine, register, _ = build(settings, clock)
    running = start_server(settings, register, engine, port=0, health_interval=30)
    with grpc.insecure_channel(f"127.0.0.1:{running.port}") as chan:
        yield chan
    running.stop(grace=1)
    engine.dispose()


def test_a_meeting_read_back_from_sqlite_opens_to_observers_with_its_start_in_utc(channel: grpc.Channel) -> None:
    meetings = mgrpc.MeetingServiceStub(channel)
    starts = START + timedelta(days=30)
    meeting = meetings.ScheduleMeeting(mpb.ScheduleMeetingRequest(meeting=mpb.Meeting(
        title=cpb.LocalizedText(fr="CA", nl="RvB", en="Board"), starts_at=to_timestamp(starts), place="Brussels"),
        request_id=str(uuid.uuid4())), metadata=ADMIN, timeout=10).meeting
    meetings.AddAgendaItem(mpb.AddAgendaItemRequest(meeting_id=meeting.meeting_id, item=mpb.AgendaItem(
        title=cpb.LocalizedText(fr="Budget", nl="Begroting", en="Budget"), kind="other",
        source=cpb.ITEM_SOURCE_OTHER, visibility=cpb.ITEM_VISIBILITY_OPEN)), metadata=ADMIN, timeout=10)
    assert meetings.GetMeeting(mpb.GetMeetingRequest(meeting_id=meeting.meeting_id), metadata=ADMIN,
                               timeout=10).meeting.starts_at == to_timestamp(starts)
    session = ogrpc.ObserverServiceStub(channel).OpenToObservers(opb.OpenToObserversRequest(
        meeting_id=meeting.meeting_id, seats=3, registration_deadline=to_timestamp(starts - timedelta(days=1)),
        request_id=str(uuid.uuid4())), metadata=ADMIN, timeout=10).session
    assert session.seats == 3 and session.meeting_starts_at == to_timestamp(starts)
