"""What the use cases need from storage, as Protocols: one repository per aggregate family and
the unit of work that holds them. adapters/ implements them on SQL (SqlBoardUnitOfWork);
tests/fakes.py in memory.

Each family's repository Protocol lives beside its use cases' needs in its own ports module
(ports_<family>.py); this module only assembles them.
"""

from __future__ import annotations

from typing import Any, Protocol

# --- assembly: General Assemblies, workshops, registrations ------------------------------
from coop_board.service_layer.ports_assembly import AssemblyRepository

# --- meetings: meetings, agendas, attendance, votes, decisions, dossiers ------------------
from coop_board.service_layer.ports_dossiers import DossierRepository
from coop_board.service_layer.ports_initiatives import InitiativeRepository
from coop_board.service_layer.ports_meetings import MeetingRepository

# --- minutes: minutes, translations, publication, observers ------------------------------
from coop_board.service_layer.ports_minutes import MinutesRepository
from coop_board.service_layer.ports_observers import ObserverRepository

# --- roster: mandates, officers, appointments, the members projection -------------------
from coop_board.service_layer.ports_roster import MemberStandingRepository, RosterRepository


class BoardUnitOfWork(Protocol):
    """One transaction: rows through the repositories, events through `publish`, both at
    `commit`. Entered once per use case (`with uow:`); a unit may be entered again after it is
    left."""

    roster: RosterRepository
    members: MemberStandingRepository

    meetings: MeetingRepository
    dossiers: DossierRepository

    minutes: MinutesRepository
    observers: ObserverRepository

    initiatives: InitiativeRepository
    assemblies: AssemblyRepository

    def __enter__(self) -> BoardUnitOfWork: ...
    def __exit__(self, *exc: object) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def read_only(self) -> BoardUnitOfWork: ...
    def publish(self, event: Any, *, correlation_id: str | None = None) -> str: ...
