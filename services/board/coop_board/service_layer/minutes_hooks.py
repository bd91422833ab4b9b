"""What the meetings family tells the minutes family (owned by the minutes family).

When the board adopts the decision of an item of kind "approve_minutes", the minutes (or the
erratum) it refers to become approved, and immutable, in the same unit of work."""

from __future__ import annotations

from datetime import datetime

from coop_board.service_layer import minutes
from coop_board.service_layer.ports import BoardUnitOfWork


def minutes_approved(uow: BoardUnitOfWork, tenant: str, minutes_id: str, decision_id: str,
                     meeting_id: str, at: datetime) -> None:
    """Inside the caller's unit (no commit). NotFound for unknown minutes (or another tenant's);
    FailedPrecondition MINUTES_NOT_SUBMITTED unless they were submitted for approval."""
    minutes.approve(uow, tenant, minutes_id, decision_id, meeting_id, at)
