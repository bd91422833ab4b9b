"""Who may sign the bearer tokens a service accepts (DESIGN D6).

A service trusts a list of issuers, each bound to the tenants it may speak for and to the public
keys (JWKS) that verify its signatures. The list comes from a JSON file the operator writes
(COOP_AUTH_ISSUERS_FILE):

    {"issuers": [
      {"issuer": "https://sso.coop.example/realms/coop", "tenants": ["coop"],
       "jwks_uri": "https://sso.coop.example/realms/coop/protocol/openid-connect/certs",
       "claims": {"roles": "realm_access.roles"}},
      {"issuer": "https://id.partner.example", "tenants": ["partner-a"],
       "jwks_file": "partner-a.jwks.json"}
    ]}

Only asymmetric keys are accepted (no shared secret to leak or to mint tokens with), each tenant
belongs to exactly one issuer (a partner can never speak for another tenant), and outside
development mode a missing file, a short key or the built-in development key stops the process
before it serves anything.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

log = logging.getLogger(__name__)

#: The issuer of development tokens (`coop token`, `make run`, `make test`): accepted only in
#: development mode, for any tenant. Its private key ships with the code, so it proves nothing.
DEV_ISSUER = "coopgov-dev"
DEV_KEY_ID = "coopgov-dev-rs256"
ANY_TENANT = "*"
MIN_RSA_BITS = 2048
ACCEPTED_CURVES = frozenset({"secp256r1", "secp384r1", "secp521r1"})
#: Signature algorithms a token may use; never "none" nor an HMAC (a secret shared with every
#: verifier would let any of them mint tokens).
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                         "ES256", "ES384", "ES512", "EdDSA")


class TrustConfigurationError(Exception):
    """The trusted-issuer configuration is missing or unsafe: the process must not start."""


class UnknownSigningKey(Exception):
    """No usable key of the issuer matches the token's key id."""


_ALGORITHMS = jwt.algorithms.get_default_algorithms()


@dataclass(frozen=True)
class SigningKey:
    """A public key that verifies tokens, and the one algorithm its JWK pins, if any."""

    key: Any
    algorithm: str | None

    def allows(self, algorithm: str) -> bool:
        return self.algorithm is None or self.algorithm == algorithm

    def verifies(self, signing_input: bytes, signature: bytes, algorithm: str) -> bool:
        """Whether `signature` is this key's signature of `signing_input` under `algorithm` (one
        of ASYMMETRIC_ALGORITHMS, checked by the caller); False for a key of another kind."""
        try:
            return bool(_ALGORITHMS[algorithm].verify(signing_input, self.key, signature))
        except (TypeError, ValueError, jwt.InvalidKeyError):
            return False


@dataclass(frozen=True)
class ClaimNames:
    """Where an issuer puts the subject, tenant and roles; dotted paths reach nested claims
    (Keycloak's realm roles are "realm_access.roles")."""

    subject: str = "sub"
    tenant: str = "tenant"
    roles: str = "roles"

    @staticmethod
    def read(claims: dict[str, Any], path: str) -> Any:
        value: Any = claims
        for part in path.split("."):
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value


def key_problem(key: Any, *, dev_mode: bool = False) -> str | None:
    """Why a public key must not verify tokens (too short, unknown kind, or the development key
    outside development mode), or None."""
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            return f"an RSA key of {key.key_size} bits is too short (at least {MIN_RSA_BITS})"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name not in ACCEPTED_CURVES:
            return f"elliptic curve {key.curve.name} is not accepted"
    elif not isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return f"a {type(key).__name__} cannot verify tokens (asymmetric keys only)"
    if not dev_mode and _public_bytes(key) == _public_bytes(dev_signing_key().public_key()):
        return "it is the built-in development key, whose private half is public"
    return None


