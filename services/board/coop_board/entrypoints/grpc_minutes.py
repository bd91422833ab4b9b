"""Servicers of the minutes family (registered by entrypoints/grpc_api.py): MinutesService.

Settings: COOP_BOARD_TRANSLATION_DAYS (default 7): days a translation task has before it is due."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.board.v1 import minutes_pb2 as pb
from coop.board.v1 import minutes_pb2_grpc as pb_grpc
from coop_board.adapters import messages_minutes as msg
from coop_board.adapters.metrics_minutes import MINUTES_PUBLISHED, RENDERED
from coop_board.adapters.render_minutes import render_minutes_pdf
from coop_board.adapters.repository_minutes import SqlPublishedReads
from coop_board.domain.minutes import DEFAULT_TRANSLATION_DAYS
from coop_board.domain.minutes_public import render_html
from coop_board.service_layer import minutes, minutes_reads
from coop_domain.clock import local_date
from coop_domain.errors import InvalidArgument
from coop_platform.grpc_server import current_principal
from coop_platform.idempotency import answer_once, idempotent_request
from coop_platform.pbtypes import from_date

Clock = Callable[[], datetime]


def translation_days() -> int:
    raw = os.environ.get("COOP_BOARD_TRANSLATION_DAYS") or str(DEFAULT_TRANSLATION_DAYS)
    try:
        days = int(raw)
    except ValueError:
        raise ValueError(f"COOP_BOARD_TRANSLATION_DAYS must be a whole number of days, not {raw!r}") from None
    if days < 1:
        raise ValueError("COOP_BOARD_TRANSLATION_DAYS must be at least 1")
    return days


class MinutesServicer(pb_grpc.MinutesServiceServicer):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.translation_days = translation_days()
        self.reads = SqlPublishedReads(lambda: uow_factory().reading())  # the members' query side

    def _once(self, uow: Any, method: str, request: Any, response_type: type, work: Callable[[], Any]) -> Any:
        caller = current_principal()
        return answer_once(uow, idempotent_request(caller.tenant, caller.subject, method, request), response_type,
                           work)

    # -- the board's side
    def DraftMinutes(self, request, context):
        uow, caller, now = self.uow(), current_principal(), self.clock()
        return self._once(uow, "DraftMinutes", request, pb.DraftMinutesResponse, lambda: pb.DraftMinutesResponse(
            minutes=msg.minutes_to_pb(minutes.draft_minutes(uow, caller, request.meeting_id, now,
                                                            self.translation_days))))

    def GetMinutes(self, request, context):
        found, errata = minutes.get_minutes(self.uow(), current_principal(), request.minutes_id,
                                            today=local_date(self.clock()))
        return pb.GetMinutesResponse(minutes=msg.minutes_to_pb(found, errata))

    def UpdateMinutes(self, request, context):
        edits = msg.edits_from_pb(request)
        found = minutes.update_minutes(self.uow(), current_principal(), request.minutes.minutes_id, edits,
                                       self.clock())
        return pb.UpdateMinutesResponse(minutes=msg.minutes_to_pb(found))

    def SubmitMinutesForApproval(self, request, context):
        uow, caller, now = self.uow(), current_principal(), self.clock()
        return self._once(uow, "SubmitMinutesForApproval", request, pb.SubmitMinutesForApprovalResponse,
                          lambda: pb.SubmitMinutesForApprovalResponse(minutes=msg.minutes_to_pb(
                              minutes.submit_for_approval(uow, caller, request.minutes_id, now)[0])))

    def CreateErratum(self, request, context):
        uow, caller, now = self.uow(), current_principal(), self.clock()
        visibility = msg.VISIBILITY_IN.get(request.visibility)
        if visibility is None:
            raise InvalidArgument("visibility is open or closed", field="visibility", reason="INVALID_VISIBILITY")
        return self._once(uow, "CreateErratum", request, pb.CreateErratumResponse, lambda: pb.CreateErratumResponse(
            erratum=msg.minutes_to_pb(minutes.create_erratum(uow, caller, request.minutes_id,
                                                             msg.text_from_pb(request.correction), visibility, now))))

    def ListTranslationTasks(self, request, context):
        now = self.clock()
        tasks, token = minutes.list_translation_tasks(self.uow(), current_principal(), request.page_size,
                                                      request.page_token, today=local_date(now))
        return pb.ListTranslationTasksResponse(tasks=[msg.task_to_pb(t, local_date(now)) for t in tasks],
                                               next_page_token=token)

    def PublishMinutes(self, request, context):
        uow, caller, now = self.uow(), current_principal(), self.clock()
        answer = self._once(uow, "PublishMinutes", request, pb.PublishMinutesResponse,
                            lambda: pb.PublishMinutesResponse(minutes=msg.minutes_to_pb(
                                minutes.publish_minutes(uow, caller, request.minutes_id, now))))
        MINUTES_PUBLISHED.inc()
        return answer

    # -- the members' reads (query side: read pool, no unit of work; published rows kept once read)
    def ListPublishedMinutes(self, request, context):
        rows, token = minutes_reads.list_published_minutes(
            self.reads, current_principal(), request.language,
            from_date(request.from_date, field="from_date"), from_date(request.to_date, field="to_date"),
            request.query, request.page_size, request.page_token)
        return pb.ListPublishedMinutesResponse(minutes=[msg.published_minutes_to_pb(r) for r in rows],
                                               next_page_token=token)

    def SearchPublishedDecisions(self, request, context):
        rows, token = minutes_reads.search_published_decisions(
            self.reads, current_principal(), request.language,
            from_date(request.from_date, field="from_date"), from_date(request.to_date, field="to_date"),
            request.query, request.page_size, request.page_token)
        return pb.SearchPublishedDecisionsResponse(decisions=[msg.published_decision_to_pb(r) for r in rows],
                                                   next_page_token=token)

    def GetPublishedDecision(self, request, context):
        found = minutes_reads.get_published_decision(self.reads, current_principal(), request.decision_id,
                                                     request.language)
        return pb.GetPublishedDecisionResponse(decision=msg.published_decision_to_pb(found))

    def RenderMinutes(self, request, context):
        if request.format not in (pb.RENDER_FORMAT_HTML, pb.RENDER_FORMAT_PDF):
            raise InvalidArgument("format is HTML or PDF", field="format", reason="FORMAT_REQUIRED")
        doc = minutes_reads.published_minutes(self.reads, current_principal(), request.minutes_id, request.language)
        if request.format == pb.RENDER_FORMAT_HTML:
            RENDERED.labels("html").inc()
            return pb.RenderMinutesResponse(content=render_html(doc).encode(), content_type="text/html; charset=utf-8")
        RENDERED.labels("pdf").inc()
        return pb.RenderMinutesResponse(content=render_minutes_pdf(doc), content_type="application/pdf")


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (MinutesServicer, pb_grpc.add_MinutesServiceServicer_to_server, "coop.board.v1.MinutesService")]
