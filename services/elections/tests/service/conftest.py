"""The elections gRPC servicer against a real PostgreSQL database, with a controllable clock."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

sys.path.insert(0, str(Path(__file__).parent))

from elections_svc_helpers import DURING, Env  # noqa: E402

from coop.elections.v1 import elections_pb2_grpc as pb_grpc  # noqa: E402
from coop.elections.v2 import elections_pb2_grpc as pb2_grpc  # noqa: E402
from coop_domain.clock import FixedClock  # noqa: E402
from coop_elections.entrypoints.grpc_api import build  # noqa: E402
from coop_platform.config import Settings  # noqa: E402
from coop_platform.grpc_server import start_server  # noqa: E402
from coop_platform.migrations import upgrade  # noqa: E402
from coop_testkit import postgres_database  # noqa: E402


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("coop_elections_test") as url:
        upgrade("elections", url)
        yield url


@pytest.fixture(scope="session")
def env(pg_url: str) -> Iterator[Env]:
    clock = FixedClock(DURING)
    settings = Settings(service_name="elections", database_url=pg_url, dev_mode=True, served_tenants=("*",), grpc_port=0,
                        grpc_workers=40)
    engine, register, uow_factory = build(settings, clock)
    running = start_server(settings, register, engine, port=0, health_interval=30)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Env(pb_grpc.ElectionsServiceStub(channel), clock, engine, uow_factory, pg_url,
                  pb2_grpc.ElectionsServiceStub(channel), health_pb2_grpc.HealthStub(channel))
    finally:
        channel.close()
        running.stop(grace=1)
        engine.dispose()


@pytest.fixture(autouse=True)
def _reset_clock(env: Env) -> None:
    env.clock.set(DURING)


