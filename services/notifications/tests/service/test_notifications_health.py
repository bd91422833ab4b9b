"""The notifications api starts on a migrated database and reports both its services healthy;
the migrations go down and up again, on PostgreSQL and on SQLite (`make run`)."""

from pathlib import Path

from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy import create_engine, inspect

from coop_notifications.entrypoints.grpc_api import SERVICERS
from coop_platform.migrations import downgrade, upgrade

SERVICES = {f"coop.notifications.v1.{s}Service" for s in ("Inbox", "Preference", "Delivery")}
TABLES = {"recipients", "deliveries", "preferences", "suppressions", "election_titles", "digest_frequencies",
          "voted_members", "outbox", "processed_events"}


def test_health_reports_every_notifications_service_serving(env) -> None:
    health = env.stub(health_pb2_grpc.HealthStub)
    assert {name for _, _, name in SERVICERS} == SERVICES
    for name in sorted(SERVICES | {""}):
        answer = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


def test_migrations_create_the_tables_on_sqlite_and_go_down_and_up_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'notifications.db'}"
    upgrade("notifications", url)
    assert set(inspect(create_engine(url)).get_table_names()) >= TABLES
    downgrade("notifications", url, "0001")
    assert "deliveries" not in set(inspect(create_engine(url)).get_table_names())
    upgrade("notifications", url)
    assert set(inspect(create_engine(url)).get_table_names()) >= TABLES
