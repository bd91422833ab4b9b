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


#: voter ids per election.roll_frozen part: a part stays well under a megabyte of JSON
ROLL_PART_SIZE = 5_000


@dataclass(frozen=True)
class RollFrozen:
    """One part of the frozen roll's voter ids, for the invitations (published with
    ElectionOpened, `part` of `parts`)."""

    election: StoredElection
    part: int
    parts: int
    voter_ids: tuple[str, ...]
    roll_size: int


def roll_parts(election: StoredElection, voter_ids: list[str], size: int = ROLL_PART_SIZE) -> list[RollFrozen]:
    """The roll's voters (sorted) in parts of at most `size`; one empty part for an empty roll."""
    ordered = sorted(voter_ids)
    chunks = [tuple(ordered[i:i + size]) for i in range(0, len(ordered), size)] or [()]
    return [RollFrozen(election, k, len(chunks), chunk, len(ordered)) for k, chunk in enumerate(chunks, 1)]


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
