"""Other services' events -> the roster's typed facts (the worker's edge).

- elections' election.results_published -> `ElectionResults` (one group per elected question,
  with its mandate dates);
- membership's member events -> `coop_domain.membership` facts, parsed by the platform
  (`coop_platform.membership_facts`, shared with elections).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from google.protobuf import json_format

from coop.elections.v1 import events_pb2 as election_events
from coop_board import SERVICE_NAME
from coop_board.domain.roster import ElectedGroup, ElectionResults, RosterSettings
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_board.service_layer.roster import mandates_from_election
from coop_board.service_layer.roster_handlers import apply_member_fact
from coop_domain.principal import system_principal
from coop_platform.envelope import parse_data
from coop_platform.membership_facts import MalformedEvent, member_fact


def _day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise MalformedEvent(f"election.results_published: {what} {text!r} is not a YYYY-MM-DD day") from exc


def election_results(envelope: dict[str, Any]) -> ElectionResults:
    """The typed fact; MalformedEvent (dead-lettered, no retry helps) when it cannot be read."""
    try:
        data = parse_data(envelope, election_events.ResultsPublished)
    except (json_format.ParseError, ValueError, TypeError) as exc:
        raise MalformedEvent(f"election.results_published: {exc}") from exc
    if not data.election_id or not data.tenant:
        raise MalformedEvent("election.results_published without election id or tenant")
    groups = []
    for seat in data.seats:
        members = tuple(m for m in seat.elected_member_ids if m)
        if not members:
            continue
        groups.append(ElectedGroup(seat.question_id, members, _day(seat.mandate_start, "mandate_start"),
                                   _day(seat.mandate_end, "mandate_end")))
    return ElectionResults(data.election_id, data.tenant, tuple(groups))


def apply_results_event(uow: BoardUnitOfWork, envelope: dict[str, Any], settings: RosterSettings) -> None:
    """The inbox's effect (coop_platform.inbox.process_once), in the inbox's transaction."""
    results = election_results(envelope)
    mandates_from_election(uow, system_principal(SERVICE_NAME, results.tenant), results, settings)


def apply_member_event(uow: BoardUnitOfWork, envelope: dict[str, Any]) -> None:
    apply_member_fact(uow, member_fact(envelope))
