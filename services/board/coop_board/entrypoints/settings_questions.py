"""The questions family's settings (environment, read once by the api), handed to the domain as
`QuestionRules` (docs/board.md, Settings).

    COOP_BOARD_QUESTION_MAX_CHARS   the longest question, in characters after trimming (2000)
    COOP_BOARD_QUESTIONS_OPEN_TO    who submits and supports: good_standing (members in good
                                    standing, the default) or members (any member)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from coop_board.domain.questions import ANY_MEMBER, GOOD_STANDING, QuestionRules


def question_rules(env: Mapping[str, str] | None = None) -> QuestionRules:
    env = os.environ if env is None else env
    raw = env.get("COOP_BOARD_QUESTION_MAX_CHARS", "2000").strip()
    if not raw.isdigit() or not 1 <= int(raw) <= 100_000:
        raise ValueError(f"COOP_BOARD_QUESTION_MAX_CHARS: {raw!r} is not a number of characters (1 to 100000)")
    open_to = env.get("COOP_BOARD_QUESTIONS_OPEN_TO", GOOD_STANDING).strip() or GOOD_STANDING
    if open_to not in (GOOD_STANDING, ANY_MEMBER):
        raise ValueError(f"COOP_BOARD_QUESTIONS_OPEN_TO: {open_to!r} is not {GOOD_STANDING} or {ANY_MEMBER}")
    return QuestionRules(max_chars=int(raw), open_to=open_to)
