"""Membership's events -> typed facts for service_layer/handlers.py (the worker's edge).

The parsing is the platform's (`coop_platform.membership_facts`, shared with the board's
projection); this module hands the fact to this service's handler.
"""

from __future__ import annotations

from typing import Any

from coop_elections.service_layer.handlers import apply_member_fact
from coop_elections.service_layer.ports import ElectionsUnitOfWork
from coop_platform.membership_facts import MalformedEvent, event_name, member_fact

__all__ = ["MalformedEvent", "apply_member_event", "event_name", "member_fact"]


def apply_member_event(uow: ElectionsUnitOfWork, envelope: dict[str, Any]) -> None:
    """The inbox's effect (coop_platform.inbox.process_once): parse at the edge, hand the
    handler its typed fact, in the inbox's transaction."""
    apply_member_fact(uow, member_fact(envelope))
