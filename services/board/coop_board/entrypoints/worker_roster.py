"""The roster's part of the board worker (entrypoints/worker.py, `# --- roster` section): what it
consumes, its settings and its timer's work. No nameko here: the worker module holds the
handlers and the timer, and calls these.

COOP_BOARD_ROSTER_TICK_SECONDS: how often the timer runs (default 60 s).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from coop_board.entrypoints.metrics_roster import update_roster_gauges
from coop_board.entrypoints.roster_settings import roster_settings
from coop_board.service_layer.roster import complete_terms
from coop_platform.config import seconds_setting

ROSTER = roster_settings()
#: the roster's consumed events: (source service, event) -> handler method
CONSUMED = {
    ("elections", "election.results_published"): "on_election_results_published",
    ("membership", "member.admitted"): "on_member_admitted",
    ("membership", "member.updated"): "on_member_updated",
    ("membership", "member.status_changed"): "on_member_status_changed",
    ("membership", "share.paid"): "on_share_paid",
    ("membership", "member.erased"): "on_member_erased",
}


def tick_seconds(value: str | None = None) -> float:
    """How often the roster's timer runs (COOP_BOARD_ROSTER_TICK_SECONDS, default 60 s)."""
    return seconds_setting("COOP_BOARD_ROSTER_TICK_SECONDS", 60.0, value=value)


TICK_SECONDS = tick_seconds()


def roster_tick(uow_factory: Callable[[], Any], today: date) -> int:
    """Record the mandates whose term has come to its end (mandate.ended) and set the gauges."""
    completed = complete_terms(uow_factory(), today)
    update_roster_gauges(uow_factory(), ROSTER.election_tenants, today, ROSTER)
    return completed
