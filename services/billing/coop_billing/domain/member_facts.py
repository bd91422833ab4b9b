"""What billing learns of a member from membership's events: typed facts, parsed from the
envelopes at the worker's edge (adapters/events_in.py) and applied to the member projection by
service_layer/handlers.py. `occurred_at` is the event's CloudEvents time: the projection takes
each part (status, standing, names) only from a fact at least as recent as the one that set it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class MemberNames:
    """The names and language an event carries; None where it carries none."""

    given_name: str | None = None
    family_name: str | None = None
    preferred_language: str | None = None


@dataclass(frozen=True)
class MemberAdmitted:
    member_id: str
    member_number: str
    names: MemberNames
    occurred_at: datetime


@dataclass(frozen=True)
class MemberUpdated:
    member_id: str
    member_number: str
    names: MemberNames
    occurred_at: datetime


@dataclass(frozen=True)
class MemberStatusChanged:
    """status: the new status in lower case ("active", "suspended"...)."""

    member_id: str
    member_number: str
    status: str
    in_good_standing: bool
    occurred_at: datetime


@dataclass(frozen=True)
class MemberSharePaid:
    """Membership's share.paid: the member's standing after the payment."""

    member_id: str
    member_number: str
    in_good_standing: bool
    occurred_at: datetime


@dataclass(frozen=True)
class MemberErased:
    member_id: str
    member_number: str
    occurred_at: datetime
