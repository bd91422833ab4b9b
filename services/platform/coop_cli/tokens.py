"""`coop token` and `coop keys`: development tokens, and the key pairs an operator registers for a
tenant's issuer (docs/security.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from coop_platform.auth import DEFAULT_TENANT, ROLES, issue_token
from coop_platform.trust import DEV_ISSUER, public_jwk


def _token(args: argparse.Namespace) -> int:
    private_key = None
    if args.key:
        private_key = serialization.load_pem_private_key(Path(args.key).read_bytes(), password=None)
        if args.issuer == DEV_ISSUER:
            print("--key needs --issuer: the issuer your services trust for this key", file=sys.stderr)
            return 2
    else:
        print("development token: only services running with COOP_DEV_MODE=1 accept it", file=sys.stderr)
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    unknown = set(roles) - ROLES
    if unknown:
        print(f"unknown roles: {', '.join(sorted(unknown))} (known: {', '.join(sorted(ROLES))})", file=sys.stderr)
        return 2
    print(issue_token(args.subject, roles, tenant=args.tenant, ttl_seconds=args.ttl, issuer=args.issuer,
                      audience=args.audience or None, private_key=private_key, key_id=args.kid))
    return 0


def _new_key(kind: str):
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


def _keys_new(args: argparse.Namespace) -> int:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    key = _new_key(args.kind)
    kid = args.kid or f"{args.name}-1"
    key_path, jwks_path = out / f"{args.name}.key.pem", out / f"{args.name}.jwks.json"
    if key_path.exists() and not args.force:
        print(f"{key_path} exists; use --force to replace it", file=sys.stderr)
        return 2
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    jwks_path.write_text(json.dumps({"keys": [public_jwk(key.public_key(), kid)]}, indent=2) + "\n")
    entry = {"issuer": args.issuer, "tenants": args.tenant, "jwks_file": jwks_path.name}
    print(f"private key (keep it with the issuer, never on the services): {key_path}")
    print(f"public keys (give them to the services):                      {jwks_path}")
    print("add this entry to the services' issuers file (COOP_AUTH_ISSUERS_FILE):")
    print(json.dumps(entry, indent=2))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "token", help="print a bearer token (development key by default)",
        description="Print a signed bearer token. Without --key it is signed with the built-in "
                    "development key, which only services in development mode (COOP_DEV_MODE=1) accept. "
                    "With --key, --issuer and --kid it is signed with your own key, e.g. to try a "
                    "partner's issuer before its identity provider is connected.")
    p.add_argument("--subject", default="admin", help="the caller: a member id, a staff login, a system name")
    p.add_argument("--roles", default="admin", help=f"comma separated: {','.join(sorted(ROLES))}")
    p.add_argument("--tenant", default=DEFAULT_TENANT, help="the cooperative the caller acts for")
    p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (services refuse more than their maximum)")
    p.add_argument("--audience", action="append", default=[],
                   help="a service audience, e.g. coop-elections (repeatable; default: every service)")
    p.add_argument("--key", help="PEM private key to sign with (default: the development key)")
    p.add_argument("--issuer", default=DEV_ISSUER, help="the iss claim (with --key)")
    p.add_argument("--kid", help="the key id the issuer's JWKS names (with --key)")
    p.set_defaults(func=_token)

    keys = sub.add_parser("keys", help="create signing keys for a tenant's token issuer")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    p = keys_sub.add_parser(
        "new", help="a new key pair: the private key for the issuer, the JWKS for the services",
        description="Create a key pair for an issuer of tokens: a private key file (mode 0600) for "
                    "whoever signs the tokens, and a JWKS file of the public key for the services, "
                    "plus the entry to add to their issuers file.")
    p.add_argument("--issuer", required=True, help="the issuer's iss value, e.g. https://id.partner.example")
    p.add_argument("--tenant", action="append", required=True, help="a tenant this issuer speaks for (repeatable)")
    p.add_argument("--name", required=True, help="file name stem, e.g. partner-a")
    p.add_argument("--out", default=".", help="folder for the two files")
    p.add_argument("--kind", choices=("rsa", "ec", "ed25519"), default="rsa",
                   help="rsa (3072 bits, RS256; the default: the quickest for the services to verify, "
                        "what identity providers use), ec (P-256, ES256) or ed25519 (EdDSA)")
    p.add_argument("--kid", help="key id (default: <name>-1)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=_keys_new)
