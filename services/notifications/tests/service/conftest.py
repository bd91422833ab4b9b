"""The notifications api against a real PostgreSQL database, with a controllable clock."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]

from notif_helpers import START, NotifEnv  # noqa: E402

from coop_domain.clock import FixedClock  # noqa: E402
from coop_notifications.entrypoints.grpc_api import build  # noqa: E402
from coop_platform.config import Settings  # noqa: E402
from coop_platform.grpc_server import start_server  # noqa: E402
from coop_platform.migrations import upgrade  # noqa: E402
from coop_testkit import postgres_database  # noqa: E402


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    with postgres_database("coop_notifications_test") as url:
        upgrade("notifications", url)
        yield url


@pytest.fixture(scope="session")
def env(pg_url: str) -> Iterator[NotifEnv]:
    clock = FixedClock(START)
    settings = Settings(service_name="notifications", database_url=pg_url, dev_mode=True,
                        served_tenants=("coop", "other"), grpc_port=0, grpc_workers=16)
    engine, register, uow_factory = build(settings, clock)
    running = start_server(settings, register, engine, port=0, health_interval=30)
    channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield NotifEnv(channel, clock, engine, uow_factory, pg_url)
    finally:
        channel.close()
        running.stop(grace=1)
        engine.dispose()


@pytest.fixture(autouse=True)
def _reset_clock(env: NotifEnv) -> None:
    env.clock.set(START)


@pytest.fixture()
def uowf() -> Iterator:
    """A database of its own per test (claims look at every row): its unit-of-work factory."""
    from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork
    from coop_platform.db import Database

    with postgres_database("coop_notif_ledger") as url:
        upgrade("notifications", url)
        database = Database.open(url)
        try:
            yield lambda: SqlNotificationsUnitOfWork(database)
        finally:
            database.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_uowf(request, tmp_path) -> Iterator:
    """`uowf` on each backend: `make run`'s SQLite and production's PostgreSQL."""
    from coop_notifications.adapters.unit_of_work import SqlNotificationsUnitOfWork
    from coop_platform.db import Database

    with contextlib.ExitStack() as stack:
        url = (f"sqlite:///{tmp_path / 'notifications.db'}" if request.param == "sqlite"
               else stack.enter_context(postgres_database("coop_notif_any")))
        upgrade("notifications", url)
        database = Database.open(url)
        stack.callback(database.engine.dispose)
        yield lambda: SqlNotificationsUnitOfWork(database)
