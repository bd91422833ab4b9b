"""Helpers of the roster's api tests: callers of every role, a date window per test (the api's
database is shared by the session), and the meetings family's decisions faked in-process."""

from __future__ import annotations

import uuid
from datetime import date

import grpc
import pytest
from google.type.date_pb2 import Date

from coop.board.v1 import roster_pb2 as pb
from coop.board.v1 import roster_pb2_grpc as pb_grpc
from coop_board.domain.links import DecisionSummary
from coop_platform.rich_status import details_of
from coop_testkit import bearer

DECISIONS: dict[str, DecisionSummary] = {}


def d(day: date) -> Date:
    return Date(year=day.year, month=day.month, day=day.day)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def adopted(kind: str, tenant: str = "coop") -> str:
    decision_id = uid("dec")
    DECISIONS[decision_id] = DecisionSummary(decision_id, tenant, "meeting-x", kind, True, None)
    return decision_id


def callers(secretary: str = "sec-1", director: str = "dir-1") -> dict[str, list[tuple[str, str]]]:
    return {"director": bearer(director, "director"), "secretary": bearer(secretary, "secretary"),
            "management": bearer("mgr-1", "management"), "member": bearer("mem-1", "member"),
            "admin": bearer("adm-1", "admin"), "other": bearer("adm-9", "admin", tenant="other")}


def stub(env) -> pb_grpc.RosterServiceStub:
    return env.stub(pb_grpc.RosterServiceStub)


def refused(call, *args, **kwargs):
    with pytest.raises(grpc.RpcError) as info:
        call(*args, **kwargs)
    return details_of(info.value)


def load(env, director: str, start: date, end: date, seat: str = "", **kw) -> pb.Mandate:
    return stub(env).CreateMandate(pb.CreateMandateRequest(director_id=director, seat_id=seat, start_date=d(start),
                                                           end_date=d(end), **kw),
                                   metadata=callers()["admin"], timeout=10).mandate
