"""The board api starts on a migrated database and reports every one of its services healthy."""

from grpc_health.v1 import health_pb2, health_pb2_grpc

from coop_board.entrypoints.grpc_api import SERVICERS


def test_health_reports_every_board_service_serving(env) -> None:
    health = env.stub(health_pb2_grpc.HealthStub)
    for _, _, name in SERVICERS:
        answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    overall = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert overall.status == health_pb2.HealthCheckResponse.SERVING
