"""Values one family of the board reads from another (the contract between roster, meetings and
minutes; see service_layer/ports.py): plain frozen values, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from coop_board.domain.texts import LocalizedText

CATEGORIES = ("user", "permanent_staff", "external_partner")
OFFICES = ("chair", "vice_chair", "secretary")
CONVOCABLE_STATUSES = ("active", "suspended")  # still members: convened to the General Assembly


@dataclass(frozen=True)
class SittingDirector:
    """A director whose mandate covers a given day (roster -> meetings)."""

    director_id: str          # member id
    mandate_id: str
    seat_id: str
    category: str | None      # one of CATEGORIES, from membership's events (None: not known yet)


@dataclass(frozen=True)
class MemberStanding:
    """Membership's view of one member as the board's projection holds it (roster -> all)."""

    member_id: str
    status: str | None        # "active", "suspended", "resigned", "excluded", ...
    category: str | None
    in_good_standing: bool
    language: str | None = None  # preferred language ("fr", "nl", "en", ...); None: not known


@dataclass(frozen=True)
class MeetingSummary:
    """What other families need to know of a meeting (meetings -> minutes, observers)."""

    meeting_id: str
    tenant: str
    title: LocalizedText
    starts_at: datetime
    status: str               # "scheduled", "in_session", "closed", "cancelled"
    agenda_frozen: bool
    has_open_items: bool
    agenda_published: bool = True  # members (observers) read the items of a published agenda only


@dataclass(frozen=True)
class DecisionSummary:
    """A decision as the roster reads it to appoint officers and the delegated administration."""

    decision_id: str
    tenant: str
    meeting_id: str
    item_kind: str            # e.g. "appoint_management", "elect_officer", "dossier", ...
    adopted: bool
    effective_on: date | None


#: Kinds of agenda item other families refer to (the meetings family may add more).
APPROVE_MINUTES = "approve_minutes"      # ref: minutes id (or an erratum's); minutes family
ELECT_OFFICER = "elect_officer"          # ref: office; the roster records the term
APPOINT_MANAGEMENT = "appoint_management"  # the roster records the appointment


@dataclass(frozen=True)
class ProposalRef:
    """A proposal, or an amendment to one, as the meetings family votes on it (dossiers ->
    meetings). An amendment's parent is the proposal or amendment it amends (level 1 or 2)."""

    subject_id: str           # proposal or amendment id
    dossier_id: str
    version: int
    parent_id: str | None     # None for a proposal
    level: int                # 0 proposal, 1 amendment, 2 sub-amendment
    title: LocalizedText
    text: LocalizedText
    recommended: bool         # by management (proposals only)
    status: str               # "open", "adopted", "rejected", "withdrawn"


@dataclass(frozen=True)
class AssemblySummary:
    """What other families need to know of a General Assembly (assembly -> questions, initiatives)."""

    assembly_id: str
    tenant: str
    title: LocalizedText
    starts_at: datetime
    registration_deadline: datetime
    status: str               # "scheduled", "convening", "convened", "held", "cancelled"


@dataclass(frozen=True)
class ForcedItem:
    """Where a qualified initiative's forced item landed (meetings -> initiatives)."""

    meeting_id: str
    item_id: str
    meeting_starts_at: datetime
    extra_meeting: bool       # True: no regular meeting within the delay, an extra one was scheduled
