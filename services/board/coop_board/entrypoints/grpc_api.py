"""The board api process: a plain grpcio server (never eventlet, DESIGN D1).

coop.board.v1 has one service per family of aggregates (RosterService, MeetingService,
DossierService, MinutesService, ObserverService, AssemblyService), each in its own servicer module; this module
registers them all on one server. Each method translates the request, runs one use case as the
caller (`current_principal()`: the use case checks tenant and role in its own unit of work) and
translates the answer back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import grpc

from coop_board import SERVICE_NAME
from coop_board.adapters.unit_of_work import SqlBoardUnitOfWork
from coop_board.entrypoints import (
    grpc_assembly,
    grpc_dossiers,
    grpc_initiatives,
    grpc_meetings,
    grpc_minutes,
    grpc_observers,
    grpc_roster,
)
from coop_domain.clock import utcnow
from coop_platform.config import Settings
from coop_platform.grpc_server import build_service, run_api

Clock = Callable[[], datetime]

# Each entry: (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, full name)
SERVICERS: list[tuple[Any, Callable[[Any, grpc.Server], None], str]] = [
    *grpc_roster.SERVICERS, *grpc_meetings.SERVICERS, *grpc_dossiers.SERVICERS,
    *grpc_minutes.SERVICERS, *grpc_observers.SERVICERS,
    *grpc_initiatives.SERVICERS,
    *grpc_assembly.SERVICERS]


def build(settings: Settings, clock: Clock = utcnow):
    """The engine, the registration callback (every board service; their names for health) and
    the unit-of-work factory (main() and tests)."""
    def make(uow_factory: Callable[[], Any]) -> list[Any]:
        return [servicer(uow_factory, clock) for servicer, _, _ in SERVICERS]

    def add(servicers: list[Any], server: grpc.Server) -> None:
        for servicer, (_, add_to_server, _) in zip(servicers, SERVICERS, strict=True):
            add_to_server(servicer, server)

    return build_service(settings, SqlBoardUnitOfWork, make, add, [name for _, _, name in SERVICERS])


def main() -> None:
    run_api(SERVICE_NAME, build)


if __name__ == "__main__":
    main()
