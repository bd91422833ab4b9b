"""The board worker's initiatives section (its nameko timer, on the worker's own database): a
submitted initiative nobody decided on becomes admissible by default once, however often the
timer runs, and the overdue gauge is set."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import worker_factory
from prometheus_client import REGISTRY

from coop_board.domain.initiatives import InitiativeRules
from coop_board.domain.texts import LocalizedText
from coop_board.entrypoints import worker as worker_module
from coop_board.entrypoints.settings_initiatives import tick_seconds
from coop_board.service_layer import initiatives
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
RULES = InitiativeRules(promoters=1)


def _submitted() -> str:
    uow_factory = worker_module.uow_factory
    uow = uow_factory()
    with uow:
        for n in (1, 2):
            uow.members.project(f"w-mem-{n}", NOW, status="active", in_good_standing=True)
        uow.commit()
    author, promoter = (Principal(f"w-mem-{n}", "coop", frozenset({"member"})) for n in (1, 2))
    text = LocalizedText(en="Open the venue again")
    iid = initiatives.draft_initiative(uow_factory(), author, "en", text, text, text, NOW, RULES).initiative.initiative_id
    initiatives.invite_promoters(uow_factory(), author, iid, [promoter.subject], NOW)
    initiatives.answer_invitation(uow_factory(), promoter, iid, True, NOW)
    initiatives.submit_initiative(uow_factory(), author, iid, NOW, InitiativeRules(promoters=1, admissibility_days=14))
    return iid


def test_the_timer_makes_an_undecided_initiative_admissible_by_default_once(monkeypatch: pytest.MonkeyPatch) -> None:
    iid = _submitted()
    monkeypatch.setattr(worker_module, "now", lambda: NOW + timedelta(days=14))
    first = worker_factory(worker_module.BoardWorker).initiatives_timer()
    second = worker_factory(worker_module.BoardWorker).initiatives_timer()
    assert first["admissible_by_default"] == 1 and second["admissible_by_default"] == 0
    uow = worker_module.uow_factory()
    with uow:
        found = uow.initiatives.get("coop", iid)
    assert found is not None and found.status == "collecting" and found.admissible_by_default
    assert REGISTRY.get_sample_value("coop_board_outcomes_overdue", {"tenant": "coop"}) in (None, 0.0)


def test_the_initiatives_timer_interval_is_at_most_a_minute() -> None:
    assert tick_seconds({}) == 30
    with pytest.raises(ValueError, match="COOP_BOARD_INITIATIVE_TICK_SECONDS"):
        tick_seconds({"COOP_BOARD_INITIATIVE_TICK_SECONDS": "120"})
