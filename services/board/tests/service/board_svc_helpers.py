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


def schema_diffs(pg_url: str, mentions: tuple[str, ...]) -> list[Any]:
    """alembic's differences between the migrated database and the code's tables, those whose
    text mentions one of `mentions` (a family's tables): [] when migrations and code agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from coop_board.adapters.orm import metadata

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()
    return [d for d in diffs if any(name in repr(d) for name in mentions)]
