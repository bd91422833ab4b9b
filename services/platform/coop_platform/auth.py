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

import base64
import binascii
import json
import re
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

import jwt

from coop_domain.principal import DEFAULT_TENANT, Principal
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

#: The board-meetings service's roles (director, secretary, management: coop_board.domain.roles)
#: and the elections' trustee and mixer (encrypted elections) are known here too, or a verified
#: token would lose them.
ROLES = frozenset({"member", "board", "admin", "teller", "service", "partner", "director", "secretary", "management",
                   "trustee", "mixer"})
#: Clock skew tolerated between the issuer and this service.
LEEWAY_SECONDS = 30


def service_audience(service_name: str) -> str:
    """The audience a service requires by default: "coop-membership", "coop-board-meetings"."""
    return "coop-" + service_name.replace("_", "-")


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
        header, unverified, signing_input, signature = _parts(token)
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
        if not key.allows(algorithm) or not key.verifies(signing_input, signature, algorithm):
            raise Unauthenticated("invalid token: its signature does not verify with the issuer's key")
        self._check_claims(unverified, time.time())  # verified now: the signature covers them
        return self._principal(unverified, issuer), float(unverified["exp"])

    def _check_claims(self, claims: dict[str, Any], now: float) -> None:
        """The registered claims (RFC 7519), as PyJWT's decode checks them: exp, iat, iss and aud
        required, exp and nbf against the clock with the leeway, iat not in the future, this
        service in the audience."""
        for name in ("exp", "iat", "iss", "aud"):
            if name not in claims:
                raise Unauthenticated(f"invalid token: it has no {name!r} claim")
        for name in ("exp", "iat", "nbf"):
            value = claims.get(name, 0)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Unauthenticated(f"invalid token: {name!r} must be a number of seconds since 1970")
        if claims["exp"] <= now - LEEWAY_SECONDS:
            raise Unauthenticated("token expired")
        if claims["iat"] > now + LEEWAY_SECONDS:
            raise Unauthenticated("invalid token: it was issued in the future")
        if claims.get("nbf", 0) > now + LEEWAY_SECONDS:
            raise Unauthenticated("invalid token: it is not valid yet (nbf)")
        audience = claims["aud"]
        audiences = [audience] if isinstance(audience, str) else audience
        if not isinstance(audiences, list) or self.audience not in audiences:
            raise Unauthenticated(f"invalid token: its audience does not include {self.audience!r}")

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


_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    """Header, unverified claims, signing input and signature of a compact JWS, parsed once: the
    header and claims pick the issuer and key; nothing is trusted until the signature verified.
    (PyJWT's decode checks every character of the token in Python: with its header lookups it
    was four fifths of a token check, 200 us of each first call of a session, here.)"""
    pieces = token.split(".")
    if len(pieces) != 3 or not all(_SEGMENT.fullmatch(p) for p in pieces):
        raise Unauthenticated("invalid token: not a signed JWT (three base64url parts)")
    try:
        header, claims = json.loads(_unbase64(pieces[0])), json.loads(_unbase64(pieces[1]))
        signature = _unbase64(pieces[2])
    except (ValueError, binascii.Error) as exc:
        raise Unauthenticated("invalid token: its header or claims are not base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("invalid token: its header and claims must be JSON objects")
    return header, claims, f"{pieces[0]}.{pieces[1]}".encode(), signature


def _unbase64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


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
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """A signed token. Without `private_key` it is signed with the development key (accepted only
    by services in development mode); an operator may pass their own key, issuer and key id to
    try a partner's set-up. `audience` defaults to every service's. `omit` leaves claims out and
    `extra_claims` adds or replaces some (tests of the verifier)."""
    roles = list(roles)
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")
    from coop_platform.registry import services  # the services installed here

    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "tenant": tenant,
        "roles": roles,
        "iat": issued,
        "exp": issued + ttl_seconds,
        "iss": issuer,
        "aud": audience if audience is not None else [s.audience for s in services().values()],
        "jti": uuid.uuid4().hex,
    }
    claims.update(extra_claims or {})
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
