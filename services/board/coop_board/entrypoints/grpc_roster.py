"""Servicers of the roster family (registered by entrypoints/grpc_api.py): RosterService."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.board.v1 import roster_pb2 as pb
from coop.board.v1 import roster_pb2_grpc as pb_grpc
from coop_board.adapters import messages_roster as msg
from coop_board.entrypoints.roster_settings import roster_settings
from coop_board.service_layer import officers, roster
from coop_domain.clock import local_date
from coop_platform.grpc_server import RetryableWrites, current_principal
from coop_platform.pbtypes import from_date


class RosterServicer(pb_grpc.RosterServiceServicer, RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Callable[[], datetime]) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.settings = roster_settings()


    def GetRoster(self, request, context):
        day = from_date(request.on_date, field="on_date") or local_date(self.clock())
        view = roster.get_roster(self.uow(), current_principal(), day, self.settings, today=local_date(self.clock()))
        return msg.roster_to_pb(view.roster, view.officers, view.public, view.seats)

    def ListMandates(self, request, context):
        found, token, public = roster.list_mandates(
            self.uow(), current_principal(), request.page_size, request.page_token, today=local_date(self.clock()),
            director_id=request.director_id or None, seat_id=request.seat_id or None,
            covering=from_date(request.covering, field="covering"))
        return pb.ListMandatesResponse(mandates=[msg.mandate_to_pb(m, public) for m in found], next_page_token=token)

    def CreateMandate(self, request, context):
        def work(uow: Any) -> pb.CreateMandateResponse:
            mandate, check = roster.create_mandate(
                uow, current_principal(), self.settings, director_id=request.director_id,
                seat_id=request.seat_id or None, start=from_date(request.start_date, field="start_date"),
                end=from_date(request.end_date, field="end_date"), election_id=request.election_id or None)
            return pb.CreateMandateResponse(mandate=msg.mandate_to_pb(mandate),
                                            composition=msg.composition_to_pb(check))
        return self._once("CreateMandate", request, pb.CreateMandateResponse, work)

    def EndMandate(self, request, context):
        def work(uow: Any) -> pb.EndMandateResponse:
            ended = roster.end_mandate(uow, current_principal(), request.mandate_id,
                                       from_date(request.ended_on, field="ended_on"),
                                       msg.end_reason_name(request.reason))
            return pb.EndMandateResponse(mandate=msg.mandate_to_pb(ended))
        return self._once("EndMandate", request, pb.EndMandateResponse, work)

    def ElectOfficer(self, request, context):
        def work(uow: Any) -> pb.ElectOfficerResponse:
            term = officers.elect_officer(
                uow, current_principal(), office=msg.office_name(request.office), director_id=request.director_id,
                start=from_date(request.start_date, field="start_date"),
                end=from_date(request.end_date, field="end_date"), decision_id=request.decision_id,
                today=local_date(self.clock()))
            return pb.ElectOfficerResponse(term=msg.term_to_pb(term))
        return self._once("ElectOfficer", request, pb.ElectOfficerResponse, work)

    def ListOfficers(self, request, context):
        found, token = officers.list_officers(self.uow(), current_principal(),
                                              from_date(request.on_date, field="on_date"), request.page_size,
                                              request.page_token)
        return pb.ListOfficersResponse(terms=[msg.term_to_pb(t) for t in found], next_page_token=token)

    def AppointManagement(self, request, context):
        def work(uow: Any) -> pb.AppointManagementResponse:
            appointment = officers.appoint_management(
                uow, current_principal(), manager_id=request.manager_id, title=request.title,
                start=from_date(request.start_date, field="start_date"),
                end=from_date(request.end_date, field="end_date"), decision_id=request.decision_id)
            return pb.AppointManagementResponse(appointment=msg.appointment_to_pb(appointment))
        return self._once("AppointManagement", request, pb.AppointManagementResponse, work)

    def ListManagement(self, request, context):
        found, token = officers.list_management(self.uow(), current_principal(),
                                                from_date(request.on_date, field="on_date"), request.page_size,
                                                request.page_token)
        return pb.ListManagementResponse(appointments=[msg.appointment_to_pb(a) for a in found],
                                         next_page_token=token)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (RosterServicer, pb_grpc.add_RosterServiceServicer_to_server, "coop.board.v1.RosterService")]
