"""The observers' api on PostgreSQL: the board's real unit of work and tables, with the other
families' reads (meeting summaries and records, the secretary in office, members' standing) as
the stand-ins of tests/fakes_observers.py until those families' SQL reads are merged."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from board_fakes_observers import SECRETARY_ID, StandInMeetings, StandInRoster, StandInStandings
from board_svc_helpers import START, family_api
from sqlalchemy import func, select

from coop.board.v1 import observers_pb2 as pb
from coop.board.v1 import observers_pb2_grpc as pb_grpc
from coop_board.adapters.orm import idempotency_keys, metadata
from coop_board.adapters.orm_observers import observer_registrations, observer_sessions
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
from coop_board.entrypoints import grpc_observers
from coop_domain.clock import FixedClock
from coop_platform.pbtypes import to_timestamp
from coop_testkit import bearer

OUTBOX = metadata.tables["outbox"]
MEETINGS, STANDINGS, ROSTER = StandInMeetings(), StandInStandings(), StandInRoster()

TOKENS = {
    "director": bearer("dir-1", "director"),
    "secretary": bearer(SECRETARY_ID, "secretary", "director"),
    "management": bearer("mgmt-1", "management"),
    "member": bearer("mem-1", "member"),
    "admin": bearer("admin-1", "admin"),
    "other": bearer("admin-x", "admin", tenant="other"),
}
ROLES = tuple(TOKENS)


class ObserversTestUnitOfWork(SqlBoardUnitOfWork):
    def _open(self) -> None:
        super()._open()
        self.meetings, self.members, self.roster = MEETINGS, STANDINGS, ROSTER  # type: ignore[assignment]


def member_token(n: int | str) -> list[tuple[str, str]]:
    return bearer(f"mem-{n}", "member")


@dataclass
class ObserversApi:
    stub: Any
    clock: FixedClock
    engine: Any
    uow_factory: Any
    target: str = ""

    def new_meeting(self, starts_in: timedelta = timedelta(days=14), **kw: Any) -> str:
        meeting_id = str(uuid.uuid4())
        MEETINGS.add(meeting_id, starts_at=START + starts_in, **kw)
        return meeting_id

    def open(self, meeting_id: str, seats: int = 2, deadline: datetime | None = None,
             **kw: Any) -> pb.OpenToObserversResponse:
        return self.stub.OpenToObservers(pb.OpenToObserversRequest(
            meeting_id=meeting_id, seats=seats, registration_deadline=to_timestamp(deadline or START + timedelta(days=7)),
            **kw), metadata=TOKENS["secretary"])

    def register(self, meeting_id: str, who: int | str = 1, **kw: Any) -> pb.RegisterAsObserverResponse:
        return self.stub.RegisterAsObserver(pb.RegisterAsObserverRequest(meeting_id=meeting_id, **kw),
                                            metadata=member_token(who))

    def counts(self) -> tuple[int, ...]:
        """Rows of every table the observers write: sessions, registrations, outbox, request ids."""
        with self.engine.connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                         for t in (observer_sessions, observer_registrations, OUTBOX, idempotency_keys))

    def events(self, name: str) -> list[dict[str, Any]]:
        """The data of the outbox's events of that name, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == name).order_by(OUTBOX.c.seq))
            return [json.loads(body)["data"] for (body,) in rows]


@contextmanager
def observers_api(pg_url: str) -> Iterator[ObserversApi]:
    clock = FixedClock(START)
    servicers = grpc_observers.SERVICERS

    def make(uow_factory: Any) -> list[Any]:
        return [servicer(uow_factory, clock) for servicer, _, _ in servicers]

    with family_api(pg_url, servicers, ObserversTestUnitOfWork, make) as (channel, engine, uow_factory, target):
        yield ObserversApi(pb_grpc.ObserverServiceStub(channel), clock, engine, uow_factory, target)
