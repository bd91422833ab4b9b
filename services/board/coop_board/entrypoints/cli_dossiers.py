"""`coop board ...` commands of the dossiers family (entrypoints/cli.py)."""

from __future__ import annotations

import argparse


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add this family's `coop board <verb>` subcommands."""
