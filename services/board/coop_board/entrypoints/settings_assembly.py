"""The assembly family's settings (environment, read once by the api and the worker), handed to
the domain as `AssemblyRules` (docs/board.md, Settings).

    COOP_BOARD_ASSEMBLY_NOTICE_DAYS        statutory notice: convocations out this many days before (15)
    COOP_BOARD_ASSEMBLY_CONVENE            who is convened: all (every member) or good_standing (all)
    COOP_BOARD_ASSEMBLY_REGISTRATION       who may register: good_standing or all (good_standing)
    COOP_BOARD_ASSEMBLY_FALLBACK_LANGUAGE  the convocation's language when a member's is unknown (fr)
    COOP_BOARD_CONVOCATION_BATCH           members per transaction of the convocation job (1000)
    COOP_BOARD_CONVOCATION_TICK_SECONDS    how often the worker looks for convocations to send (5)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from coop_board.domain.assembly import AssemblyRules
from coop_board.domain.texts import LANGUAGES
from coop_platform.config import seconds_setting

WHO = ("all", "good_standing")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, "").strip().lower() or default
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = env.get(name, "").strip()
    try:
        value = int(text) if text else default
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def assembly_rules(env: Mapping[str, str] | None = None) -> AssemblyRules:
    env = os.environ if env is None else env
    return AssemblyRules(
        notice_days=_int(env, "COOP_BOARD_ASSEMBLY_NOTICE_DAYS", 15, 0, 366),
        convene_all_members=_choice(env, "COOP_BOARD_ASSEMBLY_CONVENE", "all", WHO) == "all",
        registration_all_members=_choice(env, "COOP_BOARD_ASSEMBLY_REGISTRATION", "good_standing", WHO) == "all",
        fallback_language=_choice(env, "COOP_BOARD_ASSEMBLY_FALLBACK_LANGUAGE", "fr", LANGUAGES),
        convocation_batch=_int(env, "COOP_BOARD_CONVOCATION_BATCH", 1000, 1, 10_000))


def convocation_tick_seconds(env: Mapping[str, str] | None = None) -> float:
    """How often the worker sends a batch of convocations (COOP_BOARD_CONVOCATION_TICK_SECONDS, 5 s)."""
    return seconds_setting("COOP_BOARD_CONVOCATION_TICK_SECONDS", 5.0, environ=env)
