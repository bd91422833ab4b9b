"""SqlBoardUnitOfWork: the platform's unit of work (rows and outbox in one transaction) with the
board's repositories and its event translator."""

from __future__ import annotations

from typing import Any

from coop_board import SERVICE_NAME
from coop_board.adapters.events_out import translate
from coop_board.adapters.repository_assembly import SqlAssemblyRepository
from coop_board.adapters.repository_dossiers import SqlDossierRepository
from coop_board.adapters.repository_initiatives import SqlInitiativeRepository  # noqa: I001
from coop_board.adapters.repository_meetings import SqlMeetingRepository  # noqa: I001
from coop_board.adapters.repository_minutes import SqlMinutesRepository
from coop_board.adapters.repository_observers import SqlObserverRepository  # noqa: I001
from coop_board.adapters.repository_roster import SqlMemberStandingRepository, SqlRosterRepository  # noqa: I001
from coop_platform.unit_of_work import UnitOfWork


class SqlBoardUnitOfWork(UnitOfWork):
    def __init__(self, database: Any) -> None:
        super().__init__(database, source=SERVICE_NAME, translate=translate)

    def _open(self) -> None:
        self.roster = SqlRosterRepository(self.session)
        self.members = SqlMemberStandingRepository(self.session)

        self.meetings = SqlMeetingRepository(self.session)
        self.dossiers = SqlDossierRepository(self.session)

        self.minutes = SqlMinutesRepository(self.session)
        self.observers = SqlObserverRepository(self.session)

        self.initiatives = SqlInitiativeRepository(self.session)
        self.assemblies = SqlAssemblyRepository(self.session)
