"""The initiatives family's settings (environment, read by the api and the worker), handed to
the domain as `InitiativeRules` (docs/board.md, Settings):

    COOP_BOARD_INITIATIVE_PROMOTERS          co-promoters who must accept before submitting (3)
    COOP_BOARD_INITIATIVE_ADMISSIBILITY_DAYS admissible by default after this long (14 days)
    COOP_BOARD_INITIATIVE_COLLECTION_DAYS    the signature collection's length (90 days)
    COOP_BOARD_INITIATIVE_THRESHOLD          "1500" (signatures) or "5%" (of the members in good
                                             standing when the collection opens) ("5%")
    COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS     the forced item's meeting starts within this (60)
    COOP_BOARD_INITIATIVE_OUTCOME_DAYS       the outcome is due this long after the meeting (30 days)
    COOP_BOARD_INITIATIVE_TICK_SECONDS       how often the worker's timer runs (30; at most 60:
                                             qualification within a minute is its promise)

The three durations (admissibility, collection, outcome) take a number of days ("14") or a number
with a unit: s, m, h or d ("45s", "10m", "3d"). Units exist for the end-to-end test, which runs
a whole initiative in real time (tests/e2e/test_participation_flow.py); production keeps days.
The maximum delay stays a whole number of days (agenda_hooks.force_initiative_item's contract).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta

from coop_board.domain.initiatives import InitiativeRules
from coop_platform.config import seconds_setting


def _days(env: Mapping[str, str], name: str, default: int, low: int = 1, high: int = 3650) -> int:
    raw = env.get(name, "").strip() or str(default)
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise ValueError(f"{name} must be a whole number between {low} and {high}, got {raw!r}")
    return int(raw)


_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_DURATION = re.compile(r"(\d+)\s*([smhd]?)")
MAX_DURATION = timedelta(days=3650)


def duration(env: Mapping[str, str], name: str, default_days: int) -> timedelta:
    """A duration setting: a whole number of days, or a whole number with a unit (s, m, h, d)."""
    raw = env.get(name, "").strip() or str(default_days)
    match = _DURATION.fullmatch(raw.lower())
    try:
        value = timedelta(**{_UNITS[match.group(2) or "d"]: int(match.group(1))}) if match else timedelta(0)
    except OverflowError:
        value = timedelta(0)
    if not timedelta(0) < value <= MAX_DURATION:
        raise ValueError(f"{name} must be a number of days (\"14\") or a number with a unit s, m, h or d "
                         f"(\"45s\", \"10m\", \"3d\"), above 0 and at most 3650 days, got {raw!r}")
    return value


def _threshold(env: Mapping[str, str]) -> tuple[int | None, float]:
    raw = env.get("COOP_BOARD_INITIATIVE_THRESHOLD", "").strip() or "5%"
    try:
        if raw.endswith("%"):
            percent = float(raw[:-1])
            if 0 < percent <= 100:
                return None, percent
        elif raw.isdigit() and int(raw) >= 1:
            return int(raw), 0.0
    except ValueError:
        pass
    raise ValueError(f"COOP_BOARD_INITIATIVE_THRESHOLD must be a number of signatures (\"1500\") or a percentage "
                     f"above 0 and at most 100 (\"5%\"), got {raw!r}")


def initiative_rules(environ: Mapping[str, str] | None = None) -> InitiativeRules:
    env = os.environ if environ is None else environ
    count, percent = _threshold(env)
    return InitiativeRules(
        promoters=_days(env, "COOP_BOARD_INITIATIVE_PROMOTERS", 3, low=0, high=50),
        admissibility=duration(env, "COOP_BOARD_INITIATIVE_ADMISSIBILITY_DAYS", 14),
        collection=duration(env, "COOP_BOARD_INITIATIVE_COLLECTION_DAYS", 90),
        threshold_count=count, threshold_percent=percent if count is None else 0.0,
        max_delay_days=_days(env, "COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS", 60),
        outcome=duration(env, "COOP_BOARD_INITIATIVE_OUTCOME_DAYS", 30))


def tick_seconds(environ: Mapping[str, str] | None = None) -> float:
    """How often the initiatives' timer runs (COOP_BOARD_INITIATIVE_TICK_SECONDS, 30 s, at most a
    minute: expiry and overdue outcomes are at most one tick late)."""
    return seconds_setting("COOP_BOARD_INITIATIVE_TICK_SECONDS", 30.0, high=60.0, environ=environ)
