"""What the minutes family asks of the agenda (owned by the meetings family).

Minutes are approved by the board at a following meeting: when the secretary submits minutes
(or an erratum) for approval, an item of kind "approve_minutes" referring to them is put on the
next meeting whose agenda is not frozen yet, or kept pending for the next meeting scheduled."""

from __future__ import annotations

from datetime import datetime

from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import meetings
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import utcnow


def add_minutes_approval_item(uow: BoardUnitOfWork, tenant: str, minutes_id: str,
                              title: LocalizedText, now: datetime | None = None) -> str | None:
    """Inside the caller's unit (no commit): the id of the item added to the next open agenda,
    or None when it waits for the next meeting to be scheduled (it joins that one's agenda).
    The item goes in the consent block (routine); `now` defaults to the clock."""
    return meetings.add_minutes_approval(uow, tenant, minutes_id, title, now or utcnow())
