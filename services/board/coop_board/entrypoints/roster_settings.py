"""The roster's settings, from the environment (read by the api and the worker, handed to the
use cases):

- COOP_BOARD_SEATS: the number of seats (default 20: five mandates of four years a year).
- COOP_BOARD_COMPOSITION: the composition rule, e.g.
  "users_majority=true,max_permanent_staff=4,max_external_partners=4" (the defaults; "none"
  lifts a cap).
- COOP_BOARD_ELECTION_TENANTS: the tenants whose election.results_published create mandates
  (default "coop").
- COOP_BOARD_TERM_ENDS_AT_ASSEMBLY_DAYS: an Assembly held at most this many days before a
  term's end date completes that term on its day (default 31; 0: terms end on their date only).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from coop_board.domain.roster import CompositionRule, RosterSettings, seat_ids


def roster_settings(environ: Mapping[str, str] | None = None) -> RosterSettings:
    env = os.environ if environ is None else environ
    text = env.get("COOP_BOARD_SEATS", "").strip() or "20"
    if not text.isdigit() or not 1 <= int(text) <= 99:
        raise ValueError(f"COOP_BOARD_SEATS must be a number of seats between 1 and 99, got {text!r}")
    slack = env.get("COOP_BOARD_TERM_ENDS_AT_ASSEMBLY_DAYS", "").strip() or "31"
    if not slack.isdigit() or int(slack) > 366:
        raise ValueError(f"COOP_BOARD_TERM_ENDS_AT_ASSEMBLY_DAYS must be between 0 and 366 days, got {slack!r}")
    tenants = tuple(t.strip() for t in env.get("COOP_BOARD_ELECTION_TENANTS", "coop").split(",") if t.strip())
    return RosterSettings(seat_ids(int(text)), CompositionRule.parse(env.get("COOP_BOARD_COMPOSITION")), tenants,
                          int(slack))
