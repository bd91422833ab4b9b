"""Prometheus metrics of member initiatives: per tenant or per kind of change, never per person.

coop_board_outcomes_overdue{tenant}: initiatives whose outcome is overdue and still not published
(the worker sets it from the database on its initiatives timer; alert CoopBoardOutcomesOverdue).
coop_board_initiative_signatures_total{change}: signatures recorded and withdrawn by the api."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge

OUTCOMES_OVERDUE = Gauge("coop_board_outcomes_overdue",
                         "Member initiatives whose board outcome is overdue and not published yet.", ["tenant"])
SIGNATURES = Counter("coop_board_initiative_signatures_total",
                     "Initiative signatures recorded (signed) and withdrawn (withdrawn).", ["change"])

_reported: set[str] = set()


def refresh_overdue(uow: Any) -> dict[str, int]:
    """Set the gauge from the database; a tenant with none overdue any more goes back to 0."""
    with uow:
        uow.read_only()
        current = uow.initiatives.overdue_counts()
    for tenant in _reported | set(current):
        OUTCOMES_OVERDUE.labels(tenant=tenant).set(current.get(tenant, 0))
    _reported.update(current)
    return current
