"""The General Assembly's values <-> coop.board.v1 messages (proto/coop/board/v1/assembly.proto)."""

from __future__ import annotations

from coop.board.v1 import assembly_pb2 as pb
from coop.board.v1 import common_pb2
from coop_board.domain.assembly import (
    APPROVE_ACCOUNTS,
    BOARD_ELECTION,
    CANCELLED,
    CONVENED,
    CONVENING,
    DISCHARGE_DIRECTORS,
    HELD,
    IN_PERSON,
    INITIATIVE,
    REMOTE,
    SCHEDULED,
    AssemblyDocument,
    AssemblyRegistration,
    AttendanceFigures,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.assembly import AssemblyView, Attendee, WorkshopView
from coop_platform.pbtypes import to_timestamp

STATUS = {SCHEDULED: pb.ASSEMBLY_STATUS_SCHEDULED, CONVENING: pb.ASSEMBLY_STATUS_CONVENING,
          CONVENED: pb.ASSEMBLY_STATUS_CONVENED, HELD: pb.ASSEMBLY_STATUS_HELD,
          CANCELLED: pb.ASSEMBLY_STATUS_CANCELLED}
KIND = {APPROVE_ACCOUNTS: pb.ASSEMBLY_ITEM_KIND_APPROVE_ACCOUNTS,
        DISCHARGE_DIRECTORS: pb.ASSEMBLY_ITEM_KIND_DISCHARGE_DIRECTORS,
        BOARD_ELECTION: pb.ASSEMBLY_ITEM_KIND_BOARD_ELECTION, INITIATIVE: pb.ASSEMBLY_ITEM_KIND_INITIATIVE}
ATTENDANCE = {IN_PERSON: pb.ASSEMBLY_ATTENDANCE_IN_PERSON, REMOTE: pb.ASSEMBLY_ATTENDANCE_REMOTE}
ATTENDANCE_OF = {v: k for k, v in ATTENDANCE.items()}


def text_to_pb(t: LocalizedText) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=t.fr, nl=t.nl, en=t.en)


def text_of(t: common_pb2.LocalizedText) -> LocalizedText:
    return LocalizedText(fr=t.fr, nl=t.nl, en=t.en)


def documents_of(docs: list[pb.AssemblyDocument]) -> tuple[AssemblyDocument, ...]:
    return tuple(AssemblyDocument(text_of(d.title), text_of(d.reference)) for d in docs)


def assembly_to_pb(v: AssemblyView) -> pb.Assembly:
    a = v.assembly
    return pb.Assembly(
        assembly_id=a.assembly_id, title=text_to_pb(a.title), starts_at=to_timestamp(a.starts_at), place=a.place,
        registration_deadline=to_timestamp(a.registration_deadline), election_id=a.election_id,
        status=STATUS.get(v.status, pb.ASSEMBLY_STATUS_UNSPECIFIED),
        agenda=[pb.AssemblyAgendaItem(position=n, kind=KIND[i.kind], title=text_to_pb(i.title), ref=i.ref)
                for n, i in enumerate(v.agenda, start=1)],
        documents=[pb.AssemblyDocument(title=text_to_pb(d.title), reference=text_to_pb(d.reference))
                   for d in a.documents],
        convocation=pb.ConvocationProgress(
            sent=a.convocation_sent, total=a.convocation_total, convened_at=to_timestamp(a.convened_at),
            completed_at=to_timestamp(a.convocation_completed_at), all_members=a.convene_all_members),
        registered=v.registered, scheduled_at=to_timestamp(a.scheduled_at))


def workshop_to_pb(v: WorkshopView) -> pb.Workshop:
    w = v.workshop
    return pb.Workshop(workshop_id=w.workshop_id, assembly_id=w.assembly_id, title=text_to_pb(w.title),
                       capacity=w.capacity, language=w.language, starts_at=to_timestamp(w.starts_at),
                       ends_at=to_timestamp(w.ends_at), seated=v.counts.seated, waiting=v.counts.waiting)


def registration_to_pb(r: AssemblyRegistration) -> pb.AssemblyRegistration:
    return pb.AssemblyRegistration(
        registration_id=r.registration_id, assembly_id=r.assembly_id, member_id=r.member_id,
        attendance=ATTENDANCE.get(r.attendance, pb.ASSEMBLY_ATTENDANCE_UNSPECIFIED),
        interpretation_language=r.interpretation_language,
        workshops=[pb.WorkshopPlace(workshop_id=p.workshop_id, seated=p.seated,
                                    waiting_position=0 if p.seated else p.waiting_position) for p in r.places],
        registered_at=to_timestamp(r.registered_at), cancelled_at=to_timestamp(r.cancelled_at),
        checked_in_at=to_timestamp(r.checked_in_at), has_check_in_code=r.code_hash is not None)


def attendee_to_pb(a: Attendee) -> pb.WorkshopAttendee:
    return pb.WorkshopAttendee(registration_id=a.place.registration_id, member_id=a.member_id, seated=a.place.seated,
                               waiting_position=0 if a.place.seated else a.place.waiting_position,
                               registered_at=to_timestamp(a.registered_at))


def figures_to_pb(assembly_id: str, f: AttendanceFigures) -> pb.GetAttendanceFiguresResponse:
    return pb.GetAttendanceFiguresResponse(
        assembly_id=assembly_id, registered=f.registered, in_person_registered=f.in_person_registered,
        in_person_present=f.in_person_present, remote=f.remote,
        workshops=[pb.WorkshopFigures(workshop_id=w.workshop_id, title=text_to_pb(w.title), capacity=w.capacity,
                                      seated=c.seated, waiting=c.waiting, present=c.present)
                   for w, c in f.workshops])