def _public_bytes(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def usable_keys(jwks: dict[str, Any], source: str, *, dev_mode: bool) -> dict[str | None, SigningKey]:
    """The signing keys of a JWKS document by key id; unsafe keys are refused (outside development
    mode) with the reason, keys meant for encryption are skipped."""
    keys: dict[str | None, SigningKey] = {}
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise TrustConfigurationError(f"{source}: not a JWKS document (no 'keys' list)")
    for entry in jwks["keys"]:
        if not isinstance(entry, dict):
            raise TrustConfigurationError(f"{source}: a key entry is not a JSON object")
        if entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") == "oct":
            raise TrustConfigurationError(
                f"{source}: key {entry.get('kid')!r} is a shared secret (kty 'oct'); only public keys verify tokens")
        try:
            key = jwt.PyJWK(entry)
        except jwt.PyJWKError as exc:
            raise TrustConfigurationError(f"{source}: key {entry.get('kid')!r} is unusable: {exc}") from exc
        problem = key_problem(key.key, dev_mode=dev_mode)
        if problem:
            raise TrustConfigurationError(f"{source}: key {entry.get('kid')!r}: {problem}")
        keys[entry.get("kid")] = SigningKey(key.key, entry.get("alg"))
    if not keys:
        raise TrustConfigurationError(f"{source}: no signing key")
    return keys


class StaticKeys:
    """Keys read once from a JWKS file (or given inline)."""

    def __init__(self, jwks: dict[str, Any], source: str, *, dev_mode: bool) -> None:
        self.source = source
        self.keys = usable_keys(jwks, source, dev_mode=dev_mode)

    def key_for(self, kid: str | None) -> SigningKey:
        if kid in self.keys:
            return self.keys[kid]
        if kid is None and len(self.keys) == 1:
            return next(iter(self.keys.values()))
        raise UnknownSigningKey(f"no key {kid!r} in {self.source}")


class RemoteKeys:
    """Keys fetched from an issuer's JWKS endpoint (an OIDC provider's `jwks_uri`), refreshed at
    most every `refresh_seconds` and at once when a token names a key id not seen yet (key
    rotation), never more than once per `min_refetch_seconds` (a flood of forged key ids must not
    turn into a flood of fetches)."""

    def __init__(self, uri: str, *, dev_mode: bool, refresh_seconds: float = 300.0,
                 min_refetch_seconds: float = 10.0, timeout: float = 5.0) -> None:
        self.uri = uri
        self.dev_mode = dev_mode
        self.refresh_seconds = refresh_seconds
        self.min_refetch_seconds = min_refetch_seconds
        self._client = jwt.PyJWKClient(uri, cache_jwk_set=False, cache_keys=False, timeout=timeout)
        self._keys: dict[str | None, SigningKey] = {}
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        try:
            document = self._client.fetch_data()
            self._keys = usable_keys(document, self.uri, dev_mode=self.dev_mode)
        except (jwt.PyJWKClientError, TrustConfigurationError) as exc:
            log.error("could not refresh the signing keys of %s: %s", self.uri, exc)
        finally:
            self._fetched_at = time.monotonic()

    def key_for(self, kid: str | None) -> SigningKey:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > self.refresh_seconds or (kid not in self._keys and age > self.min_refetch_seconds):
                self._refresh()
            keys = self._keys
        if kid in keys:
            return keys[kid]
        if kid is None and len(keys) == 1:
            return next(iter(keys.values()))
        raise UnknownSigningKey(f"no key {kid!r} at {self.uri}")


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    tenants: frozenset[str]
    keys: StaticKeys | RemoteKeys = field(compare=False)
    claims: ClaimNames = ClaimNames()

    def speaks_for(self, tenant: str) -> bool:
        return ANY_TENANT in self.tenants or tenant in self.tenants


@dataclass(frozen=True)
class TrustStore:
    issuers: dict[str, TrustedIssuer]

    def issuer(self, name: str) -> TrustedIssuer | None:
        return self.issuers.get(name)


@cache
def dev_signing_key() -> rsa.RSAPrivateKey:
    """The development signing key shipped in coop_platform/devkeys (public knowledge): RS256,
    like most identity providers' tokens, and the quickest to verify (an RSA-2048 signature
    checks in about 20 us here, an Ed25519 one in about 110 us)."""
    pem = resources.files("coop_platform").joinpath("devkeys/dev-signing-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def public_jwk(public_key: Any, kid: str) -> dict[str, Any]:
    """A public key as a JWK with its key id and algorithm."""
    if isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(public_key))
        alg = "EdDSA"
    elif isinstance(public_key, rsa.RSAPublicKey):
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(public_key))
        alg = "RS256"
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(public_key))
        alg = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}[public_key.curve.name]
    else:
        raise TypeError(f"not a supported public key: {type(public_key).__name__}")
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def dev_issuer() -> TrustedIssuer:
    jwks = {"keys": [public_jwk(dev_signing_key().public_key(), DEV_KEY_ID)]}
    return TrustedIssuer(DEV_ISSUER, frozenset({ANY_TENANT}), StaticKeys(jwks, "the development key", dev_mode=True))


