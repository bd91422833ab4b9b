"""Who may read and change a member's inbox and preferences: the member themself, or an admin
of the same cooperative (support). Every query is scoped by the caller's tenant, and an admin
acting for someone else names a member known in their own cooperative: another cooperative's
admin finds nobody (NOT_FOUND)."""

from __future__ import annotations

from coop_domain.errors import NotFound, PermissionDenied
from coop_domain.principal import Principal
from coop_notifications.service_layer.ports import NotificationsUnitOfWork


def member_of_call(caller: Principal, member_id: str) -> str:
    """The member whose records the call touches: `member_id`, or the caller's own when empty."""
    target = member_id or caller.subject
    if caller.is_admin:
        return target
    if caller.has("member") and target == caller.subject:
        return target
    if caller.has("member"):
        raise PermissionDenied("a member reads and changes only their own notifications",
                               reason="NOT_YOUR_RECORD")
    raise PermissionDenied("this call needs the role member (your own notifications) or admin",
                           reason="ROLE_REQUIRED", roles=["admin", "member"])


def require_known(uow: NotificationsUnitOfWork, caller: Principal, target: str) -> None:
    """Inside the unit: an admin acting for another member names one of their cooperative."""
    if target != caller.subject and uow.recipients.get(caller.tenant, target) is None:
        raise NotFound(f"no member {target} in this cooperative", reason="MEMBER_NOT_FOUND")
