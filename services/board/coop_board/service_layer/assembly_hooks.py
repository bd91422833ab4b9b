"""What the other families ask of the General Assembly (owned by the assembly family)."""

from __future__ import annotations

from datetime import datetime

from coop_board.domain.links import AssemblySummary
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports import BoardUnitOfWork


def refer_initiative_to_assembly(uow: BoardUnitOfWork, tenant: str, initiative_id: str, title: LocalizedText,
                                 now: datetime) -> str | None:
    """Inside the caller's unit (no commit). An initiative whose outcome is "referred to the
    General Assembly" becomes an item of the next Assembly not yet convened; None when it waits
    for the next Assembly to be scheduled (it joins that one's agenda). Returns the assembly id."""
    raise NotImplementedError("issue 12: assembly family")


def assembly_summary(uow: BoardUnitOfWork, tenant: str, assembly_id: str) -> AssemblySummary | None:
    """Inside the caller's unit: the Assembly, or None (unknown, or another tenant's)."""
    raise NotImplementedError("issue 12: assembly family")
