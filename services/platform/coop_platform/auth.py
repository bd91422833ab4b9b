"""Bearer JWTs: who calls (subject), for which cooperative (tenant), with which roles (DESIGN D6).

A token is accepted only when all of these hold:
- it is signed with an asymmetric key of an issuer this service trusts (coop_platform.trust);
- that issuer may speak for the token's tenant (each tenant has exactly one issuer);
- its audience names this service (`coop-<service>` by default);
- it carries subject, tenant, audience, `iat` and `exp`, and lives no longer than the maximum;
and the call is served only when this service serves the tenant (membership and billing serve
the cooperative itself, `coop`; elections any tenant it trusts an issuer for).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import jwt

from coop_platform.errors import PermissionDenied, Unauthenticated
from coop_platform.trust import (
    ANY_TENANT,
    ASYMMETRIC_ALGORITHMS,
    DEV_ISSUER,
    DEV_KEY_ID,
    TrustStore,
    UnknownSigningKey,
    dev_signing_key,
    load_trust,
)

ROLES = frozenset({"member", "board", "admin", "teller", "service", "partner"})
DEFAULT_TENANT = "coop"
#: Clock skew tolerated between the issuer and this service.
LEEWAY_SECONDS = 30


def service_audience(service_name: str) -> str:
    """The audience a service requires by default: "coop-membership", "coop-board-meetings"."""
    return "coop-" + service_name.replace("_", "-")


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
            raise PermissionDenied(f"this call needs one of the roles: {', '.join(sorted(roles))}")

    def require_self_or(self, subject: str, *roles: str) -> None:
        """Members may act on their own record; the given roles on anyone's."""
        if self.has(*roles):
            return
        if "member" in self.roles and self.subject == subject:
            return
        raise PermissionDenied("you may only access your own record")


