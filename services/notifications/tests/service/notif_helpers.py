"""Helpers of the notifications api tests: a settable clock, the running api, tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc

from coop_domain.clock import FixedClock
from coop_testkit import bearer

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)

ADMIN = bearer("admin-1", "admin")
OTHER_ADMIN = bearer("admin-9", "admin", tenant="other")


def seed_member(env: NotifEnv, email: bool = True, language: str = "nl") -> str:
    """A new member known to the recipients projection; their id."""
    import uuid

    from coop_domain.membership import MemberChanged, MemberContact
    from coop_notifications.service_layer.recipients import apply_member_fact

    mid = f"m-{uuid.uuid4().hex[:10]}"
    with env.uow_factory() as uow:
        apply_member_fact(uow, MemberChanged(mid, START, status="active", contact=MemberContact(
            "M1", "Ana", f"{mid}@example.org" if email else "", language)))
        uow.commit()
    return mid


def member(member_id: str) -> list[tuple[str, str]]:
    return bearer(member_id, "member")


#: every role that is neither member nor admin (refused on every call)
OTHER_ROLES = ("board", "teller", "service", "partner", "director", "secretary", "management")


@dataclass
class NotifEnv:
    channel: grpc.Channel
    clock: FixedClock
    engine: Any
    uow_factory: Any
    pg_url: str
    _stubs: dict[type, Any] = field(default_factory=dict)

    def stub(self, stub_class: type) -> Any:
        if stub_class not in self._stubs:
            self._stubs[stub_class] = stub_class(self.channel)
        return self._stubs[stub_class]
