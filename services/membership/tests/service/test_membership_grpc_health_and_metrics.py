"""Operations: the gRPC health service follows the database; the standard gRPC metrics count calls."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY
from sqlalchemy import create_engine, text

from coop.membership.v1 import membership_pb2 as pb
from coop_testkit import PG_ADMIN_URL, free_port, postgres_database, wait_until

SERVICE = "coop.membership.v1.MembershipService"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _health(svc, service=""):
    """The health status, or None while the watcher has not yet registered the service name."""
    stub = health_pb2_grpc.HealthStub(svc.channel)
    try:
        return stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise


def test_health_is_serving_for_the_server_and_the_membership_service_without_a_token(svc):
    wait_until(lambda: _health(svc, SERVICE) == SERVING, message="membership service SERVING")
    assert _health(svc) == SERVING


def test_reflection_lists_the_membership_and_health_services(svc):
    from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

    stub = reflection_pb2_grpc.ServerReflectionStub(svc.channel)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {s.name for r in responses for s in r.list_services_response.service}
    assert {SERVICE, "grpc.health.v1.Health"} <= names


def test_health_is_not_serving_and_calls_are_unavailable_when_the_database_port_is_closed(h):
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{free_port()}/nowhere"
    with h.running_service(url, "postgresql", migrate=False, health_interval=0.2) as svc:
        wait_until(lambda: _health(svc) == NOT_SERVING, message="NOT_SERVING")
        wait_until(lambda: _health(svc, SERVICE) == NOT_SERVING, message="service NOT_SERVING")
        code = h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(), metadata=h.ADMIN)
        assert code == grpc.StatusCode.UNAVAILABLE


def test_health_goes_not_serving_when_the_database_is_dropped_and_serving_when_it_returns(h):
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with postgres_database("coop_membership_health") as url, \
                h.running_service(url, "postgresql", health_interval=0.2) as svc:
            name = url.rsplit("/", 1)[1]
            wait_until(lambda: _health(svc) == SERVING, message="SERVING")
            h.register(svc)
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            wait_until(lambda: _health(svc) == NOT_SERVING, message="NOT_SERVING after the drop")
            assert _health(svc, SERVICE) == NOT_SERVING
            assert h.code_of(svc.stub.ListMembers, pb.ListMembersRequest(),
                             metadata=h.ADMIN) == grpc.StatusCode.UNAVAILABLE
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            wait_until(lambda: _health(svc) == SERVING, message="SERVING once the database is back")
    finally:
        admin.dispose()


def _handled(method, code):
    return REGISTRY.get_sample_value("grpc_server_handled_total", {
        "grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}) or 0.0


def test_grpc_server_metrics_count_calls_by_method_and_status_code(svc, h):
    ok, invalid = _handled("GetMember", "OK"), _handled("GetMember", "INVALID_ARGUMENT")
    unauth = _handled("GetMember", "UNAUTHENTICATED")
    started = REGISTRY.get_sample_value("grpc_server_started_total", {
        "grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetMember"}) or 0.0
    timed = REGISTRY.get_sample_value("grpc_server_handling_seconds_count", {
        "grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetMember"}) or 0.0
    m = h.register(svc)
    svc.stub.GetMember(pb.GetMemberRequest(member_id=m.member_id), metadata=h.ADMIN)
    svc.stub.GetMember(pb.GetMemberRequest(member_number=m.member_number), metadata=h.ADMIN)
    h.code_of(svc.stub.GetMember, pb.GetMemberRequest(member_id="nope"), metadata=h.ADMIN)
    h.code_of(svc.stub.GetMember, pb.GetMemberRequest(member_id=m.member_id))
    assert _handled("GetMember", "OK") == ok + 2
    assert _handled("GetMember", "INVALID_ARGUMENT") == invalid + 1
    assert _handled("GetMember", "UNAUTHENTICATED") == unauth + 1
    assert REGISTRY.get_sample_value("grpc_server_started_total", {
        "grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetMember"}) == started + 4
    assert REGISTRY.get_sample_value("grpc_server_handling_seconds_count", {
        "grpc_type": "unary", "grpc_service": SERVICE, "grpc_method": "GetMember"}) == timed + 4
    assert _handled("RegisterMember", "OK") >= 1
