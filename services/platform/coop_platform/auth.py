"""Bearer JWTs: who calls (subject), for which cooperative (tenant), with which roles (DESIGN D6)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import jwt

from coop_platform.errors import PermissionDenied, Unauthenticated

ROLES = frozenset({"member", "board", "admin", "teller", "service", "partner"})
DEFAULT_TENANT = "coop"


@dataclass(frozen=True)
class Principal:
    subject: str
    tenant: str = DEFAULT_TENANT
    roles: frozenset[str] = field(default_factory=frozenset)

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def require(self, *roles: str) -> None:
        if not self.has(*roles):
            raise PermissionDenied(f"this call needs one of the roles: {', '.join(sorted(roles))}")

    def require_self_or(self, subject: str, *roles: str) -> None:
        """Members may act on their own record; the given roles on anyone's."""
        if self.has(*roles):
            return
        if "member" in self.roles and self.subject == subject:
            return
        raise PermissionDenied("you may only access your own record")


def issue_token(
    secret: str,
    subject: str,
    roles: list[str] | tuple[str, ...],
    *,
    tenant: str = DEFAULT_TENANT,
    ttl_seconds: int = 3600,
    issuer: str = "coopgov",
    now: float | None = None,
) -> str:
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    issued = int(now if now is not None else time.time())
    claims = {
        "sub": subject,
        "tenant": tenant,
        "roles": list(roles),
        "iat": issued,
        "exp": issued + ttl_seconds,
        "iss": issuer,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


_VERIFIED: dict[tuple[str, str], tuple[Principal, float]] = {}
_VERIFIED_MAX = 10_000


def verify_token(secret: str, token: str, *, issuer: str = "coopgov") -> Principal:
    """Check signature, expiry and issuer. A token already verified is served from a bounded
    cache until its own expiry, sparing the HMAC and JSON work on every call of a session."""
    key = (secret, token)
    hit = _VERIFIED.get(key)
    if hit is not None:
        if hit[1] > time.time():
            return hit[0]
        _VERIFIED.pop(key, None)
    principal, expires = _verify(secret, token, issuer)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.clear()
    _VERIFIED[key] = (principal, expires)
    return principal


def _verify(secret: str, token: str, issuer: str) -> tuple[Principal, float]:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=issuer,
            options={"require": ["sub", "exp", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("token expired") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    subject, tenant = str(claims["sub"]), str(claims.get("tenant") or DEFAULT_TENANT)
    if not subject.isprintable() or not tenant.isprintable():  # ids end up in the database
        raise Unauthenticated("invalid token: subject and tenant must be printable text")
    roles = claims.get("roles") or []
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        raise Unauthenticated("invalid token: roles must be a list of strings")
    principal = Principal(subject=subject, tenant=tenant, roles=frozenset(roles) & ROLES)
    return principal, float(claims["exp"])


def principal_from_metadata(secret: str, metadata: dict[str, str]) -> Principal:
    header = metadata.get("authorization")
    if not header:
        raise Unauthenticated("missing 'authorization: Bearer <token>' metadata")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
    return verify_token(secret, token.strip())
