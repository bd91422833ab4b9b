"""The recipients projection: one membership fact applied in the inbox's transaction."""

from __future__ import annotations

from coop_domain.membership import MemberFact
from coop_domain.principal import DEFAULT_TENANT
from coop_notifications.domain.recipients import Recipient, apply_fact
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def apply_member_fact(uow: NotificationsUnitOfWork, fact: MemberFact, tenant: str = DEFAULT_TENANT) -> Recipient:
    """Membership speaks for the cooperative's own members (tenant "coop")."""
    current = uow.recipients.get(tenant, fact.member_id, for_update=True)
    updated = apply_fact(current, tenant, fact)
    if updated != current:
        uow.recipients.save(updated)
    return updated
