"""Handlers of membership's events: the board's projection of members (category, status, good
standing). The worker parses each event at its edge (`coop_platform.membership_facts`) and calls
`apply_member_fact` inside the inbox's transaction."""

from __future__ import annotations

from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.membership import MemberErased, MemberFact

ERASED = "erased"


def apply_member_fact(uow: BoardUnitOfWork, fact: MemberFact) -> None:
    """Per value, the newest event wins (event types arrive on separate queues, in any order). An
    erased member keeps a tombstone (status "erased", not in good standing): a director who is
    erased stays on past rosters by id, flagged."""
    if isinstance(fact, MemberErased):
        uow.members.project(fact.member_id, fact.at, status=ERASED, in_good_standing=False)
        return
    uow.members.project(fact.member_id, fact.at, status=fact.status, category=fact.category,
                        in_good_standing=fact.in_good_standing, language=fact.language)
