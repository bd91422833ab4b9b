"""`coop`: the admin command line. Platform commands here; service commands in each service's
entrypoints/cli.py (they speak gRPC to the running api, never to its database)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from coop_cli import tokens as tokens_cli
from coop_platform.auth import DEFAULT_TENANT, issue_token
from coop_platform.channels import ClientTLSError
from coop_platform.config import load_settings
from coop_platform.registry import services

#: operators' commands for event delivery: coop broker / dlq / outbox
PLATFORM_COMMAND_MODULES = ("coop_cli.events",)


def command_modules() -> list[str]:
    """Modules adding `coop` subcommands: the platform's, then each installed service's."""
    modules = list(PLATFORM_COMMAND_MODULES)
    for spec in services().values():
        modules.extend(m for m in spec.cli_modules if m not in modules)
    return modules


def _migratable() -> list[str]:
    found = []
    for service, spec in services().items():
        try:
            if importlib.util.find_spec(f"{spec.package}.migrations") is not None:
                found.append(service)
        except ModuleNotFoundError:
            continue
    return found


def _migrate(args: argparse.Namespace) -> int:
    from coop_platform.migrations import upgrade

    migratable = _migratable()
    for service in args.services or migratable:
        if service not in migratable:
            print(f"unknown service {service!r}; known: {', '.join(migratable)}", file=sys.stderr)
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
    for module_name in command_modules():
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
