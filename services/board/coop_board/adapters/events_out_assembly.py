"""The assembly family's events on the board's translator (adapters/events_out.py): pseudonymous
member ids only, never names or contact data (the notifications service looks those up)."""

from __future__ import annotations

from typing import Any

from coop.board.v1 import common_pb2, events_pb2
from coop_board.adapters.events_out import translate
from coop_board.domain.assembly import (
    AssemblyConvened,
    AssemblyRegistered,
    AssemblyScheduled,
    AssemblyWorkshopPromoted,
)
from coop_platform.pbtypes import to_timestamp


@translate.register
def _scheduled(e: AssemblyScheduled) -> tuple[str, Any, str | None]:
    return "assembly.scheduled", events_pb2.AssemblyScheduled(
        assembly_id=e.assembly_id, tenant=e.tenant, title=common_pb2.LocalizedText(**e.title.as_dict()),
        starts_at=to_timestamp(e.starts_at), place=e.place,
        registration_deadline=to_timestamp(e.registration_deadline), election_id=e.election_id), e.assembly_id


@translate.register
def _convened(e: AssemblyConvened) -> tuple[str, Any, str | None]:
    return "assembly.convened", events_pb2.AssemblyConvened(
        assembly_id=e.assembly_id, tenant=e.tenant, member_id=e.member_id, language=e.language, title=e.title,
        starts_at=to_timestamp(e.starts_at), place=e.place, registration_deadline=to_timestamp(e.registration_deadline),
        agenda=list(e.agenda), documents=[events_pb2.ConvocationDocument(title=t, reference=r) for t, r in e.documents],
        election_id=e.election_id), e.assembly_id


@translate.register
def _registered(e: AssemblyRegistered) -> tuple[str, Any, str | None]:
    return "assembly.registered", events_pb2.AssemblyRegistered(
        registration_id=e.registration_id, tenant=e.tenant, assembly_id=e.assembly_id, member_id=e.member_id,
        attendance=e.attendance, interpretation_language=e.interpretation_language,
        workshops=[events_pb2.AssemblyWorkshopChoice(workshop_id=w, seated=s, waiting_position=n)
                   for w, s, n in e.workshops],
        registered_at=to_timestamp(e.registered_at)), e.registration_id


@translate.register
def _promoted(e: AssemblyWorkshopPromoted) -> tuple[str, Any, str | None]:
    return "assembly.workshop_promoted", events_pb2.AssemblyWorkshopPromoted(
        registration_id=e.registration_id, tenant=e.tenant, assembly_id=e.assembly_id, workshop_id=e.workshop_id,
        member_id=e.member_id, promoted_at=to_timestamp(e.promoted_at)), e.registration_id
