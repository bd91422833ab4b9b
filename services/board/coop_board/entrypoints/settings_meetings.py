"""The meetings family's settings (environment, read once by the api and the CLI-less tools),
handed to the domain as `MeetingRules` (docs/board.md, Settings).

    COOP_BOARD_AGENDA_FREEZE_DAYS      days before a meeting its agenda freezes (7)
    COOP_BOARD_QUORUM                  the share of sitting directors to exceed, "1/2"
    COOP_BOARD_PROXIES_ALLOWED         a director may hold one written proxy (true)
    COOP_BOARD_QUORUM_COUNTS_PROXIES   represented directors count for the quorum (false)
    COOP_BOARD_CASTING_VOTE            the chair's open vote settles a tie (true)
    COOP_BOARD_QUALIFIED_MAJORITIES    item kind:rule, "statute_change:two_thirds"
    COOP_BOARD_STATUTORY_MONTHS        kind:month, "approve_accounts:3,convene_assembly:3,set_budget:11"
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from coop_board.domain.meetings import KINDS, STATUTORY_KINDS, MeetingRules
from coop_board.domain.voting import MAJORITY_RULES


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    return default if not value else value in ("1", "true", "yes", "on")


def _pairs(env: Mapping[str, str], name: str, default: str) -> list[tuple[str, str]]:
    raw = env.get(name, default)
    out = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = part.partition(":")
        if not value:
            raise ValueError(f"{name}: {part!r} is not key:value")
        out.append((key.strip(), value.strip()))
    return out


def meeting_rules(env: Mapping[str, str] | None = None) -> MeetingRules:
    env = os.environ if env is None else env
    num, _, den = env.get("COOP_BOARD_QUORUM", "1/2").partition("/")
    qualified = tuple(_pairs(env, "COOP_BOARD_QUALIFIED_MAJORITIES", "statute_change:two_thirds"))
    months = tuple((k, int(v)) for k, v in _pairs(env, "COOP_BOARD_STATUTORY_MONTHS",
                                                  "approve_accounts:3,convene_assembly:3,set_budget:11"))
    for kind, rule in qualified:
        if kind not in KINDS or rule not in MAJORITY_RULES:
            raise ValueError(f"COOP_BOARD_QUALIFIED_MAJORITIES: unknown kind or rule in {kind}:{rule}")
    for kind, month in months:
        if kind not in STATUTORY_KINDS or not 1 <= month <= 12:
            raise ValueError(f"COOP_BOARD_STATUTORY_MONTHS: {kind}:{month}")
    rules = MeetingRules(
        freeze_days=int(env.get("COOP_BOARD_AGENDA_FREEZE_DAYS", "7")), quorum_num=int(num), quorum_den=int(den or 2),
        proxies_allowed=_flag(env, "COOP_BOARD_PROXIES_ALLOWED", True),
        proxies_count_for_quorum=_flag(env, "COOP_BOARD_QUORUM_COUNTS_PROXIES", False),
        casting_vote=_flag(env, "COOP_BOARD_CASTING_VOTE", True), qualified=qualified, statutory_months=months)
    if rules.freeze_days < 0 or not 0 < rules.quorum_num < rules.quorum_den:
        raise ValueError("COOP_BOARD_AGENDA_FREEZE_DAYS >= 0 and COOP_BOARD_QUORUM a fraction below 1")
    return rules
