"""AssemblyService (coop.board.v1, proto/coop/board/v1/assembly.proto), registered by
entrypoints/grpc_api.py. Thin: each method turns the request into plain values, runs one use case
of service_layer/assembly.py as the caller, and translates the answer.

Retryable writes carry a request_id (coop_platform.idempotency.answer_once). Registrations are
group-committed (coop_platform.batching.Coalescer): the calls arriving while a batch runs share
the next one's transaction and commit. A check-in code is a secret stored only as a hash: it is
added to the answer after the answer is stored, so a retry answers without it
(ReissueAssemblyCheckInCode gives a new one)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from coop.board.v1 import assembly_pb2 as pb
from coop.board.v1 import assembly_pb2_grpc as pb_grpc
from coop_board.adapters import messages_assembly as msg
from coop_board.adapters.metrics_assembly import CHECK_INS, REGISTRATIONS
from coop_board.domain.assembly import AssemblyRules
from coop_board.entrypoints.settings_assembly import assembly_rules
from coop_board.service_layer import assembly
from coop_domain.clock import utcnow
from coop_domain.principal import Principal
from coop_platform import idempotency
from coop_platform.batching import Coalescer
from coop_platform.grpc_server import RetryableWrites, current_principal
from coop_platform.idempotency import idempotent_request
from coop_platform.pbtypes import from_timestamp

Clock = Callable[[], datetime]


class AssemblyServicer(pb_grpc.AssemblyServiceServicer, RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow, rules: AssemblyRules | None = None) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.rules = rules or assembly_rules()
        self.registrations = Coalescer("board_assembly_register", self._register_batch)


    def ScheduleAssembly(self, request, context):
        starts_at = from_timestamp(request.starts_at, field="starts_at")
        deadline = from_timestamp(request.registration_deadline, field="registration_deadline")

        def work(uow: Any) -> pb.ScheduleAssemblyResponse:
            view = assembly.schedule_assembly(uow, current_principal(), msg.text_of(request.title), starts_at,
                                              request.place, deadline, request.election_id,
                                              msg.documents_of(list(request.documents)), self.clock())
            return pb.ScheduleAssemblyResponse(assembly=msg.assembly_to_pb(view))
        return self._once("ScheduleAssembly", request, pb.ScheduleAssemblyResponse, work)

    def GetAssembly(self, request, context):
        view = assembly.get_assembly(self.uow(), current_principal(), request.assembly_id, self.clock())
        return pb.GetAssemblyResponse(assembly=msg.assembly_to_pb(view))

    def ListAssemblies(self, request, context):
        views, token = assembly.list_assemblies(self.uow(), current_principal(), request.page_size,
                                                request.page_token, self.clock())
        return pb.ListAssembliesResponse(assemblies=[msg.assembly_to_pb(v) for v in views], next_page_token=token)

    def AddWorkshop(self, request, context):
        starts_at = from_timestamp(request.starts_at, field="starts_at")
        ends_at = from_timestamp(request.ends_at, field="ends_at")

        def work(uow: Any) -> pb.AddWorkshopResponse:
            view = assembly.add_workshop(uow, current_principal(), request.assembly_id, msg.text_of(request.title),
                                         request.capacity, request.language, starts_at, ends_at, self.clock())
            return pb.AddWorkshopResponse(workshop=msg.workshop_to_pb(view))
        return self._once("AddWorkshop", request, pb.AddWorkshopResponse, work)

    def ListWorkshops(self, request, context):
        views, token = assembly.list_workshops(self.uow(), current_principal(), request.assembly_id,
                                               request.page_size, request.page_token)
        return pb.ListWorkshopsResponse(workshops=[msg.workshop_to_pb(v) for v in views], next_page_token=token)

    def ConveneAssembly(self, request, context):
        def work(uow: Any) -> pb.ConveneAssemblyResponse:
            view = assembly.convene_assembly(uow, current_principal(), request.assembly_id, self.clock(), self.rules)
            return pb.ConveneAssemblyResponse(assembly=msg.assembly_to_pb(view))
        return self._once("ConveneAssembly", request, pb.ConveneAssemblyResponse, work)

    def RegisterForAssembly(self, request, context):
        caller = current_principal()
        key = idempotent_request(caller.tenant, caller.subject, "RegisterForAssembly", request)
        wanted = assembly.RegistrationRequest(request.assembly_id, msg.ATTENDANCE_OF.get(request.attendance, ""),
                                              request.interpretation_language, tuple(request.workshop_ids))
        response, registered = self.registrations.submit((caller, wanted, key))
        if registered is not None:  # this call did the work (not a replay of the first answer)
            REGISTRATIONS.labels(attendance=registered.registration.attendance).inc()
            if registered.check_in_code:
                response = pb.RegisterForAssemblyResponse.FromString(response.SerializeToString())
                response.check_in_code = registered.check_in_code
        return response

    def _register_batch(self, items: Sequence[tuple[Principal, assembly.RegistrationRequest, Any]]) -> list[Any]:
        """Registrations arriving together: one transaction and one commit (group commit). A
        result is (response, Registered) for a call that registered, (response, None) for a
        replay of a first answer, or the call's refusal. The stored answer has no check-in code."""
        uow, now = self.uow(), self.clock()
        registered: dict[int, assembly.Registered] = {}

        def work(todo: list[int]) -> list[Any]:
            out: list[Any] = []
            outcomes = assembly.register_many(uow, [items[n][:2] for n in todo], now, self.rules)
            for n, outcome in zip(todo, outcomes, strict=True):
                if isinstance(outcome, assembly.Registered):
                    registered[n] = outcome
                    outcome = pb.RegisterForAssemblyResponse(registration=msg.registration_to_pb(outcome.registration))
                out.append(outcome)
            return out

        results, _ = idempotency.answer_batch(uow, [key for _, _, key in items], pb.RegisterForAssemblyResponse, work)
        return [r if isinstance(r, BaseException) else (r, registered.get(n)) for n, r in enumerate(results)]

    def CancelAssemblyRegistration(self, request, context):
        def work(uow: Any) -> pb.CancelAssemblyRegistrationResponse:
            r, promotions = assembly.cancel_registration(uow, current_principal(), request.registration_id,
                                                         self.clock())
            return pb.CancelAssemblyRegistrationResponse(
                registration=msg.registration_to_pb(r),
                promotions=[pb.WorkshopPromotion(workshop_id=w, registration_id=p) for w, p in promotions])
        return self._once("CancelAssemblyRegistration", request, pb.CancelAssemblyRegistrationResponse, work)

    def GetMyAssemblyRegistration(self, request, context):
        r = assembly.my_registration(self.uow(), current_principal(), request.assembly_id)
        return pb.GetMyAssemblyRegistrationResponse(registration=msg.registration_to_pb(r))

    def ListWorkshopRegistrations(self, request, context):
        view, attendees, token = assembly.list_workshop_registrations(
            self.uow(), current_principal(), request.assembly_id, request.workshop_id, request.page_size,
            request.page_token, self.clock())
        return pb.ListWorkshopRegistrationsResponse(workshop=msg.workshop_to_pb(view),
                                                    attendees=[msg.attendee_to_pb(a) for a in attendees],
                                                    next_page_token=token)

    def CheckInAtAssembly(self, request, context):
        done: list[str] = []

        def work(uow: Any) -> pb.CheckInAtAssemblyResponse:
            r = assembly.check_in(uow, current_principal(), request.assembly_id, request.check_in_code, self.clock())
            done.append(r.registration_id)
            return pb.CheckInAtAssemblyResponse(registration=msg.registration_to_pb(r))
        response = self._once("CheckInAtAssembly", request, pb.CheckInAtAssemblyResponse, work)
        if done:
            CHECK_INS.inc()
        return response

    def ReissueAssemblyCheckInCode(self, request, context):
        r, code = assembly.reissue_code(self.uow(), current_principal(), request.registration_id, self.clock())
        return pb.ReissueAssemblyCheckInCodeResponse(registration=msg.registration_to_pb(r), check_in_code=code)

    def GetAttendanceFigures(self, request, context):
        figures = assembly.attendance_figures(self.uow(), current_principal(), request.assembly_id)
        return msg.figures_to_pb(request.assembly_id, figures)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (AssemblyServicer, pb_grpc.add_AssemblyServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["AssemblyService"].full_name),
]
