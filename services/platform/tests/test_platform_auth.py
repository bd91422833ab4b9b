"""Tokens (hardening issue, points 1 and 2): asymmetric signatures verified against the trusted
issuers' public keys, each tenant bound to its issuer, audience and lifetime required, and a
process that refuses to start on a missing, default or short key outside development mode."""

from __future__ import annotations

import http.server
import json
import threading
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from coop_platform.auth import TokenVerifier, issue_token, verifier_for
from coop_platform.config import Settings
from coop_platform.errors import PermissionDenied, Unauthenticated
from coop_platform.trust import (
    DEV_ISSUER,
    TrustConfigurationError,
    dev_signing_key,
    load_trust,
    public_jwk,
)
from coop_testkit import bad_tokens

COOP_ISSUER = "https://sso.coop.example/realms/coop"
PARTNER_ISSUER = "https://id.partner-a.example"


def write_issuers(folder: Path, *entries: dict) -> str:
    path = folder / "issuers.json"
    path.write_text(json.dumps({"issuers": list(entries)}))
    return str(path)


def jwks_of(*pairs: tuple[object, str]) -> dict:
    return {"keys": [public_jwk(key.public_key(), kid) for key, kid in pairs]}


@pytest.fixture(scope="module")
def keys():
    return {"coop": ed25519.Ed25519PrivateKey.generate(), "partner": ec.generate_private_key(ec.SECP256R1()),
            "rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048)}


@pytest.fixture
def production(tmp_path, keys) -> Settings:
    """A membership api's settings as an operator deploys them: no development mode, the
    cooperative's issuer and a partner's, each with its own keys."""
    (tmp_path / "partner-a.jwks.json").write_text(json.dumps(jwks_of((keys["partner"], "p1"))))
    issuers = write_issuers(
        tmp_path,
        {"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks": jwks_of((keys["coop"], "c1"), (keys["rsa"], "c2"))},
        {"issuer": PARTNER_ISSUER, "tenants": ["partner-a"], "jwks_file": "partner-a.jwks.json"},
    )
    return Settings(service_name="membership", database_url="sqlite://", auth_issuers_file=issuers)


def coop_token(keys, **kw) -> str:
    kw.setdefault("audience", "coop-membership")
    return issue_token("admin-1", ["admin"], issuer=COOP_ISSUER, private_key=keys["coop"], key_id="c1", **kw)


def partner_token(keys, tenant: str, **kw) -> str:
    return issue_token("partner-admin", ["partner", "admin"], tenant=tenant, issuer=PARTNER_ISSUER,
                       private_key=keys["partner"], key_id="p1", audience="coop-elections", **kw)


def test_a_token_of_the_tenants_issuer_names_subject_tenant_issuer_and_known_roles(production, keys):
    token = issue_token("m-1", ["member", "board"], issuer=COOP_ISSUER, private_key=keys["rsa"], key_id="c2",
                        audience=["coop-billing", "coop-membership"])
    principal = verifier_for(production).verify(token)
    assert (principal.subject, principal.tenant, principal.issuer) == ("m-1", "coop", COOP_ISSUER)
    assert principal.roles == frozenset({"member", "board"})


def test_a_partner_issuer_cannot_speak_for_the_cooperative_or_another_partner(production, keys):
    elections = verifier_for(Settings(service_name="elections", database_url="sqlite://",
                                      auth_issuers_file=production.auth_issuers_file, served_tenants=("*",)))
    assert elections.verify(partner_token(keys, "partner-a")).tenant == "partner-a"
    for tenant in ("coop", "partner-b"):
        with pytest.raises(Unauthenticated, match="may not issue tokens for tenant"):
            elections.verify(partner_token(keys, tenant))


def test_the_cooperatives_own_services_refuse_a_partners_valid_admin_token(production, keys):
    token = issue_token("partner-admin", ["admin"], tenant="partner-a", issuer=PARTNER_ISSUER,
                        private_key=keys["partner"], key_id="p1", audience="coop-membership")
    with pytest.raises(PermissionDenied, match="serves tenant coop only"):
        verifier_for(production).principal_from_metadata({"authorization": f"Bearer {token}"})


@pytest.mark.parametrize("kind", sorted(bad_tokens()))
def test_a_token_missing_a_check_is_unauthenticated_in_development_mode_too(kind):
    verifier = verifier_for(Settings(service_name="membership", database_url="sqlite://", dev_mode=True))
    metadata = dict(bad_tokens()[kind])
    with pytest.raises(Unauthenticated):
        verifier.principal_from_metadata(metadata)


def test_outside_development_mode_the_development_key_is_refused(production):
    with pytest.raises(Unauthenticated, match="not trusted"):
        verifier_for(production).verify(issue_token("admin-1", ["admin"], audience="coop-membership"))


def test_a_token_living_longer_than_the_setting_is_unauthenticated(production, keys):
    verifier = verifier_for(production)
    assert verifier.verify(coop_token(keys, ttl_seconds=8 * 3600)).subject == "admin-1"
    with pytest.raises(Unauthenticated, match="more than the maximum"):
        verifier.verify(coop_token(keys, ttl_seconds=8 * 3600 + 1))


def test_a_token_whose_key_id_names_another_issuers_key_is_unauthenticated(production, keys):
    forged = issue_token("admin-1", ["admin"], issuer=COOP_ISSUER, private_key=keys["partner"], key_id="c1",
                         audience="coop-membership")
    with pytest.raises(Unauthenticated):
        verifier_for(production).verify(forged)


@pytest.mark.parametrize("subject", ["voter\x00", "line\nbreak"])
def test_token_whose_subject_is_not_printable_text_is_unauthenticated(subject):
    verifier = verifier_for(Settings(service_name="membership", database_url="sqlite://", dev_mode=True))
    with pytest.raises(Unauthenticated, match="printable"):
        verifier.verify(issue_token(subject, ["member"]))


def test_roles_are_read_where_the_issuer_puts_them_keycloak_style(tmp_path, keys):
    issuers = write_issuers(tmp_path, {"issuer": COOP_ISSUER, "tenants": ["coop"],
                                       "jwks": jwks_of((keys["coop"], "c1")),
                                       "claims": {"roles": "realm_access.roles", "tenant": "coop_tenant"}})
    now = int(time.time())
    token = jwt.encode({"sub": "u-1", "iss": COOP_ISSUER, "aud": ["account", "coop-membership"], "iat": now,
                        "exp": now + 300, "coop_tenant": "coop", "realm_access": {"roles": ["admin", "offline_access"]}},
                       keys["coop"], algorithm="EdDSA", headers={"kid": "c1"})
    principal = TokenVerifier(load_trust(issuers, dev_mode=False), "coop-membership").verify(token)
    assert principal.roles == frozenset({"admin"}) and principal.tenant == "coop"


# -- refusing to start ---------------------------------------------------------------------------

def test_without_an_issuers_file_a_service_refuses_to_start_outside_development_mode():
    with pytest.raises(TrustConfigurationError, match="COOP_AUTH_ISSUERS_FILE"):
        verifier_for(Settings(service_name="membership", database_url="sqlite://"))


@pytest.mark.parametrize("case", ["development-key", "short-rsa-key", "shared-secret", "any-tenant",
                                  "tenant-twice", "no-keys", "plain-http-jwks", "development-issuer"])
def test_an_unsafe_issuers_file_stops_the_service_with_the_reason(tmp_path, case):
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    good = jwks_of((ed25519.Ed25519PrivateKey.generate(), "k1"))
    entries = {
        "development-key": [{"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks": jwks_of((dev_signing_key(), "d"))}],
        "short-rsa-key": [{"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks": jwks_of((weak, "w"))}],
        "shared-secret": [{"issuer": COOP_ISSUER, "tenants": ["coop"],
                           "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "kid": "s"}]}}],
        "any-tenant": [{"issuer": COOP_ISSUER, "tenants": ["*"], "jwks": good}],
        "tenant-twice": [{"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks": good},
                         {"issuer": PARTNER_ISSUER, "tenants": ["coop"], "jwks": good}],
        "no-keys": [{"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks": {"keys": []}}],
        "plain-http-jwks": [{"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks_uri": "http://sso.example/certs"}],
        "development-issuer": [{"issuer": DEV_ISSUER, "tenants": ["coop"], "jwks": good}],
    }[case]
    reason = {"development-key": "development key", "short-rsa-key": "too short", "shared-secret": "shared secret",
              "any-tenant": "development only", "tenant-twice": "exactly one issuer", "no-keys": "no signing key",
              "plain-http-jwks": "https", "development-issuer": "COOP_DEV_MODE"}[case]
    with pytest.raises(TrustConfigurationError, match=reason):
        load_trust(write_issuers(tmp_path, *entries), dev_mode=False)


def test_an_api_process_without_keys_exits_before_serving_and_says_why(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "COOP_DATA_DIR": str(tmp_path), "COOP_DATABASE_URL": "", "COOP_DEV_MODE": "",
           "COOP_AUTH_ISSUERS_FILE": "", "COOP_GRPC_PORT": "0", "COOP_METRICS_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "coop_membership.entrypoints.grpc_api"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "COOP_AUTH_ISSUERS_FILE" in done.stderr
    assert not (tmp_path / "membership.db").exists()  # it stopped before migrating anything


# -- keys from an identity provider's JWKS endpoint ------------------------------------------------

@pytest.fixture
def jwks_endpoint(keys):
    """An OIDC provider's JWKS endpoint on localhost; `documents` is what it serves next."""
    served = {"document": jwks_of((keys["coop"], "c1")), "hits": 0}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            served["hits"] += 1
            body = json.dumps(served["document"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/certs", served
    server.shutdown()


def test_keys_from_a_jwks_endpoint_verify_tokens_and_a_rotated_key_is_fetched(tmp_path, keys, jwks_endpoint):
    uri, served = jwks_endpoint
    # http:// is accepted in development mode only (the endpoint of this test has no certificate)
    trust = load_trust(write_issuers(tmp_path, {"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks_uri": uri}),
                       dev_mode=True)
    trust.issuer(COOP_ISSUER).keys.min_refetch_seconds = 0
    verifier = TokenVerifier(trust, "coop-membership")
    assert verifier.verify(coop_token(keys)).subject == "admin-1"
    rotated = ed25519.Ed25519PrivateKey.generate()
    served["document"] = jwks_of((keys["coop"], "c1"), (rotated, "c9"))
    token = issue_token("admin-2", ["admin"], issuer=COOP_ISSUER, private_key=rotated, key_id="c9",
                        audience="coop-membership")
    assert verifier.verify(token).subject == "admin-2"


def test_a_short_key_served_by_a_jwks_endpoint_is_never_used(tmp_path, keys, jwks_endpoint):
    uri, served = jwks_endpoint
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    served["document"] = jwks_of((weak, "w1"))
    trust = load_trust(write_issuers(tmp_path, {"issuer": COOP_ISSUER, "tenants": ["coop"], "jwks_uri": uri}),
                       dev_mode=True)
    token = issue_token("admin-1", ["admin"], issuer=COOP_ISSUER, private_key=weak, key_id="w1",
                        audience="coop-membership")
    with pytest.raises(Unauthenticated, match="does not publish"):
        TokenVerifier(trust, "coop-membership").verify(token)
