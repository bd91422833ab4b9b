"""`coop`: the admin command line. Platform commands here; service commands in each service's
entrypoints/cli.py (they speak gRPC to the running api, never to its database)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from coop_platform import tokens_cli
from coop_platform.auth import DEFAULT_TENANT, issue_token
from coop_platform.channels import ClientTLSError
from coop_platform.config import DEFAULT_PORTS, load_settings

#: top-level command -> module providing `add_parser(subparsers)`
SERVICE_COMMANDS = {
    "members": "coop_membership.entrypoints.cli",
    "shares": "coop_membership.entrypoints.cli",
    "statements": "coop_billing.entrypoints.cli",
    # event delivery, for operators: coop broker / dlq / outbox
    "broker": "coop_platform.events_cli",
}


def _migratable() -> list[str]:
    found = []
    for service in DEFAULT_PORTS:
        try:
            if importlib.util.find_spec(f"coop_{service}.migrations") is not None:
                found.append(service)
        except ModuleNotFoundError:
            continue
    return found


MIGRATABLE = _migratable()


def _migrate(args: argparse.Namespace) -> int:
    from coop_platform.migrations import upgrade

    for service in args.services or MIGRATABLE:
        if service not in MIGRATABLE:
            print(f"unknown service {service!r}; known: {', '.join(MIGRATABLE)}", file=sys.stderr)
            return 2
        settings = load_settings(service)
        upgrade(service, settings.database_url)
        print(f"{service}: migrated {settings.database_url.split('@')[-1]}")
    return 0


def cli_metadata(roles: tuple[str, ...] = ("admin",), tenant: str | None = None) -> list[tuple[str, str]]:
    """gRPC metadata for a service command: COOP_TOKEN when set (a token from the cooperative's
    identity provider), otherwise a development token for `roles`, which only services in
    development mode accept."""
    token = os.environ.get("COOP_TOKEN") or issue_token("cli-admin", roles, tenant=tenant or DEFAULT_TENANT)
    return [("authorization", f"Bearer {token}")]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="coop", description="coopgov admin command line",
        epilog="Service commands speak TLS when COOP_TLS_CA names the CA bundle that signed the api's "
               "certificate (COOP_TLS_SERVER_NAME: the name it carries, when not the --target host).")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply database migrations (all services by default)")
    p.add_argument("services", nargs="*")
    p.set_defaults(func=_migrate)
    tokens_cli.add_parser(sub)
    seen: set[str] = set()
    for module_name in SERVICE_COMMANDS.values():
        if module_name in seen:
            continue
        seen.add(module_name)
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
        except ModuleNotFoundError:  # that service is not installed here
            continue
        importlib.import_module(module_name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ClientTLSError as exc:  # COOP_TLS_CA names a file that cannot be read
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
