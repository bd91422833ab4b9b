"""What the meetings family tells the initiatives family (owned by the initiatives family)."""

from __future__ import annotations

from datetime import datetime

from coop_board.service_layer.ports import BoardUnitOfWork


def initiative_discussed(uow: BoardUnitOfWork, tenant: str, initiative_id: str, meeting_id: str,
                         decision_id: str | None, at: datetime) -> None:
    """Inside the caller's unit (no commit). The board closed the meeting that carried the
    initiative's forced item (decision_id: the decision taken on it, if any): the initiative
    records the discussion; its outcome is due `outcome_days` after the meeting (moved later when
    the meeting was held later than planned). A second call, or an unknown initiative, changes
    nothing: closing a meeting is never refused on the initiative's account."""
    found = uow.initiatives.get(tenant, initiative_id, lock=True)
    if found is not None and found.discussed(meeting_id, decision_id, at):
        uow.initiatives.save(found)
