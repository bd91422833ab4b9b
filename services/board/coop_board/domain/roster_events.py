"""Events of the roster (adapters/events_out_roster.py names them mandate.started and
mandate.ended)."""

from __future__ import annotations

from dataclasses import dataclass

from coop_board.domain.roster import Mandate


@dataclass(frozen=True)
class MandateStarted:
    mandate: Mandate


@dataclass(frozen=True)
class MandateEnded:
    mandate: Mandate
