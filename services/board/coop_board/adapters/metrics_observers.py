"""Prometheus metrics of open sessions: business totals per tenant, never per person or meeting.

The gauges cover the meetings open to observers that have not started yet; the worker refreshes
them from the database (`refresh_gauges`, on its observers timer), so every api process and
replica reports the same figures. The counters count the api's writes."""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from prometheus_client import Counter, Gauge

SEATS = Gauge("coop_board_observer_seats", "Observer seats offered by meetings not started yet.", ["tenant"])
SEATS_TAKEN = Gauge("coop_board_observer_seats_taken", "Observer seats held, meetings not started yet.", ["tenant"])
WAITING = Gauge("coop_board_observers_waiting", "Members on observer waiting lists, meetings not started yet.",
                ["tenant"])
REGISTRATIONS = Counter("coop_board_observer_registrations_total",
                        "Observer registrations by their outcome (seated or waiting).", ["status"])
CHECK_INS = Counter("coop_board_observer_check_ins_total", "Observers checked in at the door.")

_reported: set[str] = set()


def gauge_interval(value: str | None = None) -> float:
    """How often the worker refreshes the gauges: COOP_BOARD_OBSERVER_GAUGE_SECONDS (default 30)."""
    text = os.environ.get("COOP_BOARD_OBSERVER_GAUGE_SECONDS") if value is None else value
    seconds = float(text) if text else 30.0
    if not 1 <= seconds <= 3600:
        raise ValueError(f"COOP_BOARD_OBSERVER_GAUGE_SECONDS must be between 1 and 3600, got {text!r}")
    return seconds


def refresh_gauges(uow: Any, now: datetime) -> dict[str, tuple[int, int, int]]:
    """Set the gauges from the database; a tenant without upcoming sessions goes back to 0."""
    with uow:
        uow.read_only()
        rows = uow.observers.totals(now)
    current = {tenant: (seats, taken, waiting) for tenant, seats, taken, waiting in rows}
    for tenant in _reported | set(current):
        seats, taken, waiting = current.get(tenant, (0, 0, 0))
        SEATS.labels(tenant=tenant).set(seats)
        SEATS_TAKEN.labels(tenant=tenant).set(taken)
        WAITING.labels(tenant=tenant).set(waiting)
    _reported.update(current)
    return current
