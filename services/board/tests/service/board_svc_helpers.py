"""Helpers of the board's api tests: a settable clock and the running api."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import grpc

from coop_domain.clock import FixedClock

#: The tests' default "now": a Monday in the board's year.
START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


@dataclass
class BoardEnv:
    channel: grpc.Channel
    clock: FixedClock
    engine: Any
    uow_factory: Any
    pg_url: str
    _stubs: dict[type, Any] = field(default_factory=dict)

    def stub(self, stub_class: type) -> Any:
        """One stub per generated stub class (RosterServiceStub, MeetingServiceStub, ...)."""
        if stub_class not in self._stubs:
            self._stubs[stub_class] = stub_class(self.channel)
        return self._stubs[stub_class]