def load_trust(issuers_file: str | None, *, dev_mode: bool) -> TrustStore:
    """The issuers this process trusts. In development mode the development issuer is added;
    otherwise the file must exist and pass every check, or TrustConfigurationError says why."""
    issuers: dict[str, TrustedIssuer] = {}
    if issuers_file:
        for trusted in _read_issuers(Path(issuers_file), dev_mode=dev_mode):
            issuers[trusted.issuer] = trusted
    elif not dev_mode:
        raise TrustConfigurationError(
            "no trusted token issuers: set COOP_AUTH_ISSUERS_FILE to the operator's issuers file "
            "(docs/security.md), or COOP_DEV_MODE=1 on a development machine")
    if dev_mode:
        issuers.setdefault(DEV_ISSUER, dev_issuer())
    return TrustStore(issuers)


def _read_issuers(path: Path, *, dev_mode: bool) -> list[TrustedIssuer]:
    try:
        document = json.loads(path.read_text())
    except OSError as exc:
        raise TrustConfigurationError(f"cannot read the issuers file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise TrustConfigurationError(f"the issuers file {path} is not valid JSON: {exc}") from exc
    entries = document.get("issuers") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise TrustConfigurationError(f"{path}: expected {{\"issuers\": [...]}} with at least one issuer")
    owners: dict[str, str] = {}
    found: list[TrustedIssuer] = []
    for n, entry in enumerate(entries, 1):
        where = f"{path}, issuer #{n}"
        trusted = _issuer(entry, where, path.parent, dev_mode=dev_mode)
        for tenant in trusted.tenants:
            if tenant in owners:
                raise TrustConfigurationError(
                    f"{where}: tenant {tenant!r} is already bound to issuer {owners[tenant]!r}; "
                    "a tenant has exactly one issuer")
            owners[tenant] = trusted.issuer
        if any(t.issuer == trusted.issuer for t in found):
            raise TrustConfigurationError(f"{where}: issuer {trusted.issuer!r} is listed twice")
        found.append(trusted)
    return found


def _issuer(entry: Any, where: str, folder: Path, *, dev_mode: bool) -> TrustedIssuer:
    if not isinstance(entry, dict):
        raise TrustConfigurationError(f"{where}: not a JSON object")
    name, tenants = entry.get("issuer"), entry.get("tenants")
    if not isinstance(name, str) or not name.strip():
        raise TrustConfigurationError(f"{where}: 'issuer' (the tokens' iss claim) is required")
    if name == DEV_ISSUER and not dev_mode:
        raise TrustConfigurationError(f"{where}: the development issuer is accepted only with COOP_DEV_MODE=1")
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) and t.strip() for t in tenants):
        raise TrustConfigurationError(f"{where}: 'tenants' must list the tenants this issuer speaks for")
    if ANY_TENANT in tenants and not dev_mode:
        raise TrustConfigurationError(f"{where}: '*' (any tenant) is for development only; name the tenants")
    sources = [k for k in ("jwks_file", "jwks_uri", "jwks") if k in entry]
    if len(sources) != 1:
        raise TrustConfigurationError(f"{where}: give exactly one of jwks_file, jwks_uri or jwks")
    keys: StaticKeys | RemoteKeys
    if "jwks_uri" in entry:
        uri = str(entry["jwks_uri"])
        if not (uri.startswith("https://") or (dev_mode and uri.startswith("http://"))):
            raise TrustConfigurationError(f"{where}: jwks_uri must be an https:// URL")
        keys = RemoteKeys(uri, dev_mode=dev_mode)
    elif "jwks_file" in entry:
        jwks_path = folder / str(entry["jwks_file"])
        try:
            jwks = json.loads(jwks_path.read_text())
        except (OSError, ValueError) as exc:
            raise TrustConfigurationError(f"{where}: cannot read JWKS file {jwks_path}: {exc}") from exc
        keys = StaticKeys(jwks, str(jwks_path), dev_mode=dev_mode)
    else:
        keys = StaticKeys(entry["jwks"], f"{where} (inline jwks)", dev_mode=dev_mode)
    claim_names = entry.get("claims") or {}
    if not isinstance(claim_names, dict) or set(claim_names) - {"subject", "tenant", "roles"}:
        raise TrustConfigurationError(f"{where}: 'claims' may map only subject, tenant and roles")
    return TrustedIssuer(name, frozenset(tenants), keys, ClaimNames(**claim_names))
