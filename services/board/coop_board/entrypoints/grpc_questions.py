"""QuestionService (coop.board.v1, proto/coop/board/v1/questions.proto), registered by
entrypoints/grpc_api.py. Thin: each method turns the request into plain values, runs one use case
of service_layer/questions.py as the caller, and translates the answer. Retryable writes carry a
request_id (coop_platform.idempotency.answer_once, one unit shared by the key and the use case)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from coop.board.v1 import questions_pb2 as pb
from coop.board.v1 import questions_pb2_grpc as pb_grpc
from coop_board.adapters.messages_dossiers import text_from_pb
from coop_board.adapters.messages_questions import FILTER, MODE, ORDER, question_to_pb
from coop_board.domain.questions import QuestionRules
from coop_board.entrypoints.settings_questions import question_rules
from coop_board.service_layer import questions
from coop_domain.clock import utcnow
from coop_platform.grpc_server import RetryableWrites, current_principal
from coop_platform.pbtypes import to_timestamp

Clock = Callable[[], datetime]


class QuestionServicer(pb_grpc.QuestionServiceServicer, RetryableWrites):
    def __init__(self, uow_factory: Callable[[], Any], clock: Clock = utcnow, rules: QuestionRules | None = None) -> None:
        self.uow = uow_factory
        self.clock = clock
        self.rules = rules or question_rules()


    def SubmitQuestion(self, request, context):
        def work(uow: Any) -> pb.SubmitQuestionResponse:
            view = questions.submit_question(uow, current_principal(), self.rules, request.assembly_id,
                                             request.language, request.text, request.author_public, self.clock())
            return pb.SubmitQuestionResponse(question=question_to_pb(view))
        return self._once("SubmitQuestion", request, pb.SubmitQuestionResponse, work)

    def SupportQuestion(self, request, context):
        def work(uow: Any) -> pb.SupportQuestionResponse:
            view = questions.support_question(uow, current_principal(), self.rules, request.question_id, self.clock())
            return pb.SupportQuestionResponse(question=question_to_pb(view))
        return self._once("SupportQuestion", request, pb.SupportQuestionResponse, work)

    def WithdrawSupport(self, request, context):
        def work(uow: Any) -> pb.WithdrawSupportResponse:
            view = questions.withdraw_support(uow, current_principal(), request.question_id, self.clock())
            return pb.WithdrawSupportResponse(question=question_to_pb(view))
        return self._once("WithdrawSupport", request, pb.WithdrawSupportResponse, work)

    def ListQuestions(self, request, context):
        page = questions.list_questions(
            self.uow(), current_principal(), request.assembly_id, ORDER.get(request.order, "unknown"),
            FILTER.get(request.filter, "unknown"), request.page_size, request.page_token, self.clock())
        return pb.ListQuestionsResponse(questions=[question_to_pb(v) for v in page.questions],
                                        next_page_token=page.next_page_token, as_of=to_timestamp(page.as_of))

    def GetQuestion(self, request, context):
        view = questions.get_question(self.uow(), current_principal(), request.question_id)
        return pb.GetQuestionResponse(question=question_to_pb(view))

    def ListMyQuestions(self, request, context):
        views, token = questions.list_my_questions(self.uow(), current_principal(), request.assembly_id,
                                                   request.page_size, request.page_token)
        return pb.ListMyQuestionsResponse(questions=[question_to_pb(v) for v in views], next_page_token=token)

    def AnswerQuestion(self, request, context):
        def work(uow: Any) -> pb.AnswerQuestionResponse:
            view = questions.answer_question(uow, current_principal(), request.question_id,
                                             MODE.get(request.mode, "unknown"), text_from_pb(request.answer),
                                             self.clock())
            return pb.AnswerQuestionResponse(question=question_to_pb(view))
        return self._once("AnswerQuestion", request, pb.AnswerQuestionResponse, work)

    def ReferQuestionToBoard(self, request, context):
        def work(uow: Any) -> pb.ReferQuestionToBoardResponse:
            view = questions.refer_to_board(uow, current_principal(), request.question_id,
                                            text_from_pb(request.title), text_from_pb(request.text), self.clock())
            return pb.ReferQuestionToBoardResponse(question=question_to_pb(view))
        return self._once("ReferQuestionToBoard", request, pb.ReferQuestionToBoardResponse, work)


# (servicer class taking (uow_factory, clock), add_<Service>Servicer_to_server, service full name)
SERVICERS: list[tuple[Any, Any, str]] = [
    (QuestionServicer, pb_grpc.add_QuestionServiceServicer_to_server,
     pb.DESCRIPTOR.services_by_name["QuestionService"].full_name),
]
