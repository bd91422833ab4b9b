"""SqlElectionsUnitOfWork: the platform's unit of work (rows and outbox in one transaction)
with the elections repository and the elections event translator."""

from __future__ import annotations

from typing import Any

from coop_elections import SERVICE_NAME
from coop_elections.adapters.events_out import translate
from coop_elections.adapters.repository import SqlElectionRepository
from coop_platform.unit_of_work import UnitOfWork


class SqlElectionsUnitOfWork(UnitOfWork):
    elections: SqlElectionRepository

    def __init__(self, database: Any) -> None:
        super().__init__(database, source=SERVICE_NAME, translate=translate)

    def _open(self) -> None:
        self.elections = SqlElectionRepository(self.session)