class TokenVerifier:
    """Checks bearer tokens for one service. A token already verified is served from a bounded
    cache until its own expiry, sparing the signature check on every call of a session."""

    CACHE_MAX = 10_000

    def __init__(self, trust: TrustStore, audience: str, *, served_tenants: Iterable[str] = (DEFAULT_TENANT,),
                 max_lifetime_seconds: int = 8 * 3600) -> None:
        self.trust = trust
        self.audience = audience
        self.served_tenants = frozenset(served_tenants)
        self.max_lifetime_seconds = max_lifetime_seconds
        self._verified: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def principal_from_metadata(self, metadata: dict[str, str]) -> Principal:
        header = metadata.get("authorization")
        if not header:
            raise Unauthenticated("missing 'authorization: Bearer <token>' metadata")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("authorization metadata must be 'Bearer <token>'")
        return self.authorize(self.verify(token.strip()))

    def authorize(self, principal: Principal) -> Principal:
        """The principal, if this service serves its tenant."""
        if ANY_TENANT not in self.served_tenants and principal.tenant not in self.served_tenants:
            raise PermissionDenied(
                f"this service serves tenant {', '.join(sorted(self.served_tenants))} only, "
                f"not {principal.tenant!r}")
        return principal

    def verify(self, token: str) -> Principal:
        hit = self._verified.get(token)
        if hit is not None:
            if hit[1] > time.time():
                return hit[0]
            with self._lock:
                self._verified.pop(token, None)
        principal, expires = self._verify(token)
        with self._lock:
            if len(self._verified) >= self.CACHE_MAX:
                self._verified.clear()
            self._verified[token] = (principal, expires)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise Unauthenticated(f"invalid token: signature algorithm {algorithm!r} is not accepted "
                                  f"(one of {', '.join(ASYMMETRIC_ALGORITHMS)})")
        issuer_name = unverified.get("iss")
        issuer = self.trust.issuer(issuer_name) if isinstance(issuer_name, str) else None
        if issuer is None:
            raise Unauthenticated(f"invalid token: issuer {issuer_name!r} is not trusted by this service")
        try:
            key = issuer.keys.key_for(header.get("kid"))
        except UnknownSigningKey as exc:
            raise Unauthenticated(f"invalid token: signed with a key issuer {issuer.issuer!r} does not publish") from exc
        if not key.allows(algorithm):
            raise Unauthenticated(f"invalid token: algorithm {algorithm} does not match its key")
        try:
            claims = jwt.decode(
                token, key.key, algorithms=[algorithm], audience=self.audience, issuer=issuer.issuer,
                leeway=LEEWAY_SECONDS, options={"require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated(f"invalid token: its audience does not include {self.audience!r}") from exc
        except jwt.PyJWTError as exc:  # a bad signature, a missing claim, a key of another kind
            raise Unauthenticated(f"invalid token: {exc}") from exc
        return self._principal(claims, issuer), float(claims["exp"])

    def _principal(self, claims: dict[str, Any], issuer: Any) -> Principal:
        lifetime = claims["exp"] - claims["iat"]
        if not isinstance(lifetime, int | float) or lifetime > self.max_lifetime_seconds:
            raise Unauthenticated(f"invalid token: it lives {lifetime} s, more than the maximum of "
                                  f"{self.max_lifetime_seconds} s")
        names = issuer.claims
        subject, tenant = names.read(claims, names.subject), names.read(claims, names.tenant)
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(f"invalid token: no subject ({names.subject!r} claim)")
        if not isinstance(tenant, str) or not tenant:
            raise Unauthenticated(f"invalid token: no tenant ({names.tenant!r} claim)")
        if not subject.isprintable() or not tenant.isprintable():  # ids end up in the database
            raise Unauthenticated("invalid token: subject and tenant must be printable text")
        if not issuer.speaks_for(tenant):
            raise Unauthenticated(f"invalid token: issuer {issuer.issuer!r} may not issue tokens for tenant {tenant!r}")
        roles = names.read(claims, names.roles) or []
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthenticated(f"invalid token: roles ({names.roles!r} claim) must be a list of strings")
        return Principal(subject=subject, tenant=tenant, roles=frozenset(roles) & ROLES, issuer=issuer.issuer)


def verifier_for(settings: Any) -> TokenVerifier:
    """The token verifier of a service's settings (coop_platform.config.Settings); raises
    TrustConfigurationError when the trusted issuers are missing or unsafe."""
    trust = load_trust(settings.auth_issuers_file, dev_mode=settings.dev_mode)
    return TokenVerifier(trust, settings.audience, served_tenants=settings.served_tenants,
                         max_lifetime_seconds=settings.jwt_max_lifetime_seconds)


def issue_token(
    subject: str,
    roles: Iterable[str],
    *,
    tenant: str = DEFAULT_TENANT,
    audience: str | list[str] | None = None,
    ttl_seconds: int = 3600,
    issuer: str = DEV_ISSUER,
    private_key: Any = None,
    key_id: str | None = None,
    now: float | None = None,
    omit: Iterable[str] = (),
) -> str:
    """A signed token. Without `private_key` it is signed with the development key (accepted only
    by services in development mode); an operator may pass their own key, issuer and key id to
    try a partner's set-up. `audience` defaults to every service's. `omit` leaves claims out
    (tests of the verifier)."""
    roles = list(roles)
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    from coop_platform.config import DEFAULT_PORTS  # the services this platform knows

    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "iss": issuer,
        "aud": audience if audience is not None else [service_audience(s) for s in DEFAULT_PORTS],
        "jti": uuid.uuid4().hex,
    }
    for name in omit:
        claims.pop(name, None)
    key = private_key if private_key is not None else dev_signing_key()
    kid = key_id if key_id is not None else (DEV_KEY_ID if private_key is None else None)
    algorithm = _algorithm_for(key)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid} if kid else None)


def _algorithm_for(private_key: Any) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(private_key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return "EdDSA"
    if isinstance(private_key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[private_key.curve.name]
    raise TypeError(f"cannot sign with a {type(private_key).__name__}")
