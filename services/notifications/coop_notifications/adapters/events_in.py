"""Consumed events -> typed facts and notices for the service layer (the worker's edge).

Membership's events update the recipients projection, parsed by the platform
(`coop_platform.membership_facts`, shared with the elections and board projections; it reads the
contact data of member.admitted and member.updated too). Elections' election.voted updates the
projection of who voted (the reminder's re-check), which election.results_published empties for
its election: neither is a notification of its own. Every event of adapters/event_map.py becomes
a Notice and its delivery rows, in the same transaction (the projection first, so a welcome
finds the new member's address).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.elections.v1 import events_pb2 as election_events
from coop_domain.clock import as_utc
from coop_domain.principal import DEFAULT_TENANT
from coop_notifications.adapters.event_map import BY_EVENT, Route, notice_of, parse_event, read_data
from coop_notifications.domain.turnout import Voted
from coop_notifications.service_layer.handlers import apply_notice, apply_notices
from coop_notifications.service_layer.ports import ElectionRolls, NotificationsUnitOfWork
from coop_notifications.service_layer.recipients import apply_member_fact
from coop_notifications.service_layer.turnout import forget_election, record_roll, record_voted
from coop_platform.envelope import event_time, source_service_of
from coop_platform.membership_facts import (
    MEMBERSHIP_EVENTS,
    MalformedEvent,
    event_name,
    member_fact,
)

__all__ = ["CONSUMED", "MalformedEvent", "apply_member_event", "effect_for", "event_name", "voted_fact"]

Effect = Callable[[NotificationsUnitOfWork, dict[str, Any]], None]


def apply_member_event(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    """The recipients projection's effect of one membership event."""
    apply_member_fact(uow, member_fact(envelope))


def voted_fact(envelope: dict[str, Any]) -> Voted:
    """election.voted as a typed fact; MalformedEvent when it names no election or voter. The
    time is the event's `votedAt`, or its CloudEvents time when that is missing."""
    data = parse_event("election.voted", envelope, election_events.VoterVoted)
    try:
        at = as_utc(datetime.fromisoformat(data.voted_at)) if data.voted_at else event_time(envelope)
    except (ValueError, TypeError) as exc:
        raise MalformedEvent(f"election.voted: {exc}") from exc
    if not data.election_id or not data.voter_id:
        raise MalformedEvent("election.voted without election_id or voter_id")
    return Voted(data.tenant or DEFAULT_TENANT, data.election_id, data.voter_id, at)


def apply_voted_event(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    record_voted(uow, voted_fact(envelope))


def forget_election_at_results(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    """election.results_published, once its notice has found the roll: the election's rows of who
    voted and its roll go (41,702 voter ids a year, needed by nothing after the results)."""
    data = parse_event("election.results_published", envelope, election_events.ResultsPublished)
    if not data.election_id:
        raise MalformedEvent("election.results_published without election_id")
    forget_election(uow, data.tenant or DEFAULT_TENANT, data.election_id)


def record_roll_part(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
    """election.roll_frozen: a part of the frozen roll joins the projection of who may vote (the
    results' audience; the part's own invitations are the route's)."""
    data = parse_event("election.roll_frozen", envelope, election_events.RollFrozen)
    if not data.election_id:
        raise MalformedEvent("election.roll_frozen without election_id")
    if not all(data.voter_ids):
        raise MalformedEvent("election.roll_frozen names an empty voter id")
    record_roll(uow, data.tenant or DEFAULT_TENANT, data.election_id, list(data.voter_ids))


#: the projections' effects, per (source service, routing key): applied before the event's notice
PROJECTIONS: dict[tuple[str, str], Effect] = {
    **{("membership", name): apply_member_event for name in MEMBERSHIP_EVENTS},
    ("elections", "election.roll_frozen"): record_roll_part,
    ("elections", "election.voted"): apply_voted_event,
}

#: effects applied after the event's notice, in its transaction: what the notice still needed
AFTER_NOTICE: dict[tuple[str, str], Effect] = {
    ("elections", "election.results_published"): forget_election_at_results,
}

#: (source service, routing key) of every event the worker consumes
CONSUMED: tuple[tuple[str, str], ...] = tuple(dict.fromkeys(list(PROJECTIONS) + list(BY_EVENT) + list(AFTER_NOTICE)))


def effect_for(source: str, event: str, rolls: ElectionRolls, clock: Callable[[], datetime]) -> Effect:
    """The inbox effect (coop_platform.inbox.process_once) of one consumed event."""
    route: Route | None = BY_EVENT.get((source, event))
    project: Effect | None = PROJECTIONS.get((source, event))
    after: Effect | None = AFTER_NOTICE.get((source, event))

    def checked(envelope: dict[str, Any]) -> dict[str, Any]:
        if source_service_of(envelope) != source or event_name(envelope) != event:
            raise MalformedEvent(f"expected {source} {event}, got {envelope.get('type')}")
        return envelope

    def effect(uow: NotificationsUnitOfWork, envelope: dict[str, Any]) -> None:
        checked(envelope)
        if project is not None:
            project(uow, envelope)
        if route is not None:
            apply_notice(uow, notice_of(route, read_data(route, envelope)), str(envelope["id"]), rolls, clock())
        if after is not None:
            after(uow, envelope)

    def many(uow: NotificationsUnitOfWork, envelopes: list[dict[str, Any]]) -> None:
        """The notices of several such events (a convocation's 41,702, say) stored in one go."""
        assert route is not None
        apply_notices(uow, [(notice_of(route, read_data(route, checked(e))), str(e["id"])) for e in envelopes],
                      rolls, clock())

    if project is None and after is None and route is not None:  # a projection's events stay one by one, in order
        effect.many = many  # type: ignore[attr-defined]
    return effect
