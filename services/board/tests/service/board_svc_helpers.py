"""Helpers of the board's api tests: a settable clock and the running api."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc

from coop_domain.clock import FixedClock

#: The tests' default "now": a Monday in the board's year.
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class BoardEnv:
    channel: grpc.Channel
    clock: FixedClock
    engine: Any
    uow_factory: Any
    pg_url: str
    _stubs: dict[type, Any] = field(default_factory=dict)

    def stub(self, stub_class: type) -> Any:
        """One stub per generated stub class (RosterServiceStub, MeetingServiceStub, ...)."""
        if stub_class not in self._stubs:
            self._stubs[stub_class] = stub_class(self.channel)
        return self._stubs[stub_class]


def schema_diffs(pg_url: str, mentions: tuple[str, ...]) -> list[Any]:
    """alembic's differences between the migrated database and the code's tables, those whose
    text mentions one of `mentions` (a family's tables): [] when migrations and code agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from coop_board.adapters.orm import metadata

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if any(name in repr(d) for name in mentions)]


def migration_round_trip(backend: str, tmp_path: Any, tables: set[str], previous: str,
                         check: Callable[[Any, bool], None] | None = None) -> None:
    """A family's migration on `backend` ("postgresql" or "sqlite"): upgraded to head its `tables`
    exist, downgraded to `previous` they are gone, upgraded again they are back. `check(engine,
    upgraded)` adds the family's own checks after each step."""
    from sqlalchemy import create_engine, inspect

    from coop_platform.migrations import downgrade, upgrade
    from coop_testkit import postgres_database

    database = postgres_database(f"coop_board_mig_{previous}") if backend == "postgresql" else nullcontext(
        f"sqlite:///{tmp_path}/board.db")
    with database as url:
        upgrade("board", url)
        engine = create_engine(url)
        try:
            for step, upgraded in (("head", True), ("down", False), ("up", True)):
                if step == "down":
                    downgrade("board", url, previous)
                elif step == "up":
                    upgrade("board", url)
                names = set(inspect(engine).get_table_names())
                assert (names >= tables) if upgraded else not (tables & names), (step, tables & names)
                if check is not None:
                    check(engine, upgraded)
        finally:
            engine.dispose()


@contextmanager
def family_api(pg_url: str, servicers: list[tuple[Any, Any, str]], uow_class: type,
               make: Any) -> Iterator[tuple[grpc.Channel, Any, Any, str]]:
    """One family's gRPC services on a real server over `pg_url` (tenants coop and other):
    (channel, engine, uow_factory, target). `make(uow_factory)` builds the servicers."""
    from coop_platform.config import Settings
    from coop_platform.grpc_server import build_service, start_server

    settings = Settings(service_name="board", database_url=pg_url, dev_mode=True, served_tenants=("coop", "other"),
                        grpc_port=0, grpc_workers=40)

    def add(made: list[Any], server: grpc.Server) -> None:
        for servicer, (_, add_to_server, _) in zip(made, servicers, strict=True):
            add_to_server(servicer, server)

    engine, register, uow_factory = build_service(settings, uow_class, make, add, [name for _, _, name in servicers])
    running = start_server(settings, register, engine, port=0, health_interval=30)
    target = f"127.0.0.1:{running.port}"
    channel = grpc.insecure_channel(target)
    try:
        yield channel, engine, uow_factory, target
    finally:
        channel.close()
        running.stop(grace=1)
        engine.dispose()
