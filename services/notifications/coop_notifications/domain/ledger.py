"""The delivery ledger: one row per event x recipient x channel, and its state machine.

    pending --claim--> claimed (lease) --submitted--> submitted --(bounce)--> bounced
       ^                  |  |  \\--deferred (4xx, backoff)--> deferred --claim--> claimed ...
       |                  |  \\--rejected (5xx) / no address / opted out--> suppressed
       \\--lease expired--/
    submitted --(confirmed: in-app, file sink, IMAP)--> delivered

A claimed row whose lease ran out (the worker died) is claimable again; the Message-ID comes
from the row's key, so a message sent again after a crash is the same message. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from coop_notifications.domain.catalog import Priority


class State(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    DEFERRED = "deferred"
    BOUNCED = "bounced"
    SUPPRESSED = "suppressed"


class Channel(StrEnum):
    EMAIL = "email"
    INAPP = "inapp"


TERMINAL = frozenset({State.DELIVERED, State.BOUNCED, State.SUPPRESSED})
#: states a worker may claim (when due); a claimed row too once its lease ran out
CLAIMABLE = frozenset({State.PENDING, State.DEFERRED})

PRIORITY_RANK = {Priority.LEGAL: 0, Priority.TRANSACTIONAL: 1, Priority.REMINDER: 2, Priority.DIGESTIBLE: 3}

#: after this many deferrals the address is given up on (suppressed, legal: postal list)
MAX_ATTEMPTS = 12
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)

_KEY_NAMESPACE = uuid.UUID("9d8b7c0e-6a51-4f7e-9a0e-13c0b5e0a113")


class IllegalTransition(ValueError):
    pass


def delivery_key(event_id: str, recipient_id: str, channel: str) -> str:
    """The row's key: the same event, recipient and channel always give the same key."""
    return uuid.uuid5(_KEY_NAMESPACE, f"{event_id}\x1f{recipient_id}\x1f{channel}").hex


def message_id(key: str, domain: str) -> str:
    """RFC 5322 Message-ID of the delivery (stable across crashes and resends)."""
    return f"<{key}@{domain}>"


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after `attempts` deferrals: 30 s doubling, capped at 2 h."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (2 ** max(0, attempts - 1)))


def address_digest(address: str) -> str:
    """How the suppression list names an address (no address stored)."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Delivery:
    delivery_key: str
    tenant: str
    event_id: str
    recipient_id: str
    channel: Channel
    notification: str
    priority: Priority
    category: str
    context: dict[str, Any]
    state: State
    attempts: int
    due_at: datetime
    created_at: datetime
    updated_at: datetime
    lease_until: datetime | None = None
    claimed_by: str | None = None
    submitted_at: datetime | None = None
    last_code: int | None = None
    last_detail: str | None = None
    read_at: datetime | None = None
    archived_at: datetime | None = None

    @property
    def priority_rank(self) -> int:
        return PRIORITY_RANK[self.priority]

    def claimable(self, now: datetime) -> bool:
        if self.state in CLAIMABLE:
            return self.due_at <= now
        return self.state == State.CLAIMED and self.lease_until is not None and self.lease_until <= now


def new_delivery(*, tenant: str, event_id: str, recipient_id: str, channel: Channel, notification: str,
                 priority: Priority, category: str, context: dict[str, Any], now: datetime) -> Delivery:
    """A new row: e-mail starts pending; an in-app message is delivered by being stored."""
    state = State.DELIVERED if channel == Channel.INAPP else State.PENDING
    return Delivery(delivery_key(event_id, recipient_id, channel), tenant, event_id, recipient_id, channel,
                    notification, priority, category, context, state, 0, now, now, now)


def _require(d: Delivery, *states: State) -> None:
    if d.state not in states:
        raise IllegalTransition(f"delivery {d.delivery_key} is {d.state}, not {' or '.join(states)}")


def claim(d: Delivery, worker: str, now: datetime, lease: timedelta) -> Delivery:
    if not d.claimable(now):
        raise IllegalTransition(f"delivery {d.delivery_key} is {d.state} and not claimable at {now}")
    return replace(d, state=State.CLAIMED, claimed_by=worker, lease_until=now + lease, updated_at=now)


def submitted(d: Delivery, now: datetime, code: int | None = None, detail: str = "") -> Delivery:
    _require(d, State.CLAIMED)
    return replace(d, state=State.SUBMITTED, attempts=d.attempts + 1, submitted_at=now, lease_until=None,
                   last_code=code, last_detail=detail[:500], updated_at=now)


def delivered(d: Delivery, now: datetime) -> Delivery:
    _require(d, State.SUBMITTED, State.DELIVERED)
    return replace(d, state=State.DELIVERED, updated_at=now)


def deferred(d: Delivery, now: datetime, code: int | None, detail: str) -> Delivery:
    """A temporary failure: try again after the backoff, or give up after MAX_ATTEMPTS."""
    _require(d, State.CLAIMED)
    attempts = d.attempts + 1
    if attempts >= MAX_ATTEMPTS:
        return replace(d, state=State.SUPPRESSED, attempts=attempts, lease_until=None, last_code=code,
                       last_detail=f"gave up after {attempts} attempts: {detail}"[:500], updated_at=now)
    return replace(d, state=State.DEFERRED, attempts=attempts, due_at=now + backoff(attempts),
                   lease_until=None, last_code=code, last_detail=detail[:500], updated_at=now)


def suppressed(d: Delivery, now: datetime, reason: str, code: int | None = None) -> Delivery:
    """Not sent, for good: refused (5xx), no address, a suppressed address, or opted out."""
    _require(d, State.PENDING, State.CLAIMED, State.DEFERRED)
    return replace(d, state=State.SUPPRESSED, lease_until=None, last_code=code, last_detail=reason[:500],
                   updated_at=now)


def bounced(d: Delivery, now: datetime, detail: str) -> Delivery:
    _require(d, State.SUBMITTED, State.DELIVERED)
    return replace(d, state=State.BOUNCED, last_detail=detail[:500], updated_at=now)


def outcome(d: Delivery, kind: str, code: int | None, detail: str, now: datetime) -> Delivery:
    """A Sender's SendOutcome applied to the claimed row."""
    if kind == "submitted":
        return submitted(d, now, code, detail)
    if kind == "deferred":
        return deferred(d, now, code, detail)
    if kind == "rejected":
        return suppressed(d, now, detail or "rejected", code)
    raise ValueError(f"unknown send outcome {kind!r}")


def needs_postal_fallback(d: Delivery) -> bool:
    """A legal notice that no e-mail will carry: the admin's postal list."""
    return d.priority == Priority.LEGAL and d.channel == Channel.EMAIL and d.state in (
        State.BOUNCED, State.SUPPRESSED)
