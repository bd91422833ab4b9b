"""Handlers of membership's events (our own cooperative's projection of members in good
standing), and the readiness view that tells a client whether a roll built now is complete.

The worker parses each event at its edge (adapters/events_in.py) into a typed fact and calls
`apply_member_fact` inside the inbox's transaction (coop_platform.inbox.process_once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coop_domain.errors import FailedPrecondition
from coop_domain.principal import Principal
from coop_elections.domain.members import MemberErased, MemberFact
from coop_elections.service_layer.common import MEMBER_ROLL_TENANT
from coop_elections.service_layer.ports import ElectionsUnitOfWork

ERASED = "erased"


def apply_member_fact(uow: ElectionsUnitOfWork, fact: MemberFact) -> None:
    """One membership event into the projection, in the caller's (the inbox's) transaction. Each
    event type comes on its own queue, so they may arrive out of order: the projection keeps, per
    value, the one set by the newest event (see project_member)."""
    if isinstance(fact, MemberErased):
        erase_member(uow, fact.member_id, fact.at)
        return
    uow.elections.project_member(fact.member_id, fact.at, status=fact.status, category=fact.category,
                                 in_good_standing=fact.in_good_standing)


def erase_member(uow: ElectionsUnitOfWork, member_id: str, erased_at: datetime) -> None:
    """member.erased: drop what this service holds of the member's own words, keep their
    pseudonymous id. Their candidacy statements (which may hold a name, a biography, contact
    data) are emptied in every election of our cooperative, and a candidacy still within its
    nomination window is withdrawn (not a member any more). The id stays on rolls, in the
    register, in proxies, the sign-in audit and published results: the roll's SHA-256 and the
    published box, election and results of a closed election must still verify. The projection
    keeps a tombstone (status "erased", not in good standing, as of `erased_at`) so that a late,
    older event cannot put the member back on a roll."""
    uow.elections.project_member(member_id, erased_at, status=ERASED, in_good_standing=False)
    uow.elections.erase_candidacies(MEMBER_ROLL_TENANT, member_id, erased_at)


@dataclass(frozen=True)
class ProjectionReadiness:
    """How far the members projection has caught up with membership's events.

    `last_event_time`: when membership committed the newest event applied here;
    `last_applied_at`: when this service applied its newest event; `lag_seconds`: now minus
    `last_event_time` (how stale the projection may be: a member admitted since then is missing).
    """

    members: int
    last_event_time: datetime | None
    last_applied_at: datetime | None
    lag_seconds: float | None


def projection_readiness(uow: ElectionsUnitOfWork, caller: Principal, now: datetime) -> ProjectionReadiness:
    """Our cooperative's admins ask it before building a roll from the members; partners import
    their rolls and have no projection."""
    caller.require("admin")
    if caller.tenant != MEMBER_ROLL_TENANT:
        raise FailedPrecondition("the membership projection is the cooperative's own; partners import their roll",
                                 reason="PARTNERS_IMPORT_THEIR_ROLL")
    with uow:
        members, last_event, applied = uow.read_only().elections.projection_state()
    lag = (now - last_event).total_seconds() if last_event is not None else None
    return ProjectionReadiness(members, last_event, applied, lag)
