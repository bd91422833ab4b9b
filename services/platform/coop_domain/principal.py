"""The caller of a use case: who, for which cooperative (tenant), with which roles.

Use cases receive it and decide access inside their own unit of work, so one read serves both
the check and the answer (docs/architecture.md, "Authorization").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coop_domain.errors import PermissionDenied

DEFAULT_TENANT = "coop"


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str = DEFAULT_TENANT
    roles: frozenset[str] = field(default_factory=frozenset)
    issuer: str = ""

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise PermissionDenied(f"this call needs one of the roles: {', '.join(sorted(roles))}",
                                   reason="ROLE_REQUIRED", roles=sorted(roles))

    def require_self_or(self, subject: str, *roles: str) -> None:
        """Members may act on their own record; the given roles on anyone's."""
        if self.has(*roles):
            return
        if "member" in self.roles and self.subject == subject:
            return
        raise PermissionDenied("you may only access your own record", reason="NOT_YOUR_RECORD")


#: The service acting for itself (event handlers, housekeeping): every role, its own tenant.
def system_principal(service: str, tenant: str = DEFAULT_TENANT) -> Principal:
    return Principal(subject=f"system:{service}", tenant=tenant, roles=frozenset({"admin", "system"}))
