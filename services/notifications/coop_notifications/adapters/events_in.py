"""Consumed events -> typed facts for the service layer (the worker's edge).

Membership's events are parsed by the platform (`coop_platform.membership_facts`, shared with
the elections and board projections; it reads the contact data of member.admitted and
member.updated too); this module hands the fact to the recipients projection.
"""

from __future__ import annotations

from typing import Any

from coop_notifications.service_layer.ports import NotificationsUnitOfWork
from coop_notifications.service_layer.recipients import apply_member_fact
from coop_platform.membership_facts import MalformedEvent, event_name, member_fact

__all__ = ["MalformedEvent", "apply_member_event", "event_name"]


def apply_member_event(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    """The inbox's effect (coop_platform.inbox.process_once): the recipients projection."""
    apply_member_fact(uow, member_fact(envelope))
