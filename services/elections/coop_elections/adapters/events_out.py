"""Domain events -> (event name, protobuf message, subject): the unit of work's translator.
The messages are coop.elections.v1's events (proto/coop/elections/v1/events.proto), whose JSON
field names other services and partners read: they do not change (docs/events.md)."""

from __future__ import annotations

from datetime import UTC
from functools import singledispatch
from typing import Any

from coop.elections.v1 import events_pb2
from coop_elections.adapters.messages import iso
from coop_elections.domain.events import (
    ElectionClosingSoon,
    ElectionOpened,
    ResultsPublished,
    RollFrozen,
    VoterVoted,
)
from coop_elections.domain.verification import seed_commitment


@singledispatch
def translate(event: Any) -> tuple[str, Any, str | None]:
    raise TypeError(f"the elections service publishes no {type(event).__name__}")


@translate.register
def _opened(event: ElectionOpened) -> tuple[str, Any, str | None]:
    e, roll = event.election, event.roll
    return "election.opened", events_pb2.ElectionOpened(
        election_id=e.election_id, tenant=e.tenant, opens_at=iso(e.spec.window.opens_at),
        closes_at=iso(e.closes_at), roll_size=roll.size,
        titles={t.language: t.title for t in e.spec.texts},
        tie_break_seed_sha256=seed_commitment(e.tie_break_seed), roll_sha256=roll.sha256,
        roll_total_weight=roll.total_weight), e.election_id


@translate.register
def _roll_frozen(event: RollFrozen) -> tuple[str, Any, str | None]:
    e = event.election
    return "election.roll_frozen", events_pb2.RollFrozen(
        election_id=e.election_id, tenant=e.tenant, opens_at=iso(e.spec.window.opens_at),
        closes_at=iso(e.closes_at), titles={t.language: t.title for t in e.spec.texts},
        part=event.part, parts=event.parts, voter_ids=list(event.voter_ids), roll_size=event.roll_size), e.election_id


@translate.register
def _closing_soon(event: ElectionClosingSoon) -> tuple[str, Any, str | None]:
    e = event.election
    return "election.closing_soon", events_pb2.ElectionClosingSoon(
        election_id=e.election_id, tenant=e.tenant, closes_at=iso(e.closes_at),
        non_voters=list(event.non_voters)), e.election_id


@translate.register
def _voted(event: VoterVoted) -> tuple[str, Any, str | None]:
    """Who voted and when, to the second: no ballot, tracker or channel (docs/elections.md)."""
    e = event.election
    return "election.voted", events_pb2.VoterVoted(
        election_id=e.election_id, tenant=e.tenant, voter_id=event.voter_id,
        voted_at=iso(event.voted_at.astimezone(UTC).replace(microsecond=0))), e.election_id


@translate.register
def _results_published(event: ResultsPublished) -> tuple[str, Any, str | None]:
    e, results = event.election, event.results
    count = results["count"]
    mandates = results.get("mandates", {})
    seats, elected, adopted, rejected = [], [], [], []
    for q in count["questions"]:
        qid = q["question_id"]
        if q["method"] == "resolution":
            (adopted if q["adopted"] else rejected).append(qid)
        elif qid in mandates:
            start, end = mandates[qid]
            seats.append(events_pb2.ElectedSeat(question_id=qid, elected_member_ids=q["winners"],
                                                mandate_start=start, mandate_end=end))
            elected.extend(q["winners"])
    starts = sorted({s.mandate_start for s in seats})
    ends = sorted({s.mandate_end for s in seats})
    return "election.results_published", events_pb2.ResultsPublished(
        election_id=e.election_id, tenant=e.tenant, seats=seats, elected_member_ids=elected,
        mandate_start=starts[0] if starts else "", mandate_end=ends[-1] if ends else "",
        box_head_hash=results["head_hash"], tie_break_seed=count["tie_break_seed"],
        ballots=count["ballots"], adopted_resolutions=adopted, rejected_resolutions=rejected), e.election_id
