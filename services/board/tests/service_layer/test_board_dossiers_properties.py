"""Random sequences of dossier commands on the in-memory fakes (tests/board_dossiers_machine.py):
after every step, every submitted version is kept exactly as submitted, no amendment is deeper
than two levels, and a refused command changed nothing. Over 10,000 steps in all."""

from __future__ import annotations

from datetime import date

from board_dossiers_machine import DIRECTORS, DossierMachineBase
from board_fakes import FakeUnitOfWork
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from coop_board.domain.dossiers import Dossier


class FakeDossierMachine(DossierMachineBase):
    steps: dict[str, int] = {}

    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeUnitOfWork()
        for director in DIRECTORS:  # directors amend only while sitting
            self.uow.roster.seat(director.subject, date(2000, 1, 1), date(2100, 1, 1))

    def new_uow(self) -> FakeUnitOfWork:
        return self.uow

    def stored(self) -> dict[str, Dossier]:
        return {d.dossier_id: d for d in self.uow.dossiers.dossiers.values()}  # read, not copied


def test_dossier_versions_are_kept_and_amendments_stay_two_levels_deep_over_random_commands() -> None:
    FakeDossierMachine.steps.clear()
    run_state_machine_as_test(FakeDossierMachine, settings=settings(
        max_examples=250, stateful_step_count=60, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    steps = FakeDossierMachine.steps
    assert steps["count"] >= 10_000, steps
    assert steps.get("level2") and steps.get("v2"), steps  # sub-amendments and second versions were reached
