"""What the other families ask of the General Assembly (owned by the assembly family)."""

from __future__ import annotations

from datetime import datetime

from coop_board.domain.assembly import Referral
from coop_board.domain.links import AssemblySummary
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import utcnow


def refer_initiative_to_assembly(uow: BoardUnitOfWork, tenant: str, initiative_id: str, title: LocalizedText,
                                 now: datetime) -> str | None:
    """Inside the caller's unit (no commit). An initiative whose outcome is "referred to the
    General Assembly" becomes an item of the next Assembly not yet convened; None when it waits
    for the next Assembly to be scheduled (it joins that one's agenda). Returns the assembly id.
    Referring the same initiative again changes nothing (the first answer stands). The title,
    written in the author's language, stands in for the languages it lacks on the agenda."""
    known = uow.assemblies.referral(tenant, initiative_id)
    if known is not None:
        return known.assembly_id
    target = uow.assemblies.next_not_convened(tenant, now)
    assembly_id = target.assembly_id if target is not None else None
    uow.assemblies.refer(Referral(tenant, initiative_id, title.filled(), now, assembly_id))
    return assembly_id


def assembly_summary(uow: BoardUnitOfWork, tenant: str, assembly_id: str) -> AssemblySummary | None:
    """Inside the caller's unit: the Assembly, or None (unknown, or another tenant's). Its status
    is "held" once it has started."""
    a = uow.assemblies.get(tenant, assembly_id)
    if a is None:
        return None
    return AssemblySummary(a.assembly_id, a.tenant, a.title, a.starts_at, a.registration_deadline,
                           a.status_at(utcnow()))
