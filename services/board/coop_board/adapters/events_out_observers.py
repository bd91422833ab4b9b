"""The observers family's events on the board's translator (adapters/events_out.py): ids only,
never names, contact data or any item's content."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.observers import (
    ObserverCancelled,
    ObserverPromoted,
    ObserverRegistered,
    ObserverSessionOpened,
)
from coop_platform.pbtypes import to_timestamp


@translate.register
def _opened(e: ObserverSessionOpened) -> tuple[str, Any, str | None]:
    return "observer_session.opened", events_pb2.ObserverSessionOpened(
        meeting_id=e.meeting_id, tenant=e.tenant, seats=e.seats,
        registration_deadline=to_timestamp(e.registration_deadline),
        meeting_starts_at=to_timestamp(e.meeting_starts_at)), e.meeting_id


@translate.register
def _registered(e: ObserverRegistered) -> tuple[str, Any, str | None]:
    return "observer.registered", events_pb2.ObserverRegistered(
        registration_id=e.registration_id, tenant=e.tenant, meeting_id=e.meeting_id, member_id=e.member_id,
        seated=e.seated, waiting_position=e.waiting_position,
        registered_at=to_timestamp(e.registered_at), speaking_slot=e.speaking_slot), e.registration_id


@translate.register
def _promoted(e: ObserverPromoted) -> tuple[str, Any, str | None]:
    return "observer.promoted", events_pb2.ObserverPromoted(
        registration_id=e.registration_id, tenant=e.tenant, meeting_id=e.meeting_id, member_id=e.member_id,
        promoted_at=to_timestamp(e.promoted_at)), e.registration_id


@translate.register
def _cancelled(e: ObserverCancelled) -> tuple[str, Any, str | None]:
    return "observer.cancelled", events_pb2.ObserverCancelled(
        registration_id=e.registration_id, tenant=e.tenant, meeting_id=e.meeting_id, member_id=e.member_id,
        was_seated=e.was_seated, promoted_registration_id=e.promoted_registration_id or "",
        cancelled_at=to_timestamp(e.cancelled_at)), e.registration_id
