"""Every QuestionService RPC against every role (director, secretary, management, member, admin,
another tenant's admin, no token): what each may do, and a refusal writes nothing. Management
and the secretary are checked against the roster, not only their role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from board_questions_helpers import ROLES, ROSTER, TOKENS, QuestionsApi, module_fixtures

from coop.board.v1 import common_pb2
from coop.board.v1 import questions_pb2 as pb
from coop_platform.rich_status import details_of
from coop_testkit import bearer

OK = grpc.StatusCode.OK
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
SERVICE = pb.DESCRIPTOR.services_by_name["QuestionService"]
FULL = common_pb2.LocalizedText(fr="Réponse", nl="Antwoord", en="Answer")


api, _clock = module_fixtures()


def _question(api: QuestionsApi) -> pb.Question:
    """A question by mem-2 (so mem-1, the `member` token, may support it)."""
    return api.submit(api.new_assembly(), 2)


def _submit(api):
    return pb.SubmitQuestionRequest(assembly_id=api.new_assembly(), language="fr", text="Pourquoi ?")


def _support(api):
    return pb.SupportQuestionRequest(question_id=_question(api).question_id)


def _withdraw(api):
    q = _question(api)
    api.support(q.question_id, 1)
    return pb.WithdrawSupportRequest(question_id=q.question_id)


def _list(api):
    return pb.ListQuestionsRequest(assembly_id=_question(api).assembly_id)


def _get(api):
    return pb.GetQuestionRequest(question_id=_question(api).question_id)


def _list_mine(api):
    api.submit(api.new_assembly(), 1)
    return pb.ListMyQuestionsRequest()


def _answer(api):
    return pb.AnswerQuestionRequest(question_id=_question(api).question_id, mode=pb.ANSWER_MODE_WRITING, answer=FULL)


def _refer(api):
    return pb.ReferQuestionToBoardRequest(question_id=_question(api).question_id, title=FULL)


READERS = {"member": OK, "director": OK, "secretary": OK, "management": OK, "admin": OK, "other": NOT_FOUND}
ANSWERERS = {"secretary": OK, "management": OK, "admin": OK, "other": NOT_FOUND}
CASES: dict[str, tuple[Callable[[QuestionsApi], Any], dict[str, grpc.StatusCode]]] = {
    "SubmitQuestion": (_submit, {"member": OK}),
    "SupportQuestion": (_support, {"member": OK}),
    "WithdrawSupport": (_withdraw, {"member": OK}),
    "ListQuestions": (_list, READERS),
    "GetQuestion": (_get, READERS),
    "ListMyQuestions": (_list_mine, {"member": OK}),
    "AnswerQuestion": (_answer, ANSWERERS),
    "ReferQuestionToBoard": (_refer, ANSWERERS),
}


def test_every_rpc_of_the_service_is_covered() -> None:
    assert sorted(CASES) == sorted(m.name for m in SERVICE.methods)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", sorted(CASES))
def test_every_rpc_against_every_role(api: QuestionsApi, method: str, role: str) -> None:
    prepare, allowed = CASES[method]
    request = prepare(api)
    expected = UNAUTHENTICATED if role == "anonymous" else allowed.get(role, DENIED)
    before = api.counts()
    try:
        getattr(api.stub, method)(request, metadata=TOKENS[role])
        code = OK
    except grpc.RpcError as exc:
        code = exc.code()
        assert details_of(exc).reason, "a refusal names its reason"
    assert code == expected, f"{method} as {role}"
    if code != OK:
        assert api.counts() == before, "a refused call writes nothing"


def test_a_management_role_without_a_running_appointment_is_refused(api: QuestionsApi) -> None:
    q = _question(api)
    former = bearer("mgmt-old", "management")
    before = api.counts()
    for call, request in ((api.stub.AnswerQuestion, pb.AnswerQuestionRequest(
                              question_id=q.question_id, mode=pb.ANSWER_MODE_PLENARY)),
                          (api.stub.ReferQuestionToBoard, pb.ReferQuestionToBoardRequest(
                              question_id=q.question_id, title=FULL))):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=former)
        assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_APPOINTED_MANAGEMENT"
    assert api.counts() == before and "mgmt-old" not in {a.manager_id for a in ROSTER.appointments("coop")}


def test_a_secretary_role_without_the_office_is_refused_with_its_reason(api: QuestionsApi) -> None:
    q = _question(api)
    with pytest.raises(grpc.RpcError) as exc:
        api.stub.AnswerQuestion(pb.AnswerQuestionRequest(question_id=q.question_id, mode=pb.ANSWER_MODE_PLENARY),
                                metadata=bearer("dir-2", "secretary", "director"))
    assert exc.value.code() == DENIED and details_of(exc.value).reason == "NOT_THE_SECRETARY"


def test_another_tenants_member_finds_no_assembly_and_no_question(api: QuestionsApi) -> None:
    q = _question(api)
    theirs = bearer("mem-1", "member", tenant="other")
    before = api.counts()
    for call, request, reason in (
            (api.stub.SubmitQuestion, pb.SubmitQuestionRequest(assembly_id=q.assembly_id, language="en", text="?"),
             "ASSEMBLY_NOT_FOUND"),
            (api.stub.SupportQuestion, pb.SupportQuestionRequest(question_id=q.question_id), "QUESTION_NOT_FOUND"),
            (api.stub.GetQuestion, pb.GetQuestionRequest(question_id=q.question_id), "QUESTION_NOT_FOUND"),
            (api.stub.ListQuestions, pb.ListQuestionsRequest(assembly_id=q.assembly_id), "ASSEMBLY_NOT_FOUND")):
        with pytest.raises(grpc.RpcError) as exc:
            call(request, metadata=theirs)
        assert exc.value.code() == NOT_FOUND and details_of(exc.value).reason == reason
    assert api.stub.ListMyQuestions(pb.ListMyQuestionsRequest(), metadata=theirs).questions == []
    assert api.counts() == before


def test_a_hidden_author_reaches_no_other_reader_and_the_author_sees_their_own(api: QuestionsApi) -> None:
    q = _question(api)
    assert q.author_member_id == "mem-2" and q.mine
    for role in ("member", "director", "secretary", "management", "admin"):
        seen = api.stub.GetQuestion(pb.GetQuestionRequest(question_id=q.question_id), metadata=TOKENS[role]).question
        listed = api.stub.ListQuestions(pb.ListQuestionsRequest(assembly_id=q.assembly_id),
                                        metadata=TOKENS[role]).questions
        assert (seen.author_member_id, seen.mine, [x.author_member_id for x in listed]) == ("", False, [""]), role
    mine = api.stub.ListMyQuestions(pb.ListMyQuestionsRequest(assembly_id=q.assembly_id),
                                    metadata=bearer("mem-2", "member")).questions
    assert [(x.question_id, x.author_member_id, x.mine) for x in mine] == [(q.question_id, "mem-2", True)]
