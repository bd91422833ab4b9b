"""Operations: PostgreSQL connections have a connect timeout and a statement timeout.

A statement held past COOP_DB_STATEMENT_TIMEOUT_MS (here by a table lock another session
keeps) is cancelled by the server; the call answers UNAVAILABLE and writes nothing, and the
api's threads are free again. UNAVAILABLE, not DEADLINE_EXCEEDED: the server gave up and
rolled the transaction back, so the call did not happen and a retry with backoff is safe;
DEADLINE_EXCEEDED is the caller's own deadline, after which the call may have completed.

A database host that never answers (a dead network path) fails a connection after
COOP_DB_CONNECT_TIMEOUT_SECONDS: the health turns NOT_SERVING and calls answer UNAVAILABLE,
where the health check used to hang in connect() for good and stay SERVING.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, text

from coop.membership.v1 import membership_pb2 as pb
from coop_testkit import postgres_database

pytestmark = pytest.mark.postgres


def _health(svc) -> int:
    stub = health_pb2_grpc.HealthStub(svc.channel)
    return stub.Check(health_pb2.HealthCheckRequest(), timeout=5).status


def test_a_call_past_the_statement_timeout_is_unavailable_writes_nothing_and_frees_the_api(h, monkeypatch):
    monkeypatch.setenv("COOP_DB_STATEMENT_TIMEOUT_MS", "500")
    with postgres_database("coop_membership_stmt_timeout") as url, h.running_service(url, "postgresql") as svc:
        blocker = create_engine(url)
        try:
            with blocker.connect() as conn:  # holds the lock until this transaction ends
                conn.execute(text("LOCK TABLE members IN ACCESS EXCLUSIVE MODE"))
                register = pb.RegisterMemberRequest(member=h.draft(), admit=True)
                assert h.code_of(svc.stub.RegisterMember, register, metadata=h.ADMIN,
                                 timeout=15) == grpc.StatusCode.UNAVAILABLE
                assert h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(), metadata=h.ADMIN,
                                 timeout=15) == grpc.StatusCode.UNAVAILABLE
                conn.rollback()
        finally:
            blocker.dispose()
        assert svc.counts() == {"members": 0, "shares": 0, "member_status_history": 0, "outbox": 0}
        member = h.register(svc)  # the lock is gone: the same api serves again
        assert svc.stub.GetMember(pb.GetMemberRequest(member_id=member.member_id), metadata=h.ADMIN,
                                  timeout=15).member_id == member.member_id


@contextlib.contextmanager
def silent_database_host() -> Iterator[int]:
    """A port whose kernel accepts TCP connections that nobody ever answers: to libpq, a
    database host behind a dead network path."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


@pytest.mark.timeout(90, method="thread")  # a hang (no connect timeout) ends the run
def test_health_is_not_serving_and_calls_unavailable_when_the_database_host_never_answers(h, monkeypatch):
    monkeypatch.setenv("COOP_DB_CONNECT_TIMEOUT_SECONDS", "2")
    with silent_database_host() as port:
        url = f"postgresql+psycopg2://postgres@127.0.0.1:{port}/coop"
        with h.running_service(url, "postgresql", migrate=False, health_interval=0.2) as svc:
            assert _health(svc) == health_pb2.HealthCheckResponse.NOT_SERVING
            assert h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(), metadata=h.ADMIN,
                             timeout=30) == grpc.StatusCode.UNAVAILABLE
