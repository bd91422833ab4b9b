"""QuestionService over real gRPC and PostgreSQL: members submit and support, the most supported
rise, management answers and the secretary refers, the events carry the author's id; support
counts stay exact under concurrent supports, duplicates and withdrawals; list pages stay stable
while supports change; a retry with the same request_id changes nothing."""

from __future__ import annotations

import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import grpc
import pytest
from board_questions_helpers import AGENDA, TOKENS, QuestionsApi, member_token, module_fixtures
from board_svc_helpers import START

from coop.board.v1 import common_pb2
from coop.board.v1 import questions_pb2 as pb
from coop_platform.rich_status import details_of

FULL = common_pb2.LocalizedText(fr="Nous avons quitté la salle.", nl="We verlieten de zaal.", en="We left the venue.")
TITLE = common_pb2.LocalizedText(fr="Salle déficitaire", nl="Verlieslatende zaal", en="Loss-making venue")


api, _clock = module_fixtures()


def _list(api: QuestionsApi, assembly_id: str, token: list[tuple[str, str]] = TOKENS["member"],
          **kw) -> pb.ListQuestionsResponse:
    return api.stub.ListQuestions(pb.ListQuestionsRequest(assembly_id=assembly_id, **kw), metadata=token)


def _reason(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as exc:
        call()
    return exc.value.code(), details_of(exc.value).reason


def test_members_submit_and_support_and_the_most_supported_rise(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    ids = []
    for n in range(1, 4):
        api.clock.set(START + timedelta(minutes=n))
        ids.append(api.submit(assembly, n, f"question {n}", language=("fr", "nl", "en")[n - 1]).question_id)
    api.clock.set(START + timedelta(minutes=5))
    for who in (10, 11):
        api.support(ids[2], who)
    assert api.support(ids[1], 10).support_count == 1
    top = _list(api, assembly).questions
    assert [(q.question_id, q.support_count) for q in top] == [(ids[2], 2), (ids[1], 1), (ids[0], 0)]
    assert [q.language for q in top] == ["en", "nl", "fr"]
    newest = _list(api, assembly, order=pb.QUESTION_ORDER_NEWEST).questions
    assert [q.question_id for q in newest] == ids[::-1]
    mine = _list(api, assembly, member_token(10)).questions
    assert [q.supported_by_me for q in mine] == [True, True, False]


def test_management_answers_in_writing_and_the_author_is_told_by_event(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 3, "Why did the board withdraw from the venue?")
    answered = api.stub.AnswerQuestion(pb.AnswerQuestionRequest(
        question_id=q.question_id, mode=pb.ANSWER_MODE_WRITING, answer=FULL, request_id=str(uuid.uuid4())),
        metadata=TOKENS["management"]).question
    assert answered.status == pb.QUESTION_STATUS_ANSWERED_IN_WRITING and answered.answer == FULL
    assert answered.HasField("answered_at")
    event = next(e for e in api.events("question.answered") if e["questionId"] == q.question_id)
    assert event == {"questionId": q.question_id, "tenant": "coop", "assemblyId": q.assembly_id,
                     "authorMemberId": "mem-3", "mode": "QUESTION_ANSWER_MODE_WRITING",
                     "answeredAt": "2027-03-01T09:00:00Z"}
    read = api.stub.GetQuestion(pb.GetQuestionRequest(question_id=q.question_id), metadata=member_token(3)).question
    assert read.answer == FULL and read.status == pb.QUESTION_STATUS_ANSWERED_IN_WRITING


def test_answered_in_plenary_and_unanswered_questions_are_filtered_and_stay_listed(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    a, b = api.submit(assembly, 1, "a"), api.submit(assembly, 2, "b")
    api.clock.set(START + timedelta(days=31))  # after the Assembly
    api.stub.AnswerQuestion(pb.AnswerQuestionRequest(question_id=a.question_id, mode=pb.ANSWER_MODE_PLENARY),
                            metadata=TOKENS["secretary"])
    answered = _list(api, assembly, filter=pb.QUESTION_FILTER_ANSWERED).questions
    unanswered = _list(api, assembly, filter=pb.QUESTION_FILTER_UNANSWERED).questions
    assert [(q.question_id, q.status) for q in answered] == [(a.question_id, pb.QUESTION_STATUS_ANSWERED_IN_PLENARY)]
    assert [(q.question_id, q.status) for q in unanswered] == [(b.question_id, pb.QUESTION_STATUS_UNANSWERED)]
    assert api.events("question.answered")[-1]["mode"] == "QUESTION_ANSWER_MODE_PLENARY"


def test_a_question_referred_to_the_board_records_its_item_and_tells_the_author(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 4, "Can the board discuss the venue again?", public=True)
    referred = api.stub.ReferQuestionToBoard(pb.ReferQuestionToBoardRequest(
        question_id=q.question_id, title=TITLE, request_id=str(uuid.uuid4())), metadata=TOKENS["secretary"]).question
    tenant, question_id, title, text = AGENDA.calls[-1]
    assert (tenant, question_id, title.en, text.nl) == ("coop", q.question_id, TITLE.en, q.text)
    assert referred.referred and referred.referral_item_id == f"item-{len(AGENDA.calls)}"
    event = api.events("question.referred")[-1]
    assert (event["questionId"], event["authorMemberId"], event["itemId"]) == \
        (q.question_id, "mem-4", referred.referral_item_id)


def test_a_retry_with_the_same_request_id_counts_one_support_and_gives_the_same_answer(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    request_id = str(uuid.uuid4())
    first = api.support(q.question_id, 2, request_id=request_id)
    again = api.support(q.question_id, 2, request_id=request_id)
    assert first == again and first.support_count == 1
    assert api.stored_count(q.question_id) == (1, 1)
    submit_id = str(uuid.uuid4())
    before = api.counts()
    one = api.submit(q.assembly_id, 5, "same", request_id=submit_id)
    two = api.submit(q.assembly_id, 5, "same", request_id=submit_id)
    assert one.question_id == two.question_id and api.counts()[0] == before[0] + 1


def test_concurrent_supports_with_duplicates_count_each_member_exactly_once(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    members = range(100, 140)
    attempts = [m for m in members for _ in range(3)]  # side by side: a member's three tries run together

    def support(who: int) -> str:
        try:
            api.support(q.question_id, who)
            return "ok"
        except grpc.RpcError as exc:
            return details_of(exc).reason

    with ThreadPoolExecutor(16) as pool:
        outcomes = Counter(pool.map(support, attempts))
    assert outcomes == {"ok": 40, "ALREADY_SUPPORTED": 80}
    assert api.stored_count(q.question_id) == (40, 40)
    read = api.stub.GetQuestion(pb.GetQuestionRequest(question_id=q.question_id), metadata=TOKENS["admin"]).question
    assert read.support_count == 40


def test_concurrent_supports_and_withdrawals_leave_the_count_equal_to_the_supports(api: QuestionsApi) -> None:
    q = api.submit(api.new_assembly(), 1)
    early = range(200, 230)
    for who in early:
        api.support(q.question_id, who)
    calls = [("withdraw", w) for w in early if w % 2 == 0] * 2 + [("support", w) for w in range(230, 260)]

    def act(call: tuple[str, int]) -> str:
        kind, who = call
        try:
            if kind == "withdraw":
                api.stub.WithdrawSupport(pb.WithdrawSupportRequest(question_id=q.question_id),
                                         metadata=member_token(who))
            else:
                api.support(q.question_id, who)
            return f"{kind} ok"
        except grpc.RpcError as exc:
            return f"{kind} {details_of(exc).reason}"

    with ThreadPoolExecutor(16) as pool:
        outcomes = Counter(pool.map(act, calls))
    assert outcomes == {"withdraw ok": 15, "withdraw NOT_SUPPORTED": 15, "support ok": 30}
    assert api.stored_count(q.question_id) == (45, 45)


def test_pages_stay_stable_while_supports_change_between_them(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    ids = []
    for n in range(1, 8):
        api.clock.set(START + timedelta(seconds=n))
        ids.append(api.submit(assembly, n, f"q{n}").question_id)
    for who in (50, 51):
        api.support(ids[3], who)
    api.clock.set(START + timedelta(minutes=1))
    first = _list(api, assembly, page_size=3)
    expected = [ids[3], *ids[:3], *ids[4:]]
    assert [q.question_id for q in first.questions] == expected[:3]
    # between pages: supports move the last questions up, one is withdrawn, one more is submitted
    api.clock.set(START + timedelta(minutes=2))
    for who in range(60, 65):
        api.support(ids[6], who)
    api.stub.WithdrawSupport(pb.WithdrawSupportRequest(question_id=ids[3]), metadata=member_token(50))
    api.submit(assembly, 9, "late")
    seen, token = [q.question_id for q in first.questions], first.next_page_token
    while token:
        page = _list(api, assembly, page_size=3, page_token=token)
        assert page.as_of == first.as_of
        seen += [q.question_id for q in page.questions]
        token = page.next_page_token
    assert seen == expected
    fresh = _list(api, assembly, page_size=3).questions
    assert [(q.question_id, q.support_count) for q in fresh[:2]] == [(ids[6], 5), (ids[3], 1)]


def test_my_questions_list_only_the_callers_newest_first(api: QuestionsApi) -> None:
    assembly = api.new_assembly()
    mine = []
    for n in range(3):
        api.clock.set(START + timedelta(seconds=n))
        mine.append(api.submit(assembly, 77, f"mine {n}").question_id)
        api.submit(assembly, 78, f"theirs {n}")
    seen, token = [], ""
    while True:
        page = api.stub.ListMyQuestions(pb.ListMyQuestionsRequest(assembly_id=assembly, page_size=2, page_token=token),
                                        metadata=member_token(77))
        seen += [q.question_id for q in page.questions]
        assert all(q.mine and q.author_member_id == "mem-77" for q in page.questions)
        token = page.next_page_token
        if not token:
            break
    assert seen == mine[::-1]
