"""Who has voted in an election, as this service learns it from elections' `election.voted`:
what the reminder's re-check needs (a reminder goes only to a voter who has not voted yet, and
never after the close), and nothing of any ballot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from coop_domain.clock import as_utc


@dataclass(frozen=True)
class Voted:
    """A voter entered an election's register of who voted (their own ballot, one cast with their
    proxy, or a sign-in at the Assembly). `member_id` is the voter's id on the roll."""

    tenant: str
    election_id: str
    member_id: str
    voted_at: datetime


def voting_closed(closes_at: object, now: datetime) -> bool:
    """Whether voting has closed by `now`, going by the close a reminder's context carries
    (election.closing_soon's `closes_at`, RFC 3339); a missing or unreadable close is not taken
    as closed (the reminder goes)."""
    if not isinstance(closes_at, str) or not closes_at:
        return False
    try:
        closes = datetime.fromisoformat(closes_at)
    except ValueError:
        return False
    return as_utc(closes) <= now
