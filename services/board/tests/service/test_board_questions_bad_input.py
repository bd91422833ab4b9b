"""Bad input to QuestionService over gRPC and PostgreSQL: each refusal has the right status, a
reason and the field at fault, and writes nothing (no row, no event, no request id)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import grpc
import pytest
from board_questions_helpers import (
    ASSEMBLIES,
    STANDINGS,
    TOKENS,
    QuestionsApi,
    member_token,
    module_fixtures,
)

from coop.board.v1 import common_pb2
from coop.board.v1 import questions_pb2 as pb
from coop_platform.rich_status import details_of

INVALID = grpc.StatusCode.INVALID_ARGUMENT
PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
NOT_FOUND = grpc.StatusCode.NOT_FOUND
EXISTS = grpc.StatusCode.ALREADY_EXISTS
FULL = common_pb2.LocalizedText(fr="Réponse", nl="Antwoord", en="Answer")


api, _clock = module_fixtures()


def _refused(api: QuestionsApi, call: Callable[[], object], code: grpc.StatusCode, reason: str,
             field: str | None = None) -> None:
    before = api.counts()
    with pytest.raises(grpc.RpcError) as exc:
        call()
    details = details_of(exc.value)
    assert (exc.value.code(), details.reason) == (code, reason)
    if field is not None and code == INVALID:
        assert field in details.field_violations, details
    assert api.counts() == before, "a refused call writes nothing"


def _submit(api: QuestionsApi, text: str, language: str = "en", assembly_id: str | None = None, who: int = 1):
    return lambda: api.stub.SubmitQuestion(pb.SubmitQuestionRequest(
        assembly_id=assembly_id if assembly_id is not None else api.new_assembly(), language=language, text=text,
        request_id=str(uuid.uuid4())), metadata=member_token(who))


@pytest.mark.parametrize("text", ["", "   ", "\n\t  \n"])
def test_a_question_with_an_empty_text_is_refused(api: QuestionsApi, text: str) -> None:
    _refused(api, _submit(api, text), INVALID, "TEXT_EMPTY", "text")


def test_a_question_over_the_length_limit_is_refused_and_one_at_the_limit_accepted(api: QuestionsApi) -> None:
    _refused(api, _submit(api, "x" * 2001), INVALID, "TEXT_TOO_LONG", "text")
    assert len(api.submit(api.new_assembly(), 1, "  " + "é" * 2000 + "  ").text) == 2000


def test_a_question_in_another_language_than_fr_nl_en_is_refused(api: QuestionsApi) -> None:
    _refused(api, _submit(api, "Warum?", language="de"), INVALID, "LANGUAGE_UNKNOWN", "language")


def test_a_question_to_an_unknown_held_or_cancelled_assembly_is_refused(api: QuestionsApi) -> None:
    _refused(api, _submit(api, "?", assembly_id=""), INVALID, "INVALID_ID", "assembly_id")
    _refused(api, _submit(api, "?", assembly_id="no-such-assembly"), NOT_FOUND, "ASSEMBLY_NOT_FOUND", "assembly_id")
    held = api.new_assembly(status="held")
    _refused(api, _submit(api, "?", assembly_id=held), PRECONDITION, "ASSEMBLY_HELD", "assembly_id")
    started = api.new_assembly(starts_in=timedelta(0))
    _refused(api, _submit(api, "?", assembly_id=started), PRECONDITION, "ASSEMBLY_HELD", "assembly_id")
    cancelled = api.new_assembly(status="cancelled")
    _refused(api, _submit(api, "?", assembly_id=cancelled), PRECONDITION, "ASSEMBLY_CANCELLED", "assembly_id")


def test_a_member_not_in_good_standing_neither_submits_nor_supports(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    STANDINGS.lapsed.add("mem-666")
    try:
        _refused(api, _submit(api, "?", who=666), PRECONDITION, "NOT_IN_GOOD_STANDING")
        _refused(api, lambda: api.support(q.question_id, 666), PRECONDITION, "NOT_IN_GOOD_STANDING")
    finally:
        STANDINGS.lapsed.discard("mem-666")


def test_a_second_support_own_support_and_withdrawing_none_are_refused(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    api.support(q.question_id, 2)
    _refused(api, lambda: api.support(q.question_id, 2, request_id=str(uuid.uuid4())), EXISTS, "ALREADY_SUPPORTED",
             "question_id")
    _refused(api, lambda: api.support(q.question_id, 1), PRECONDITION, "OWN_QUESTION", "question_id")
    _refused(api, lambda: api.stub.WithdrawSupport(pb.WithdrawSupportRequest(question_id=q.question_id),
                                                   metadata=member_token(3)), NOT_FOUND, "NOT_SUPPORTED")
    _refused(api, lambda: api.support(str(uuid.uuid4()), 2), NOT_FOUND, "QUESTION_NOT_FOUND", "question_id")
    _refused(api, lambda: api.support("", 2), INVALID, "INVALID_ID", "question_id")


def test_supports_after_the_assembly_is_held_are_refused(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    api.support(q.question_id, 2)
    ASSEMBLIES.set_status(q.assembly_id, "held")
    _refused(api, lambda: api.support(q.question_id, 3), PRECONDITION, "ASSEMBLY_HELD")
    _refused(api, lambda: api.stub.WithdrawSupport(pb.WithdrawSupportRequest(question_id=q.question_id),
                                                   metadata=member_token(2)), PRECONDITION, "ASSEMBLY_HELD")


def test_answers_missing_a_language_without_a_mode_or_given_twice_are_refused(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)

    def answer(mode: int, text: common_pb2.LocalizedText, token: str = "management"):
        return lambda: api.stub.AnswerQuestion(pb.AnswerQuestionRequest(
            question_id=q.question_id, mode=mode, answer=text, request_id=str(uuid.uuid4())),
            metadata=TOKENS[token])
    _refused(api, answer(pb.ANSWER_MODE_WRITING, common_pb2.LocalizedText(fr="R", en="A")), INVALID,
             "TRANSLATION_MISSING", "answer.nl")
    _refused(api, answer(pb.ANSWER_MODE_WRITING, common_pb2.LocalizedText()), INVALID, "TRANSLATION_MISSING",
             "answer.fr")
    _refused(api, answer(pb.ANSWER_MODE_PLENARY, common_pb2.LocalizedText(en="note only")), INVALID,
             "TRANSLATION_MISSING", "answer.fr")
    _refused(api, answer(pb.ANSWER_MODE_UNSPECIFIED, FULL), INVALID, "ANSWER_MODE_REQUIRED", "mode")
    answer(pb.ANSWER_MODE_WRITING, FULL)()
    _refused(api, answer(pb.ANSWER_MODE_PLENARY, common_pb2.LocalizedText(), "secretary"), PRECONDITION,
             "ALREADY_ANSWERED", "question_id")


def test_referrals_without_a_whole_title_or_twice_are_refused(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)

    def refer(title: common_pb2.LocalizedText, text: common_pb2.LocalizedText | None = None):
        return lambda: api.stub.ReferQuestionToBoard(pb.ReferQuestionToBoardRequest(
            question_id=q.question_id, title=title, text=text, request_id=str(uuid.uuid4())),
            metadata=TOKENS["secretary"])
    _refused(api, refer(common_pb2.LocalizedText(fr="Titre")), INVALID, "TRANSLATION_MISSING", "title.nl")
    _refused(api, refer(FULL, common_pb2.LocalizedText(nl="alleen")), INVALID, "TRANSLATION_MISSING", "text.fr")
    refer(FULL)()
    _refused(api, refer(FULL), PRECONDITION, "ALREADY_REFERRED", "question_id")


def test_bad_list_arguments_are_refused(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    for n in range(1, 4):
        api.submit(assembly, n, f"q{n}")
    token = api.stub.ListQuestions(pb.ListQuestionsRequest(assembly_id=assembly, page_size=1),
                                   metadata=TOKENS["member"]).next_page_token

    def listing(**kw):
        return lambda: api.stub.ListQuestions(pb.ListQuestionsRequest(**{"assembly_id": assembly, **kw}),
                                              metadata=TOKENS["member"])
    _refused(api, listing(page_size=-1), INVALID, "INVALID_PAGE_SIZE", "page_size")
    _refused(api, listing(page_token="garbage"), INVALID, "INVALID_PAGE_TOKEN", "page_token")
    _refused(api, listing(page_token=token, order=pb.QUESTION_ORDER_NEWEST), INVALID, "INVALID_PAGE_TOKEN")
    _refused(api, listing(order=7), INVALID, "INVALID_ORDER", "order")
    _refused(api, listing(filter=9), INVALID, "INVALID_FILTER", "filter")
    _refused(api, listing(assembly_id="no-such-assembly"), NOT_FOUND, "ASSEMBLY_NOT_FOUND")
    _refused(api, lambda: api.stub.ListMyQuestions(pb.ListMyQuestionsRequest(page_token=token),
                                                   metadata=TOKENS["member"]), INVALID, "INVALID_PAGE_TOKEN")


def test_a_request_id_that_is_not_a_uuid_or_reused_for_another_request_is_refused(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    _refused(api, lambda: api.submit(assembly, 1, "?", request_id="not-a-uuid"), INVALID, "INVALID_ARGUMENT",
             "request_id")
    request_id = str(uuid.uuid4())
    api.submit(assembly, 1, "first", request_id=request_id)
    with pytest.raises(grpc.RpcError) as exc:
        api.submit(assembly, 1, "another text", request_id=request_id)
    assert exc.value.code() == PRECONDITION
    assert api.stub.ListMyQuestions(pb.ListMyQuestionsRequest(assembly_id=assembly), metadata=member_token(1)) \
        .questions[0].text == "first"
