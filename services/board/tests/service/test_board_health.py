"""The board api starts on a migrated database and reports every one of its services healthy."""

from grpc_health.v1 import health_pb2, health_pb2_grpc

from coop_board.entrypoints.grpc_api import SERVICERS

BOARD_SERVICES = {f"coop.board.v1.{s}Service" for s in ("Roster", "Meeting", "Dossier", "Minutes", "Observer",
                                                               "Initiative")}
BOARD_SERVICES |= {"coop.board.v1.AssemblyService"}  # issue 12: the assembly family


def test_health_reports_every_board_service_serving(env) -> None:
    health = env.stub(health_pb2_grpc.HealthStub)
    assert {name for _, _, name in SERVICERS} == BOARD_SERVICES  # each family registers its service
    for name in sorted(BOARD_SERVICES):
        answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    overall = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
    assert overall.status == health_pb2.HealthCheckResponse.SERVING
