"""Turn one notification (an event's, for some members) into delivery rows: one per channel and
recipient, in the event's transaction. A replayed or redelivered event finds its rows already
there (unique event x recipient x channel) and creates nothing new.

Per recipient: an in-app row (delivered by being stored) and an e-mail row (pending). The e-mail
row is stored suppressed at once when the member opted out of the category (never for legal
notices) or has no address (a legal notice then lands on the postal list); the in-app row is
left out for an opt-out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from coop_notifications.domain import ledger
from coop_notifications.domain.catalog import NotificationSpec
from coop_notifications.domain.ledger import Channel, Delivery
from coop_notifications.domain.preferences import wanted
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def plan_rows(spec: NotificationSpec, *, tenant: str, event_id: str, members: Iterable[str],
              context: dict[str, Any], reachable: set[str], opted_out: dict[str, set[str]],
              now: datetime) -> list[Delivery]:
    """The rows of one notification (pure)."""
    rows: list[Delivery] = []
    for member_id in dict.fromkeys(members):
        common = dict(tenant=tenant, event_id=event_id, recipient_id=member_id, notification=spec.name,
                      priority=spec.priority, category=spec.category.value, context=context, now=now)
        email = ledger.new_delivery(channel=Channel.EMAIL, **common)
        if not wanted(spec, opted_out.get(member_id, set())):
            rows.append(replace(email, state=ledger.State.SUPPRESSED, last_detail="opted out"))
            continue
        rows.append(ledger.new_delivery(channel=Channel.INAPP, **common))
        if member_id not in reachable:
            rows.append(replace(email, state=ledger.State.SUPPRESSED, last_detail="no e-mail address"))
        else:
            rows.append(email)
    return rows


@dataclass(frozen=True)
class Notification:
    """One notification to store: its spec, for some members of a tenant, from one event."""

    spec: NotificationSpec
    tenant: str
    event_id: str
    members: Sequence[str]
    context: dict[str, Any]


def notify_many(uow: NotificationsUnitOfWork, notifications: Sequence[Notification], now: datetime) -> int:
    """Store the rows of several notifications in the caller's transaction, with one read of the
    recipients, one of their preferences (per tenant) and one insert for all; returns how many
    rows were new."""
    wanted_ids: dict[str, dict[str, None]] = {}
    for n in notifications:
        wanted_ids.setdefault(n.tenant, {}).update(dict.fromkeys(n.members))
    reachable: dict[str, set[str]] = {}
    opted_out: dict[str, dict[str, set[str]]] = {}
    for tenant, ids in wanted_ids.items():
        if not ids:
            continue
        known = uow.recipients.get_many(tenant, ids)
        reachable[tenant] = {m for m, r in known.items() if r.reachable_by_email}
        opted_out[tenant] = uow.preferences.opted_out(tenant, ids)
    rows: list[Delivery] = []
    for n in notifications:
        if n.members:
            rows += plan_rows(n.spec, tenant=n.tenant, event_id=n.event_id, members=n.members, context=n.context,
                              reachable=reachable[n.tenant], opted_out=opted_out[n.tenant], now=now)
    return uow.ledger.add_many(rows) if rows else 0


def notify(uow: NotificationsUnitOfWork, spec: NotificationSpec, *, tenant: str, event_id: str,
           members: Iterable[str], context: dict[str, Any], now: datetime) -> int:
    """Store the rows of one notification in the caller's transaction; returns how many were new."""
    return notify_many(uow, [Notification(spec, tenant, event_id, list(members), context)], now)
