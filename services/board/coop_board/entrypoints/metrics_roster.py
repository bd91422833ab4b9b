"""The roster's business gauges (no per-person labels), set by the worker's roster timer."""

from __future__ import annotations

from datetime import date
from typing import Any

from prometheus_client import Gauge

from coop_board.domain.roster import RosterSettings
from coop_board.service_layer.roster import roster_of

SITTING = Gauge("coop_board_sitting_directors", "Directors sitting on the board today.", ["tenant"])
VACANT = Gauge("coop_board_vacant_seats", "Seats of the board without a director today.", ["tenant"])
COMPOSITION_OK = Gauge("coop_board_composition_ok",
                       "1 when today's board keeps the composition rule (COOP_BOARD_COMPOSITION), else 0.",
                       ["tenant"])
NOT_IN_GOOD_STANDING = Gauge("coop_board_directors_not_in_good_standing",
                             "Sitting directors flagged as no longer members in good standing.", ["tenant"])


def update_roster_gauges(uow: Any, tenants: tuple[str, ...], today: date, settings: RosterSettings) -> None:
    with uow:
        reader = uow.read_only()
        for tenant in tenants:
            day = roster_of(reader, tenant, today, settings)
            SITTING.labels(tenant=tenant).set(len(day.sitting))
            VACANT.labels(tenant=tenant).set(len(day.vacancies))
            COMPOSITION_OK.labels(tenant=tenant).set(1 if day.composition.ok else 0)
            NOT_IN_GOOD_STANDING.labels(tenant=tenant).set(
                sum(1 for line in day.sitting if "NOT_IN_GOOD_STANDING" in line.flags))
