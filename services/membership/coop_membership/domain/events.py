"""Domain events: facts the membership service publishes (see proto events.proto)."""

from __future__ import annotations

from dataclasses import dataclass, field

from coop_membership.domain.model import Member, Share, StatusChange


@dataclass(frozen=True)
class MemberAdmitted:
    member: Member
    readmission: bool = False
    in_good_standing: bool = False


@dataclass(frozen=True)
class MemberUpdated:
    member: Member
    changed_fields: list[str] = field(default_factory=list)
    in_good_standing: bool = False


@dataclass(frozen=True)
class MemberErased:
    """The member's personal data is gone; every copy elsewhere must go too."""

    member: Member


@dataclass(frozen=True)
class MemberStatusChanged:
    member: Member
    change: StatusChange
    in_good_standing: bool


@dataclass(frozen=True)
class ShareSubscribed:
    share: Share
    member: Member


@dataclass(frozen=True)
class SharePaid:
    share: Share
    member: Member
    in_good_standing: bool


@dataclass(frozen=True)
class ShareRefunded:
    share: Share
    member: Member
    reason: str


Event = MemberAdmitted | MemberUpdated | MemberErased | MemberStatusChanged | ShareSubscribed | SharePaid | ShareRefunded
