"""The notifications worker's metrics (served on COOP_METRICS_PORT with the platform's)."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge

from coop_notifications.domain.catalog import Priority
from coop_notifications.domain.ledger import Delivery, State
from coop_notifications.service_layer.ports import NotificationsUnitOfWork

QUEUE_DEPTH = Gauge("coop_notifications_queue_depth",
                    "E-mail deliveries not yet handed to the relay (pending, deferred, claimed), per class.",
                    ["priority"])
OLDEST_LEGAL_AGE = Gauge("coop_notifications_oldest_pending_legal_age_seconds",
                         "Age of the oldest legal notice (convocation) not yet handed to the relay; 0 when none.")
OUTCOMES = Counter("coop_notifications_deliveries_total",
                   "E-mail deliveries by outcome (submitted = sent, deferred, bounced, suppressed), per class.",
                   ["outcome", "priority"])
TEMPLATE_ERRORS = Counter("coop_notifications_template_errors_total",
                          "Deliveries that could not be rendered (suppressed; see the log line).")

_COUNTED = {State.SUBMITTED: "submitted", State.DEFERRED: "deferred", State.BOUNCED: "bounced",
            State.SUPPRESSED: "suppressed"}


def count_outcome(d: Delivery) -> None:
    if d.state in _COUNTED:
        OUTCOMES.labels(outcome=_COUNTED[d.state], priority=d.priority.value).inc()


def refresh_gauges(uow: NotificationsUnitOfWork, now: datetime) -> dict[str, float]:
    """Queue depth per class and the oldest pending legal notice's age, read from the ledger."""
    with uow:
        uow.read_only()
        depth = uow.ledger.queue_depth()
        oldest = uow.ledger.oldest_pending_legal()
    for priority in Priority:
        QUEUE_DEPTH.labels(priority=priority.value).set(depth.get(priority.value, 0))
    age = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    OLDEST_LEGAL_AGE.set(age)
    return {**{f"depth_{k}": float(v) for k, v in depth.items()}, "oldest_legal_age": age}
