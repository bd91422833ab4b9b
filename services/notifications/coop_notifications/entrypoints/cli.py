"""`coop notifications ...`: operators' tasks from the command line."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    notifications = subparsers.add_parser("notifications", help="notifications: inbox, preferences, postal list")
    notifications.add_subparsers(dest="notifications_command", required=True)
