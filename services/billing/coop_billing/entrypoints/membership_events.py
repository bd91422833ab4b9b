"""Which membership events billing consumes, and how each becomes a handler call: the envelope
is parsed into a typed fact at the edge (adapters/events_in.py), then handled
(service_layer/handlers.py) in the inbox's transaction. Kept apart from worker.py, which
monkey-patches eventlet on import, so the gRPC-side tests feed the projection the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from coop_billing import SERVICE_NAME
from coop_billing.adapters import events_in
from coop_billing.service_layer import handlers
from coop_domain.principal import system_principal
from coop_platform.inbox import process_once

SYSTEM = system_principal(SERVICE_NAME)

def _consumer(method: str, parse: Callable[[dict[str, Any]], Any],
              handler: Callable[..., None]) -> tuple[str, Callable[[Any, dict[str, Any]], None]]:
    return method, events_in.effect(parse, handler, SYSTEM)


#: membership event name -> (the worker's method, the inbox effect)
CONSUMED: dict[str, tuple[str, Callable[[Any, dict[str, Any]], None]]] = {
    "member.admitted": _consumer("on_member_admitted", events_in.member_admitted, handlers.on_member_admitted),
    "member.updated": _consumer("on_member_updated", events_in.member_updated, handlers.on_member_updated),
    "member.status_changed": _consumer("on_member_status_changed", events_in.member_status_changed,
                                       handlers.on_member_status_changed),
    "share.paid": _consumer("on_share_paid", events_in.member_share_paid, handlers.on_member_share_paid),
    "member.erased": _consumer("on_member_erased", events_in.member_erased, handlers.on_member_erased),
}


def handle(uow_factory: Callable[[], Any], name: str, envelope: dict[str, Any]) -> bool:
    """Apply membership event `name` once (False: a duplicate, skipped)."""
    method, effect = CONSUMED[name]
    return process_once(uow_factory, f"billing.{method}", envelope, effect)
