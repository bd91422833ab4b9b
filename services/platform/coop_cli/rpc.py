"""How a `coop <noun> <verb>` command calls its service: one channel per command, the CLI's
token (`coop_cli.main.cli_metadata`), and a refusal printed with its rich status (the rule's
reason and each field's violation) and exit status 1."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc

from coop_cli.main import cli_metadata
from coop_domain.principal import DEFAULT_TENANT
from coop_platform.channels import open_channel
from coop_platform.rich_status import details_of

Stub = TypeVar("Stub")
Metadata = list[tuple[str, str]]


def refused(exc: grpc.RpcError) -> int:
    """Print a service's refusal on stderr; the exit status of a refused command (1)."""
    found = details_of(exc)
    print(f"error: {found.code.name}: {found.message}" + (f" [{found.reason}]" if found.reason else ""),
          file=sys.stderr)
    for field, rule in found.field_violations.items():
        print(f"  {field}: {rule}", file=sys.stderr)
    return 1


def call_service(args: argparse.Namespace, stub_class: Callable[[grpc.Channel], Stub],
                 command: Callable[[Stub, Metadata, argparse.Namespace], int], *,
                 metadata: Metadata | None = None, options: Sequence[tuple[str, Any]] = ()) -> int:
    """Run `command(stub, metadata, args)` on a channel to `args.target` with the CLI's admin
    token for `args.tenant` (or `metadata`); a refusal is printed and returns 1."""
    channel = open_channel(args.target, options=options)
    try:
        return command(stub_class(channel), metadata or cli_metadata(("admin",), tenant=args.tenant), args)
    except grpc.RpcError as exc:
        return refused(exc)
    finally:
        channel.close()


def add_connection_arguments(parser: argparse.ArgumentParser, service: str) -> None:
    """--target (COOP_<SERVICE>_ADDR, default the manifest's gRPC port on this machine) and
    --tenant (of the development token made when COOP_TOKEN is not set)."""
    from coop_platform.registry import spec_of

    spec = spec_of(service)
    default = f"127.0.0.1:{spec.grpc_port}" if spec else ""
    variable = f"COOP_{service.upper()}_ADDR"
    parser.add_argument("--target", default=os.environ.get(variable, default),
                        help=f"{service} api address ({variable}, default {default})")
    parser.add_argument("--tenant", default=DEFAULT_TENANT,
                        help=f"tenant of the development token made when COOP_TOKEN is not set (default {DEFAULT_TENANT})")


def enum_word(enum: Any, value: int, prefix: str, unset: str = "unknown") -> str:
    """A protobuf enum value as the lower-case word a command prints (`unset` for 0)."""
    return enum.Name(value).removeprefix(prefix).lower() if value else unset
