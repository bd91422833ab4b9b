"""How a `coop <noun> <verb>` command calls its service: one channel per command, the CLI's
token (`coop_cli.main.cli_metadata`), and a refusal printed with its rich status (the rule's
reason and each field's violation) and exit status 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import grpc

from coop_cli.main import cli_metadata
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
