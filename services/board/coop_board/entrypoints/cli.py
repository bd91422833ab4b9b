"""`coop board ...`: the secretary's common tasks from the command line, over the board's gRPC
api (schedule a meeting, publish the agenda, record attendance, publish minutes). Each family
adds its commands from its own module (cli_<family>.py)."""

from __future__ import annotations

import argparse

from coop_board.entrypoints import (
    cli_assembly,
    cli_dossiers,
    cli_initiatives,
    cli_meetings,
    cli_minutes,
    cli_observers,
    cli_roster,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    board = subparsers.add_parser("board", help="the board: roster, meetings, agendas, attendance, minutes")
    commands = board.add_subparsers(dest="board_command", required=True)
    for family in (cli_roster, cli_meetings, cli_dossiers, cli_minutes, cli_observers,
                   cli_initiatives, cli_assembly):
        family.add_commands(commands)
