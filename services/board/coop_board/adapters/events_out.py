"""Domain events -> (event name, protobuf message, subject): the unit of work's translator.
The messages are coop.board.v1's events (proto/coop/board/v1/events.proto). Each family
registers its events in its own module (events_out_<family>.py) on `translate`."""

from __future__ import annotations

from functools import singledispatch
from typing import Any


@singledispatch
def translate(event: Any) -> tuple[str, Any, str | None]:
    raise TypeError(f"the board service publishes no {type(event).__name__}")


# Each family's module registers its events on `translate` when imported.
from coop_board.adapters import (  # noqa: E402,F401
    events_out_assembly,
    events_out_dossiers,
    events_out_initiatives,
    events_out_meetings,
    events_out_minutes,
    events_out_observers,
    events_out_roster,
)
