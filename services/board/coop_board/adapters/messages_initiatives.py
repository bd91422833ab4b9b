"""Initiatives' views -> coop.board.v1 messages (proto/coop/board/v1/initiatives.proto), and the
enums back."""

from __future__ import annotations

from coop.board.v1 import common_pb2
from coop.board.v1 import initiatives_pb2 as pb
from coop_board.adapters.messages_observers import text_to_pb
from coop_board.domain import initiatives as d
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.initiatives import InitiativeView
from coop_board.service_layer.ports_initiatives import CountView, Signer
from coop_platform.pbtypes import to_timestamp

STATUS = {d.DRAFT: pb.INITIATIVE_STATUS_DRAFT, d.SUBMITTED: pb.INITIATIVE_STATUS_SUBMITTED,
          d.REFUSED: pb.INITIATIVE_STATUS_REFUSED, d.COLLECTING: pb.INITIATIVE_STATUS_COLLECTING,
          d.EXPIRED: pb.INITIATIVE_STATUS_EXPIRED, d.QUALIFIED: pb.INITIATIVE_STATUS_QUALIFIED,
          d.DISCUSSED: pb.INITIATIVE_STATUS_DISCUSSED, d.CLOSED: pb.INITIATIVE_STATUS_CLOSED}
STATUS_OF = {v: k for k, v in STATUS.items()}
PROMOTER = {d.AUTHOR: pb.PROMOTER_STATUS_AUTHOR, d.INVITED: pb.PROMOTER_STATUS_INVITED,
            d.ACCEPTED: pb.PROMOTER_STATUS_ACCEPTED, d.DECLINED: pb.PROMOTER_STATUS_DECLINED}
OUTCOME = {d.ADOPTED_AS_PROPOSED: common_pb2.INITIATIVE_OUTCOME_KIND_ADOPTED_AS_PROPOSED,
           d.ADOPTED_AMENDED: common_pb2.INITIATIVE_OUTCOME_KIND_ADOPTED_AMENDED,
           d.REJECTED: common_pb2.INITIATIVE_OUTCOME_KIND_REJECTED,
           d.REFERRED_TO_ASSEMBLY: common_pb2.INITIATIVE_OUTCOME_KIND_REFERRED_TO_ASSEMBLY}
OUTCOME_OF = {v: k for k, v in OUTCOME.items()}


def text_from_pb(t: common_pb2.LocalizedText) -> LocalizedText:
    return LocalizedText(t.fr, t.nl, t.en)


def status_from_pb(value: int) -> str | None:
    """UNSPECIFIED (or an unknown number): no filter."""
    return STATUS_OF.get(value)


def outcome_from_pb(value: int) -> str:
    return OUTCOME_OF.get(value, "")  # "" is refused by the domain (MISSING_OUTCOME_KIND)


def initiative_to_pb(v: InitiativeView) -> pb.Initiative:
    s = v.initiative
    out = pb.Initiative(
        initiative_id=s.initiative_id, status=STATUS[s.status], language=s.language, title=text_to_pb(s.title),
        text=text_to_pb(s.text), question=text_to_pb(s.question), author_id=s.author_id,
        promoters=[pb.Promoter(member_id=p.member_id, status=PROMOTER[p.status], invited_at=to_timestamp(p.invited_at),
                               answered_at=to_timestamp(p.answered_at))
                   for p in s.visible_promoters(v.full_committee)],
        required_promoters=s.required_promoters, created_at=to_timestamp(s.created_at),
        submitted_at=to_timestamp(s.submitted_at), admissibility_due_at=to_timestamp(s.admissibility_due_at),
        admissibility_decided_at=to_timestamp(s.decided_at), admissible_by_default=s.admissible_by_default,
        collection_opens_at=to_timestamp(s.opens_at), collection_closes_at=to_timestamp(s.closes_at),
        threshold=s.threshold, threshold_rule=s.threshold_rule, threshold_percent=s.threshold_percent,
        members_in_good_standing_at_opening=s.members_base, signature_count=v.signature_count,
        progress_percent=s.progress, qualified_at=to_timestamp(s.qualified_at),
        verified_signatures=s.verified_signatures, expired_at=to_timestamp(s.expired_at),
        discussed_at=to_timestamp(s.discussed_at), decision_id=s.decision_id or "",
        outcome_due_at=to_timestamp(s.outcome_due_at), overdue=s.overdue(),
        overdue_since=to_timestamp(s.overdue_since))
    if s.refusal_reason is not None:
        out.refusal_reason.CopyFrom(text_to_pb(s.refusal_reason))
    if s.forced is not None:
        out.forced_item.CopyFrom(pb.ForcedAgendaItem(
            meeting_id=s.forced.meeting_id, item_id=s.forced.item_id,
            meeting_starts_at=to_timestamp(s.forced.meeting_starts_at), extra_meeting=s.forced.extra_meeting))
    if s.outcome is not None:
        out.outcome.CopyFrom(pb.InitiativeOutcome(
            kind=OUTCOME[s.outcome.kind], text=text_to_pb(s.outcome.text),
            published_at=to_timestamp(s.outcome.published_at), assembly_id=s.outcome.assembly_id or ""))
    return out


def count_to_pb(c: CountView) -> pb.GetSignatureCountResponse:
    return pb.GetSignatureCountResponse(initiative_id=c.initiative_id, status=STATUS[c.status],
                                        signature_count=c.signature_count, threshold=c.threshold,
                                        collection_closes_at=to_timestamp(c.closes_at))


def signer_to_pb(s: Signer) -> pb.InitiativeSigner:
    return pb.InitiativeSigner(member_id=s.member_id, signed_at=to_timestamp(s.signed_at),
                               in_good_standing=s.in_good_standing)
