"""The digest job: each member's digestible e-mail of the period that ended, in one digest.

Per member, in one transaction: lock their waiting digestible rows of the period, store the
digest row (event id = member x frequency x period: unique in the ledger), and only if it was
new mark the gathered rows delivered into it. A second job at the same moment waits on the
locks, finds the rows gone or its digest already there, and sends nothing: at most one digest
per member and period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, time

from coop_notifications.domain import ledger
from coop_notifications.domain.catalog import spec
from coop_notifications.domain.digest import (
    DEFAULT_FREQUENCY,
    digest_event_id,
    period_end,
    period_start,
)
from coop_notifications.domain.ledger import Channel, State
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def _midnight(day) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def run_digests(uow_factory: Callable[[], NotificationsUnitOfWork], now: datetime) -> int:
    """Store the digests due at `now`; returns how many were new."""
    earliest_end = _midnight(now.date())  # no period ends later than today's midnight
    with uow_factory() as uow:
        uow.read_only()
        candidates = uow.ledger.digest_candidates(earliest_end)
    made = 0
    for tenant, member_id in candidates:
        with uow_factory() as uow:
            frequency = uow.digest_frequencies.get(tenant, member_id) or DEFAULT_FREQUENCY
            start = period_start(frequency, now)
            rows = uow.ledger.lock_digestible(tenant, member_id, _midnight(period_end(frequency, start)))
            if not rows:
                continue
            digest = ledger.new_delivery(
                tenant=tenant, event_id=digest_event_id(tenant, member_id, frequency, start), recipient_id=member_id,
                channel=Channel.EMAIL, notification="digest", priority=spec("digest").priority,
                category=spec("digest").category.value, now=now,
                context={"period": frequency, "period_start": start.isoformat(),
                         "items": [{"notification": d.notification, "context": d.context} for d in rows]})
            if uow.ledger.add_many([digest]) == 1:
                for d in rows:
                    uow.ledger.save(replace(d, state=State.DELIVERED, last_detail=f"in digest {digest.delivery_key}",
                                            updated_at=now))
                made += 1
            uow.commit()
    return made
