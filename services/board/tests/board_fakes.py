"""In-memory fakes of service_layer/ports.py, for use-case tests that run without a database
(tests/service_layer/). Each family's fake repositories live in board_fakes_<family>.py; the unit of
work here holds them all. Locks are no-ops: one test, one thread."""

from __future__ import annotations

from typing import Any

from board_fakes_assembly import FakeAssemblyRepository
from board_fakes_dossiers import FakeDossierRepository
from board_fakes_initiatives import FakeInitiativeRepository
from board_fakes_meetings import FakeMeetingRepository  # noqa: I001
from board_fakes_minutes import FakeMinutesRepository
from board_fakes_observers import FakeObserverRepository  # noqa: I001
from board_fakes_roster import FakeMemberStandingRepository, FakeRosterRepository  # noqa: I001


class FakeUnitOfWork:
    """Commits are counted and published events kept (in commit order); an uncommitted unit's
    events are dropped, like the outbox's rows. Repositories keep their writes even on rollback
    unless they implement `snapshot()`/`restore(state)`, which the unit calls around each use."""

    def __init__(self) -> None:
        self.members = FakeMemberStandingRepository()
        self.roster = FakeRosterRepository(self.members)  # sitting_on reads categories from the projection

        self.meetings = FakeMeetingRepository()
        self.dossiers = FakeDossierRepository()

        self.minutes = FakeMinutesRepository()
        self.observers = FakeObserverRepository()

        self.initiatives = FakeInitiativeRepository(self.members)
        self.assemblies = FakeAssemblyRepository()

        self.published: list[Any] = []
        self._pending: list[Any] = []
        self._saved: dict[str, Any] = {}
        self.commits = 0

    def _repositories(self) -> dict[str, Any]:
        names = ("roster", "members", "meetings", "dossiers", "minutes", "observers", "initiatives", "assemblies")
        return {n: getattr(self, n) for n in names if hasattr(getattr(self, n), "snapshot")}

    def __enter__(self) -> FakeUnitOfWork:
        self._pending = []
        self._saved = {n: r.snapshot() for n, r in self._repositories().items()}
        return self

    def __exit__(self, *exc: object) -> None:
        if self._saved:  # left without commit: nothing written stays
            self.rollback()
        self._pending = []

    def commit(self) -> None:
        self.published.extend(self._pending)
        self._pending = []
        self._saved = {}
        self.commits += 1

    def rollback(self) -> None:
        for name, state in self._saved.items():
            getattr(self, name).restore(state)
        self._saved = {}
        self._pending = []

    def read_only(self) -> FakeUnitOfWork:
        return self

    def publish(self, event: Any, *, correlation_id: str | None = None) -> str:
        self._pending.append(event)
        return str(len(self.published) + len(self._pending))
