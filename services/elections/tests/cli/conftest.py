"""The elections api in this process on a fresh SQLite file, for the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from coop_domain.clock import FixedClock
from coop_elections.entrypoints.grpc_api import build
from coop_platform.config import Settings
from coop_platform.grpc_server import start_server
from coop_platform.migrations import upgrade

BEFORE = datetime(2027, 4, 20, tzinfo=UTC)


@pytest.fixture()
def api(tmp_path) -> Iterator[tuple[str, FixedClock]]:
    """(address, clock) of a running api; the clock starts before the tests' cut-offs."""
    url = f"sqlite:///{tmp_path / 'elections.db'}"
    upgrade("elections", url)
    clock = FixedClock(BEFORE)
    settings = Settings(service_name="elections", database_url=url, dev_mode=True, served_tenants=("*",),
                        grpc_port=0)
    engine, register, _ = build(settings, clock)
    running = start_server(settings, register, engine, port=0)
    yield f"127.0.0.1:{running.port}", clock
    running.stop(0)
    engine.dispose()
