"""The initiatives family's events on the board's translator (adapters/events_out.py): the
promoters' member ids (whom the notifications service notifies), never a signer's."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2
from coop_board.adapters.events_out import translate
from coop_board.adapters.messages_initiatives import OUTCOME
from coop_board.adapters.messages_observers import text_to_pb
from coop_board.domain.initiatives import (
    CollectionOpened,
    InitiativeAdmissible,
    InitiativeExpired,
    InitiativeQualified,
    InitiativeRefused,
    InitiativeSubmitted,
    OutcomeOverdue,
    OutcomePublished,
    ThresholdProgress,
)
from coop_platform.pbtypes import to_timestamp


@translate.register
def _submitted(e: InitiativeSubmitted) -> tuple[str, Any, str | None]:
    return "initiative.submitted", events_pb2.InitiativeSubmitted(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, title=text_to_pb(e.title),
        language=e.language, submitted_at=to_timestamp(e.submitted_at),
        admissibility_due_at=to_timestamp(e.admissibility_due_at)), e.initiative_id


@translate.register
def _admissible(e: InitiativeAdmissible) -> tuple[str, Any, str | None]:
    return "initiative.admissible", events_pb2.InitiativeAdmissible(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, by_default=e.by_default,
        decided_at=to_timestamp(e.decided_at)), e.initiative_id


@translate.register
def _refused(e: InitiativeRefused) -> tuple[str, Any, str | None]:
    return "initiative.refused", events_pb2.InitiativeRefused(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, reason=text_to_pb(e.reason),
        decided_at=to_timestamp(e.decided_at)), e.initiative_id


@translate.register
def _opened(e: CollectionOpened) -> tuple[str, Any, str | None]:
    return "initiative.collection_opened", events_pb2.InitiativeCollectionOpened(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, title=text_to_pb(e.title),
        threshold=e.threshold, opens_at=to_timestamp(e.opens_at), closes_at=to_timestamp(e.closes_at)), e.initiative_id


@translate.register
def _progress(e: ThresholdProgress) -> tuple[str, Any, str | None]:
    return "initiative.threshold_progress", events_pb2.InitiativeThresholdProgress(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, percent=e.percent,
        signature_count=e.signature_count, threshold=e.threshold,
        reached_at=to_timestamp(e.reached_at)), e.initiative_id


@translate.register
def _qualified(e: InitiativeQualified) -> tuple[str, Any, str | None]:
    return "initiative.qualified", events_pb2.InitiativeQualified(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids,
        verified_signatures=e.verified_signatures, threshold=e.threshold, qualified_at=to_timestamp(e.qualified_at),
        meeting_id=e.forced.meeting_id, item_id=e.forced.item_id,
        meeting_starts_at=to_timestamp(e.forced.meeting_starts_at),
        outcome_due_at=to_timestamp(e.outcome_due_at)), e.initiative_id


@translate.register
def _expired(e: InitiativeExpired) -> tuple[str, Any, str | None]:
    return "initiative.expired", events_pb2.InitiativeExpired(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids,
        verified_signatures=e.verified_signatures, threshold=e.threshold,
        expired_at=to_timestamp(e.expired_at)), e.initiative_id


@translate.register
def _outcome(e: OutcomePublished) -> tuple[str, Any, str | None]:
    return "initiative.outcome_published", events_pb2.InitiativeOutcomePublished(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, kind=OUTCOME[e.outcome.kind],
        text=text_to_pb(e.outcome.text), published_at=to_timestamp(e.outcome.published_at),
        assembly_id=e.outcome.assembly_id or "", late=e.late), e.initiative_id


@translate.register
def _overdue(e: OutcomeOverdue) -> tuple[str, Any, str | None]:
    return "initiative.outcome_overdue", events_pb2.InitiativeOutcomeOverdue(
        initiative_id=e.initiative_id, tenant=e.tenant, promoter_ids=e.promoter_ids, meeting_id=e.meeting_id,
        outcome_due_at=to_timestamp(e.outcome_due_at), flagged_at=to_timestamp(e.flagged_at)), e.initiative_id
