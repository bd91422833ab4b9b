"""Consumed events -> typed facts and notices for the service layer (the worker's edge).

Membership's events update the recipients projection, parsed by the platform
(`coop_platform.membership_facts`, shared with the elections and board projections; it reads the
contact data of member.admitted and member.updated too). Every event of adapters/event_map.py
becomes a Notice and its delivery rows, in the same transaction (the projection first, so a
welcome finds the new member's address).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop_notifications.adapters.event_map import BY_EVENT, Route, notice_of, read_data
from coop_notifications.service_layer.handlers import apply_notice
from coop_notifications.service_layer.ports import ElectionRolls, NotificationsUnitOfWork
from coop_notifications.service_layer.recipients import apply_member_fact
from coop_platform.envelope import source_service_of
from coop_platform.membership_facts import (
    MEMBERSHIP_EVENTS,
    MalformedEvent,
    event_name,
    member_fact,
)

__all__ = ["CONSUMED", "MalformedEvent", "apply_member_event", "effect_for", "event_name"]

#: (source service, routing key) of every event the worker consumes
CONSUMED: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(
    [("membership", name) for name in MEMBERSHIP_EVENTS] + list(BY_EVENT)))


def apply_member_event(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    """The recipients projection's effect of one membership event."""
    apply_member_fact(uow, member_fact(envelope))


def effect_for(source: str, event: str, rolls: ElectionRolls, clock: Callable[[], datetime]
               ) -> Callable[[NotificationsUnitOfWork, dict[str, Any]], None]:
    """The inbox effect (coop_platform.inbox.process_once) of one consumed event."""
    route: Route | None = BY_EVENT.get((source, event))
    projects = source == "membership" and event in MEMBERSHIP_EVENTS

    def effect(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
        if source_service_of(envelope) != source or event_name(envelope) != event:
            raise MalformedEvent(f"expected {source} {event}, got {envelope.get('type')}")
        if projects:
            apply_member_event(uow, envelope)
        if route is not None:
            apply_notice(uow, notice_of(route, read_data(route, envelope)), str(envelope["id"]), rolls, clock())
    return effect
