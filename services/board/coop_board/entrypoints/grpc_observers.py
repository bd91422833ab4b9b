"""ObserverService (coop.board.v1, proto/coop/board/v1/observers.proto), registered by
entrypoints/grpc_api.py. Thin: each method turns the request into plain values, runs one use case
of service_layer/observers.py as the caller, and translates the answer.

Retryable writes carry a request_id (coop_platform.idempotency.answer_once, one unit shared by the
key and the use case). A check-in code is a secret stored only as a hash: it is added to the
answer after the answer is stored, so a retry answers without it (ReissueCheckInCode gives a new
one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.board.v1 import observers_pb2 as pb
from coop.board.v1 import observers_pb2_grpc as pb_grpc
from coop_board.adapters import messages_observers as msg
from coop_board.adapters.metrics_observers import CHECK_INS, REGISTRATIONS
from coop_board.service_layer import observers
from coop_domain.clock import utcnow
from coop_platform.grpc_server import RetryableWrites, current_principal
from coop_platform.pbtypes import from_timestamp

Clock = Callable[[], datetime]


class ObserverServicer(pb_grpc.ObserverServiceServicer, RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow) -> None:
        self.uow = uow_factory
        self.clock = clock


    def OpenToObservers(self, request, context):
        deadline = from_timestamp(request.registration_deadline, field="registration_deadline")

        def work(uow: Any) -> pb.OpenToObserversResponse:
            session, promoted = observers.open_to_observers(uow, current_principal(), request.meeting_id,
                                                            request.seats, deadline, self.clock())
            return pb.OpenToObserversResponse(session=msg.session_to_pb(session), promoted_registration_ids=promoted)
        return self._once("OpenToObservers", request, pb.OpenToObserversResponse, work)

    def RegisterAsObserver(self, request, context):
        issued: dict[str, str] = {}

        def work(uow: Any) -> pb.RegisterAsObserverResponse:
            view, code = observers.register_as_observer(uow, current_principal(), request.meeting_id, self.clock())
            issued["status"] = view.status
            if code:
                issued["code"] = code
            return pb.RegisterAsObserverResponse(registration=msg.registration_to_pb(view))  # stored without the code
        response = self._once("RegisterAsObserver", request, pb.RegisterAsObserverResponse, work)
        if "status" in issued:  # this call did the work (not a replay of the first answer)
            REGISTRATIONS.labels(status=issued["status"]).inc()
        if "code" in issued:
            response.check_in_code = issued["code"]
        return response

    def CancelObserverRegistration(self, request, context):
        def work(uow: Any) -> pb.CancelObserverRegistrationResponse:
            view, promoted = observers.cancel_registration(uow, current_principal(), request.registration_id,
                                                           self.clock())
            return pb.CancelObserverRegistrationResponse(registration=msg.registration_to_pb(view),
                                                         promoted_registration_id=promoted or "")
        return self._once("CancelObserverRegistration", request, pb.CancelObserverRegistrationResponse, work)

    def ListMyObserverRegistrations(self, request, context):
        views, token = observers.list_my_registrations(self.uow(), current_principal(), request.page_size,
                                                       request.page_token)
        return pb.ListMyObserverRegistrationsResponse(registrations=[msg.registration_to_pb(v) for v in views],
                                                      next_page_token=token)

    def ListObservers(self, request, context):
        session, views, token = observers.list_observers(
            self.uow(), current_principal(), request.meeting_id, request.include_cancelled, request.page_size,
            request.page_token, self.clock())
        return pb.ListObserversResponse(session=msg.session_to_pb(session),
                                        registrations=[msg.registration_to_pb(v) for v in views],
                                        next_page_token=token)

    def CheckInObserver(self, request, context):
        def work(uow: Any) -> pb.CheckInObserverResponse:
            view = observers.check_in(uow, current_principal(), request.meeting_id, request.check_in_code,
                                      self.clock())
            done.append(view.registration_id)
            return pb.CheckInObserverResponse(registration=msg.registration_to_pb(view))
        done: list[str] = []
        response = self._once("CheckInObserver", request, pb.CheckInObserverResponse, work)
        if done:
            CHECK_INS.inc()
        return response

    def ReissueCheckInCode(self, request, context):
        view, code = observers.reissue_code(self.uow(), current_principal(), request.registration_id, self.clock())
        return pb.ReissueCheckInCodeResponse(registration=msg.registration_to_pb(view), check_in_code=code)

    def GetObserverAgenda(self, request, context):
        return msg.agenda_to_pb(observers.observer_agenda(self.uow(), current_principal(), request.meeting_id))


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (ObserverServicer, pb_grpc.add_ObserverServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["ObserverService"].full_name),
]
