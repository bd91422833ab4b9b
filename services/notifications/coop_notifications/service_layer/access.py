"""Who may read and change a member's inbox and preferences: the member themself, or an admin
of the same cooperative (support). Every query is scoped by the caller's tenant, so another
cooperative's admin never finds anyone here."""

from __future__ import annotations

from coop_domain.errors import PermissionDenied
from coop_domain.principal import Principal


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
