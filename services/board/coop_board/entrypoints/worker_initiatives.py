"""The initiatives' part of the board worker (entrypoints/worker.py, `# --- initiatives`
section): the timer's work. No nameko here.

Every pass is safe to run twice, or at once in two replicas: each initiative is changed under its
row lock taken with SKIP LOCKED, and each change is conditional on the state it leaves (a second
run finds nothing due). One initiative's failure (an agenda hook refusing, say) is logged and
retried on the next pass; it never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop_board.adapters.metrics_initiatives import refresh_overdue
from coop_board.domain.initiatives import InitiativeRules
from coop_board.entrypoints.settings_initiatives import initiative_rules, tick_seconds
from coop_board.service_layer.initiatives import default_admissibility
from coop_board.service_layer.initiatives_collection import flag_overdue, settle

log = logging.getLogger(__name__)

TICK_SECONDS = tick_seconds()
BATCH = 500


def _due(uow_factory: Callable[[], Any], what: str, now: datetime) -> list[tuple[str, str]]:
    uow = uow_factory()
    with uow:
        uow.read_only()
        return uow.initiatives.due(what, now, BATCH)


def initiatives_tick(uow_factory: Callable[[], Any], now: datetime,
                     rules: InitiativeRules | None = None) -> dict[str, int]:
    """Admissible by default, progress marks and qualification (backstop of the deciding
    signature), expiry at the deadline, overdue outcomes; then the overdue gauge. Returns how
    many initiatives each pass changed."""
    rules = rules or initiative_rules()
    done = {"admissible_by_default": 0, "qualified": 0, "expired": 0, "marks": 0, "overdue": 0}
    passes: list[tuple[str, Callable[[str, str], Any]]] = [
        ("admissibility", lambda t, k: "admissible_by_default" if default_admissibility(
            uow_factory(), t, k, now, rules) else ""),
        ("threshold", lambda t, k: settle(uow_factory(), t, k, now, rules)),
        ("expiry", lambda t, k: settle(uow_factory(), t, k, now, rules)),
        ("overdue", lambda t, k: "overdue" if flag_overdue(uow_factory(), t, k, now) else ""),
    ]
    for what, act in passes:
        for tenant, initiative_id in _due(uow_factory, what, now):
            try:
                happened = act(tenant, initiative_id)
            except Exception:  # noqa: BLE001 - one initiative never stops the others; retried next pass
                log.exception("initiatives timer: %s of %s failed", what, initiative_id)
                continue
            if happened:
                done[happened] += 1
    refresh_overdue(uow_factory())
    return done
