"""Observers' views -> coop.board.v1 messages (proto/coop/board/v1/observers.proto)."""

from __future__ import annotations

from coop.board.v1 import common_pb2
from coop.board.v1 import observers_pb2 as pb
from coop_board.domain.observers import CANCELLED, SEATED, WAITING
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer.observers import ObserverAgenda, RegistrationView, SessionView
from coop_platform.pbtypes import to_timestamp

STATUS = {SEATED: pb.OBSERVER_STATUS_SEATED, WAITING: pb.OBSERVER_STATUS_WAITING,
          CANCELLED: pb.OBSERVER_STATUS_CANCELLED}
SOURCE = {"statutory": common_pb2.ITEM_SOURCE_STATUTORY, "dossier": common_pb2.ITEM_SOURCE_DOSSIER,
          "member_concern": common_pb2.ITEM_SOURCE_MEMBER_CONCERN,
          "member_initiative": common_pb2.ITEM_SOURCE_MEMBER_INITIATIVE, "other": common_pb2.ITEM_SOURCE_OTHER}


def registration_to_pb(v: RegistrationView) -> pb.ObserverRegistration:
    return pb.ObserverRegistration(
        registration_id=v.registration_id, meeting_id=v.meeting_id, member_id=v.member_id,
        status=STATUS.get(v.status, pb.OBSERVER_STATUS_UNSPECIFIED), waiting_position=v.waiting_position,
        registered_at=to_timestamp(v.registered_at), promoted_at=to_timestamp(v.promoted_at),
        cancelled_at=to_timestamp(v.cancelled_at), checked_in_at=to_timestamp(v.checked_in_at),
        has_check_in_code=v.has_check_in_code, speaking_slot=v.speaking_slot)


def session_to_pb(v: SessionView) -> pb.ObserverSession:
    return pb.ObserverSession(meeting_id=v.meeting_id, seats=v.seats, seats_taken=v.seats_taken, waiting=v.waiting,
                              registration_deadline=to_timestamp(v.registration_deadline),
                              meeting_starts_at=to_timestamp(v.meeting_starts_at))


def text_to_pb(t: LocalizedText) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(fr=t.fr, nl=t.nl, en=t.en)


def agenda_to_pb(a: ObserverAgenda) -> pb.GetObserverAgendaResponse:
    return pb.GetObserverAgendaResponse(
        meeting_id=a.meeting_id, title=text_to_pb(a.title), starts_at=to_timestamp(a.starts_at),
        items=[pb.ObserverAgendaItem(item_id=i.item_id, position=i.position, title=text_to_pb(i.title),
                                     source=SOURCE.get(i.source, common_pb2.ITEM_SOURCE_UNSPECIFIED))
               for i in a.items])
