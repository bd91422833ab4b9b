"""Domain events of the elections service: what it tells the other services. The use cases
publish them with `uow.publish(event)`; adapters/events_out.py names them and builds their
protobuf (coop.elections.v1 events, docs/events.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .stored import RollSummary, StoredElection


@dataclass(frozen=True)
class ElectionOpened:
    """Voting has opened; the roll is frozen and its hash committed to."""

    election: StoredElection
    roll: RollSummary


@dataclass(frozen=True)
class ElectionClosingSoon:
    """Sent once, a lead time before the close, with the voters who have not voted yet."""

    election: StoredElection
    non_voters: tuple[str, ...]


@dataclass(frozen=True)
class VoterVoted:
    """A voter entered the register of who voted (own ballot, proxy ballot for the giver, sign-in
    at the Assembly), so the notifications service reminds them no more. Holds nothing of the
    ballot: the register row it mirrors is not a ballot link either (docs/elections.md, Secrecy)."""

    election: StoredElection
    voter_id: str
    voted_at: datetime


@dataclass(frozen=True)
class ResultsPublished:
    """Counted and published: `results` is the published results document (results.json)."""

    election: StoredElection
    results: dict[str, Any]
