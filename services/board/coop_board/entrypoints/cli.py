"""`coop board ...`: the secretary's common tasks from the command line, over the board's gRPC
api (schedule a meeting, publish the agenda, record attendance, publish minutes)."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    board = subparsers.add_parser("board", help="the board: meetings, agendas, attendance, minutes")
    board.add_subparsers(dest="board_command", required=True)
