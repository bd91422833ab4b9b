"""The minutes family's events on the board's translator (adapters/events_out.py)."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.minutes_events import MinutesPublished
from coop_platform.pbtypes import to_date, to_timestamp


@translate.register
def _published(event: MinutesPublished) -> tuple[str, Any, str | None]:
    return "minutes.published", events_pb2.MinutesPublished(
        minutes_id=event.minutes_id, tenant=event.tenant, meeting_id=event.meeting_id,
        meeting_date=to_date(event.meeting_date), published_at=to_timestamp(event.published_at),
        erratum_of=event.erratum_of or ""), event.minutes_id
