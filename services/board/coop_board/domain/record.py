"""The record of one meeting as the minutes need it: who attended, the quorum at each vote, the
items with their declarations of interest, amendments, votes, decisions and follow-up actions.

This is the contract between the meetings side (which builds it from its aggregates:
`service_layer.meeting_records.full_record`, which adds each dossier item's amendments) and the minutes side (which drafts, redacts, translates
and renders minutes from it). Plain frozen values, no behaviour beyond views of itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from coop_board.domain.texts import LocalizedText

ATTENDANCE = ("present", "remote", "excused", "absent")
VISIBILITIES = ("open", "closed")
SOURCES = ("statutory", "dossier", "member_concern", "member_initiative", "other")


@dataclass(frozen=True)
class AttendanceLine:
    director_id: str
    status: str                      # one of ATTENDANCE
    proxy_holder_id: str | None = None  # the director holding this one's written proxy


@dataclass(frozen=True)
class InterestDeclaration:
    director_id: str
    item_id: str
    statement: str                   # minuted as declared


@dataclass(frozen=True)
class VoteTally:
    for_: int = 0
    against: int = 0
    abstain: int = 0
    by_option: tuple[tuple[str, int], ...] = ()  # "choose one among": (proposal id, votes)


@dataclass(frozen=True)
class VoteRecord:
    vote_id: str
    item_id: str
    subject: str                     # "proposal", "amendment", "choice", "consent", "send_back"
    subject_id: str                  # proposal, amendment or item id
    subject_title: LocalizedText
    at: datetime
    sitting: int                     # directors sitting on that day
    eligible_present: int            # present (or represented) and not recused
    quorum_required: int
    quorum_met: bool
    majority_rule: str               # "simple", "two_thirds", ... as configured for the item
    tally: VoteTally
    outcome: str                     # "adopted", "rejected", "chosen:<proposal id>"
    secret: bool = False
    ballots: tuple[tuple[str, str], ...] = ()  # (director id, "for"/"against"/"abstain"/option); empty when secret
    recused: tuple[str, ...] = ()
    casting_vote_used: bool = False


@dataclass(frozen=True)
class AmendmentLine:
    amendment_id: str
    proposal_id: str                 # the proposal it amends (through its parent chain)
    parent_id: str                   # the proposal or amendment it amends
    author_id: str
    level: int                       # 1 or 2
    text: LocalizedText
    diff: LocalizedText              # unified diff against the parent's text, per language
    outcome: str                     # "pending", "adopted", "rejected", "withdrawn"


@dataclass(frozen=True)
class FollowUpAction:
    action_id: str
    description: LocalizedText
    owner_id: str
    due_on: date
    done_on: date | None = None


@dataclass(frozen=True)
class DecisionLine:
    decision_id: str
    item_id: str
    kind: str                        # "adopted", "sent_back", "rejected", "approved_minutes", ...
    title: LocalizedText
    adopted_text: LocalizedText      # empty when nothing was adopted
    proposal_id: str | None
    tally: VoteTally
    recused: tuple[str, ...]
    effective_on: date | None
    actions: tuple[FollowUpAction, ...] = ()
    send_back_reasons: LocalizedText | None = None
    send_back_due_on: date | None = None


@dataclass(frozen=True)
class ItemRecord:
    item_id: str
    position: int
    title: LocalizedText
    source: str                      # one of SOURCES
    visibility: str                  # one of VISIBILITIES
    consent: bool = False            # voted in the consent block
    pulled_from_consent_by: str | None = None
    dossier_id: str | None = None
    dossier_version: int | None = None
    declarations: tuple[InterestDeclaration, ...] = ()
    amendments: tuple[AmendmentLine, ...] = ()
    votes: tuple[VoteRecord, ...] = ()
    decision: DecisionLine | None = None

    @property
    def closed(self) -> bool:
        return self.visibility == "closed"


@dataclass(frozen=True)
class MeetingRecord:
    meeting_id: str
    tenant: str
    title: LocalizedText
    starts_at: datetime
    place: str
    chair_id: str | None
    secretary_id: str | None
    attendance: tuple[AttendanceLine, ...]
    items: tuple[ItemRecord, ...]
    sitting_director_ids: tuple[str, ...] = field(default=())
