"""The same random dossier commands as on the fakes (tests/board_dossiers_machine.py), on
PostgreSQL through the SQL repository: what is saved and read back keeps every version as
submitted, amendments at most two levels deep, and a refused command writes nothing. Fewer
steps than on the fakes (the fakes' run is the 10,000-step one): this one checks the SQL
repository agrees with the rules."""

from __future__ import annotations

import pytest
from board_dossiers_helpers import sitting_directors  # noqa: F401 - autouse: the machine's directors sit
from board_dossiers_machine import DossierMachineBase
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test

from coop_board.domain.dossiers import Dossier

pytestmark = pytest.mark.postgres


def test_sql_repository_keeps_versions_and_depth_over_random_commands(env) -> None:
    class SqlDossierMachine(DossierMachineBase):
        steps: dict[str, int] = {}

        def new_uow(self):
            return env.uow_factory()

        def stored(self) -> dict[str, Dossier]:
            uow = env.uow_factory()
            with uow:
                return {i: uow.dossiers.get("coop", i) for i in self.dossier_ids}

    run_state_machine_as_test(SqlDossierMachine, settings=settings(
        max_examples=10, stateful_step_count=25, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert SqlDossierMachine.steps["count"] >= 150, SqlDossierMachine.steps
