"""The roster family's events on the board's translator (adapters/events_out.py)."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.roster_events import MandateEnded, MandateStarted
from coop_platform.pbtypes import to_date

END_REASONS = {
    "term_completed": events_pb2.MANDATE_END_REASON_TERM_COMPLETED,
    "resignation": events_pb2.MANDATE_END_REASON_RESIGNATION,
    "death": events_pb2.MANDATE_END_REASON_DEATH,
    "exclusion": events_pb2.MANDATE_END_REASON_EXCLUSION,
}


@translate.register
def _started(event: MandateStarted) -> tuple[str, Any, str | None]:
    m = event.mandate
    return "mandate.started", events_pb2.MandateStarted(
        mandate_id=m.mandate_id, tenant=m.tenant, director_id=m.director_id, seat_id=m.seat_id,
        start_date=to_date(m.start), end_date=to_date(m.end), election_id=m.election_id or ""), m.mandate_id


@translate.register
def _ended(event: MandateEnded) -> tuple[str, Any, str | None]:
    m = event.mandate
    return "mandate.ended", events_pb2.MandateEnded(
        mandate_id=m.mandate_id, tenant=m.tenant, director_id=m.director_id, seat_id=m.seat_id,
        ended_on=to_date(m.ended_on), reason=END_REASONS.get(m.end_reason or "", 0)), m.mandate_id
