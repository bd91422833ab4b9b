"""`make bench`'s board benchmark (issue 11): the meeting of 20 directors, 30 items and 200 votes
through the api (bench/board_meeting_bench.py), and the members' reads of published decisions
with the minutes rendered as PDF in three languages (bench/board_minutes_bench.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import board_meeting_bench, board_minutes_bench
from bench.common import Check


def run(args: argparse.Namespace, amqp_url: str, log_dir: Path) -> tuple[dict, list[Check]]:
    """Both parts on fresh PostgreSQL databases; the board api needs no broker for them."""
    meeting = board_meeting_bench.run(args.quick)
    minutes = board_minutes_bench.run(args.quick)
    found = [Check("board", "meeting: 20 directors, 30 items, 200 votes through the api", meeting["seconds"], "s",
                   "< 2", meeting["ok"]),
             *board_minutes_bench.checks(minutes)]
    return {"meeting": meeting, "minutes": minutes}, found
