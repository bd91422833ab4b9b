"""What another service learns about members from membership's events, as typed facts (the
projections of members in good standing kept by elections and the board): each consumer's worker
parses an event at its edge (`coop_platform.membership_facts.member_fact`) into one of these.

Each fact carries one event time (`at`): when membership committed the event (CloudEvents
`time`, or the erasure's own time). Events of different types arrive on different queues, in any
order; a projection keeps, per value, the one set by the newest event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MemberContact:
    """The contact data member.admitted / member.updated carry in their Member message (read by
    the notifications service; the standing projections ignore it). Empty strings: not given."""

    member_number: str = ""
    given_name: str = ""
    email: str = ""
    preferred_language: str = ""
    erased: bool = False


@dataclass(frozen=True)
class MemberChanged:
    """member.admitted / member.updated / member.status_changed / share.paid: the values the
    event states (None: the event says nothing about it)."""

    member_id: str
    at: datetime
    status: str | None = None
    category: str | None = None
    in_good_standing: bool | None = None
    #: member.admitted / member.updated only: the member's contact data (None: not stated)
    contact: MemberContact | None = None

    @property
    def language(self) -> str | None:
        """The preferred language the event states ("fr", "nl", "en", ...), as the standing
        projections keep it; None when it states none."""
        if self.contact is None:
            return None
        return self.contact.preferred_language.strip().lower()[:16] or None


@dataclass(frozen=True)
class MemberErased:
    """member.erased: the member's personal data goes; their pseudonymous id stays."""

    member_id: str
    at: datetime


MemberFact = MemberChanged | MemberErased
