"""Questions' use cases (service_layer/questions.py) on the in-memory fakes: who may do what (the
roster decides for management and the secretary), the rules named by reason, nothing written on
a refusal, the events (ids only), the list's order, filter and snapshot paging.

The Assembly (assembly_hooks.assembly_summary) and the agenda (agenda_hooks.add_member_concern_item)
belong to families built in parallel: stand-ins from board_fakes_questions replace them here."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_questions import NOW, StandInAgenda, StandInAssemblies, hooks_replaced

from coop_board.domain.officers import ManagementAppointment
from coop_board.domain.questions import (
    ALL,
    ANSWERED,
    MOST_SUPPORTED,
    NEWEST,
    PLENARY,
    UNANSWERED,
    WRITING,
    QuestionAnswered,
    QuestionReferred,
    QuestionRules,
)
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import questions as uc
from coop_domain.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
)
from coop_domain.principal import Principal

RULES = QuestionRules()
FULL = LocalizedText(fr="Réponse", nl="Antwoord", en="Answer")
TITLE = LocalizedText(fr="Salle déficitaire", nl="Verlieslatende zaal", en="Loss-making venue")
SECRETARY = Principal("sec-1", "coop", frozenset({"secretary", "director"}))
MANAGEMENT = Principal("mgmt-1", "coop", frozenset({"management"}))
FORMER_MANAGEMENT = Principal("mgmt-old", "coop", frozenset({"management"}))
ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
DIRECTOR = Principal("dir-1", "coop", frozenset({"director"}))
OTHER_ADMIN = Principal("admin-x", "other", frozenset({"admin"}))


def member(n: int | str, tenant: str = "coop") -> Principal:
    return Principal(f"mem-{n}", tenant, frozenset({"member"}))


@pytest.fixture
def assemblies() -> StandInAssemblies:
    found = StandInAssemblies()
    found.add("ga-1")
    return found


@pytest.fixture
def agenda() -> StandInAgenda:
    return StandInAgenda()


@pytest.fixture
def uow(assemblies: StandInAssemblies, agenda: StandInAgenda) -> Iterator[FakeUnitOfWork]:
    u = FakeUnitOfWork()
    u.roster.seat("sec-1", date(2026, 6, 1), date(2030, 6, 1))
    u.roster.appoint("secretary", "sec-1", date(2026, 6, 1))
    u.roster.add_appointment(ManagementAppointment("ap-1", "coop", "mgmt-1", "managing director",
                                                   date(2026, 1, 1), None, "decision-1"))
    u.roster.add_appointment(ManagementAppointment("ap-0", "coop", "mgmt-old", "managing director",
                                                   date(2020, 1, 1), date(2026, 1, 1), "decision-0"))
    for n in range(1, 30):
        u.members.set(f"mem-{n}", "user")
    u.members.set("mem-lapsed", "user", good=False, status="suspended")
    with hooks_replaced(assemblies, agenda):
        yield u


def submit(uow, who: int | str = 1, text: str = "Why did the board leave the venue?", *, public: bool = False,
           at=NOW, assembly: str = "ga-1"):
    return uc.submit_question(uow, member(who), RULES, assembly, "en", text, public, at)


def refused(call, kind: type[DomainError], reason: str) -> None:
    with pytest.raises(kind) as exc:
        call()
    assert exc.value.reason == reason


# -- submitting -----------------------------------------------------------------------------------

def test_a_member_in_good_standing_submits_a_question_that_starts_unanswered(uow) -> None:
    view = submit(uow, public=True)
    assert (view.mine, view.author_id, view.support_count, view.question.status) == (True, "mem-1", 0, UNANSWERED)
    assert uow.questions.get("coop", view.question.question_id) is not None and uow.published == []


def test_submitting_needs_good_standing_unless_open_to_every_member(uow) -> None:
    lapsed = Principal("mem-lapsed", "coop", frozenset({"member"}))
    unknown = Principal("mem-nobody", "coop", frozenset({"member"}))
    for who in (lapsed, unknown):
        refused(lambda w=who: uc.submit_question(uow, w, RULES, "ga-1", "en", "Why?", False, NOW),
                FailedPrecondition, "NOT_IN_GOOD_STANDING")
    assert uow.questions.rows == {}
    open_to_all = QuestionRules(open_to="members")
    assert uc.submit_question(uow, lapsed, open_to_all, "ga-1", "en", "Why?", False, NOW).mine


def test_an_unknown_or_another_tenants_assembly_is_not_found(uow, assemblies) -> None:
    assemblies.add("ga-other", tenant="other")
    refused(lambda: submit(uow, assembly="ga-404"), NotFound, "ASSEMBLY_NOT_FOUND")
    refused(lambda: submit(uow, assembly="ga-other"), NotFound, "ASSEMBLY_NOT_FOUND")


def test_no_question_in_advance_once_the_assembly_is_held_started_or_cancelled(uow, assemblies) -> None:
    assemblies.set_status("ga-1", "held")
    refused(lambda: submit(uow), FailedPrecondition, "ASSEMBLY_HELD")
    assemblies.add("ga-2", starts_at=NOW)
    refused(lambda: submit(uow, assembly="ga-2"), FailedPrecondition, "ASSEMBLY_HELD")
    assemblies.add("ga-3", status="cancelled")
    refused(lambda: submit(uow, assembly="ga-3"), FailedPrecondition, "ASSEMBLY_CANCELLED")
    assert uow.questions.rows == {}


def test_only_members_submit(uow) -> None:
    for who in (SECRETARY, MANAGEMENT, ADMIN, DIRECTOR):
        refused(lambda w=who: uc.submit_question(uow, w, RULES, "ga-1", "en", "Why?", False, NOW),
                PermissionDenied, "ROLE_REQUIRED")


# -- supporting -----------------------------------------------------------------------------------

def test_one_support_per_member_and_not_for_their_own_question(uow) -> None:
    q = submit(uow).question
    view = uc.support_question(uow, member(2), RULES, q.question_id, NOW)
    assert (view.support_count, view.supported_by_me, view.author_id) == (1, True, None)
    refused(lambda: uc.support_question(uow, member(2), RULES, q.question_id, NOW), AlreadyExists,
            "ALREADY_SUPPORTED")
    refused(lambda: uc.support_question(uow, member(1), RULES, q.question_id, NOW), FailedPrecondition,
            "OWN_QUESTION")
    assert uow.questions.get("coop", q.question_id).support_count == 1


def test_a_withdrawn_support_counts_no_more_and_may_be_given_again(uow) -> None:
    q = submit(uow).question
    uc.support_question(uow, member(2), RULES, q.question_id, NOW)
    view = uc.withdraw_support(uow, member(2), q.question_id, NOW + timedelta(minutes=1))
    assert (view.support_count, view.supported_by_me) == (0, False)
    refused(lambda: uc.withdraw_support(uow, member(2), q.question_id, NOW), NotFound, "NOT_SUPPORTED")
    assert uc.support_question(uow, member(2), RULES, q.question_id, NOW + timedelta(minutes=2)).support_count == 1


def test_a_member_who_lost_good_standing_may_withdraw_but_not_support(uow) -> None:
    q = submit(uow).question
    uc.support_question(uow, member(2), RULES, q.question_id, NOW)
    uow.members.set("mem-2", "user", good=False, status="suspended")
    assert uc.withdraw_support(uow, member(2), q.question_id, NOW).support_count == 0
    refused(lambda: uc.support_question(uow, member(2), RULES, q.question_id, NOW), FailedPrecondition,
            "NOT_IN_GOOD_STANDING")


def test_supports_stop_when_the_assembly_is_held(uow, assemblies) -> None:
    q = submit(uow).question
    uc.support_question(uow, member(2), RULES, q.question_id, NOW)
    assemblies.set_status("ga-1", "held")
    refused(lambda: uc.support_question(uow, member(3), RULES, q.question_id, NOW), FailedPrecondition,
            "ASSEMBLY_HELD")
    refused(lambda: uc.withdraw_support(uow, member(2), q.question_id, NOW), FailedPrecondition, "ASSEMBLY_HELD")
    assert uow.questions.get("coop", q.question_id).support_count == 1


def test_another_tenants_member_finds_no_question(uow) -> None:
    q = submit(uow).question
    refused(lambda: uc.support_question(uow, member(2, "other"), RULES, q.question_id, NOW), NotFound,
            "QUESTION_NOT_FOUND")
    refused(lambda: uc.get_question(uow, OTHER_ADMIN, q.question_id), NotFound, "QUESTION_NOT_FOUND")


# -- reading --------------------------------------------------------------------------------------

def _ids(page) -> list[str]:
    return [v.question.question_id for v in page.questions]


def test_most_supported_first_ties_oldest_first_or_newest_first(uow) -> None:
    a = submit(uow, 1, "a", at=NOW).question.question_id
    b = submit(uow, 2, "b", at=NOW + timedelta(minutes=1)).question.question_id
    c = submit(uow, 3, "c", at=NOW + timedelta(minutes=2)).question.question_id
    for who in (4, 5):
        uc.support_question(uow, member(who), RULES, c, NOW + timedelta(minutes=3))
    uc.support_question(uow, member(4), RULES, a, NOW + timedelta(minutes=3))
    uc.support_question(uow, member(5), RULES, b, NOW + timedelta(minutes=3))
    later = NOW + timedelta(minutes=4)
    top = uc.list_questions(uow, member(9), "ga-1", MOST_SUPPORTED, ALL, 0, "", later)
    assert _ids(top) == [c, a, b] and [v.support_count for v in top.questions] == [2, 1, 1]
    assert _ids(uc.list_questions(uow, member(9), "ga-1", NEWEST, ALL, 0, "", later)) == [c, b, a]


def test_answered_and_unanswered_filters_and_an_unanswered_question_stays_listed(uow) -> None:
    a = submit(uow, 1, "a").question.question_id
    b = submit(uow, 2, "b").question.question_id
    uc.answer_question(uow, MANAGEMENT, a, WRITING, FULL, NOW)
    later = NOW + timedelta(minutes=1)
    assert _ids(uc.list_questions(uow, member(9), "ga-1", MOST_SUPPORTED, ANSWERED, 0, "", later)) == [a]
    unanswered = uc.list_questions(uow, member(9), "ga-1", MOST_SUPPORTED, UNANSWERED, 0, "", later)
    assert _ids(unanswered) == [b] and unanswered.questions[0].question.status == UNANSWERED


def test_pages_stay_stable_while_supports_change_between_them(uow) -> None:
    ids = [submit(uow, n, f"q{n}", at=NOW + timedelta(seconds=n)).question.question_id for n in range(1, 7)]
    as_of = NOW + timedelta(minutes=1)
    first = uc.list_questions(uow, member(20), "ga-1", MOST_SUPPORTED, ALL, 2, "", as_of)
    # between pages: the last question gets many supports, another is submitted
    for who in range(10, 16):
        uc.support_question(uow, member(who), RULES, ids[-1], as_of + timedelta(seconds=1))
    submit(uow, 7, "late", at=as_of + timedelta(seconds=2))
    seen, token = _ids(first), first.next_page_token
    while token:
        page = uc.list_questions(uow, member(20), "ga-1", MOST_SUPPORTED, ALL, 2, token, as_of + timedelta(minutes=5))
        assert page.as_of == as_of
        seen += _ids(page)
        token = page.next_page_token
    assert seen == ids  # every question once, in the first page's order (all at 0, oldest first)
    fresh = uc.list_questions(uow, member(20), "ga-1", MOST_SUPPORTED, ALL, 2, "", as_of + timedelta(minutes=5))
    assert _ids(fresh)[0] == ids[-1] and fresh.questions[0].support_count == 6


def test_a_token_is_refused_for_another_order_filter_or_assembly(uow, assemblies) -> None:
    assemblies.add("ga-2")
    for n in range(1, 4):
        submit(uow, n, f"q{n}")
    token = uc.list_questions(uow, member(9), "ga-1", MOST_SUPPORTED, ALL, 1, "", NOW).next_page_token
    for assembly, order, filter_ in (("ga-1", NEWEST, ALL), ("ga-1", MOST_SUPPORTED, UNANSWERED),
                                     ("ga-2", MOST_SUPPORTED, ALL)):
        refused(lambda a=assembly, o=order, f=filter_: uc.list_questions(uow, member(9), a, o, f, 1, token, NOW),
                DomainError, "INVALID_PAGE_TOKEN")


def test_the_author_is_hidden_unless_public_and_the_author_sees_their_own(uow) -> None:
    hidden = submit(uow, 1, "hidden").question.question_id
    public = submit(uow, 2, "public", public=True).question.question_id
    for reader in (member(3), SECRETARY, MANAGEMENT, ADMIN, DIRECTOR):
        authors = {v.question.question_id: v.author_id
                   for v in uc.list_questions(uow, reader, "ga-1", NEWEST, ALL, 0, "", NOW).questions}
        assert authors == {hidden: None, public: "mem-2"}
    mine, _ = uc.list_my_questions(uow, member(1), "", 0, "")
    assert [(v.question.question_id, v.author_id, v.mine) for v in mine] == [(hidden, "mem-1", True)]
    assert uc.get_question(uow, member(1), hidden).author_id == "mem-1"


def test_my_questions_are_paged_newest_first_and_filtered_by_assembly(uow, assemblies) -> None:
    assemblies.add("ga-2")
    ids = [submit(uow, 1, f"q{n}", at=NOW + timedelta(seconds=n), assembly="ga-1" if n % 2 else "ga-2")
           .question.question_id for n in range(1, 6)]
    seen, token = [], ""
    while True:
        page, token = uc.list_my_questions(uow, member(1), "", 2, token)
        seen += [v.question.question_id for v in page]
        if not token:
            break
    assert seen == ids[::-1]
    only, _ = uc.list_my_questions(uow, member(1), "ga-2", 0, "")
    assert [v.question.question_id for v in only] == [ids[3], ids[1]]


# -- answering and referring -------------------------------------------------------------------------

def test_management_in_office_answers_in_writing_and_the_author_is_told(uow) -> None:
    q = submit(uow).question
    view = uc.answer_question(uow, MANAGEMENT, q.question_id, WRITING, FULL, NOW)
    assert (view.question.status, view.question.answer) == ("in_writing", FULL)
    assert uow.published == [QuestionAnswered("coop", q.question_id, "ga-1", "mem-1", WRITING, NOW)]
    refused(lambda: uc.answer_question(uow, SECRETARY, q.question_id, PLENARY, LocalizedText(), NOW),
            FailedPrecondition, "ALREADY_ANSWERED")


def test_the_secretary_or_an_admin_marks_a_question_answered_in_the_plenary(uow) -> None:
    a, b = submit(uow, 1, "a").question, submit(uow, 2, "b").question
    assert uc.answer_question(uow, SECRETARY, a.question_id, PLENARY, LocalizedText(), NOW).question.status == \
        "in_plenary"
    assert uc.answer_question(uow, ADMIN, b.question_id, PLENARY, FULL, NOW).question.answer == FULL


def test_a_management_role_without_a_running_appointment_may_not_answer(uow) -> None:
    q = submit(uow).question
    refused(lambda: uc.answer_question(uow, FORMER_MANAGEMENT, q.question_id, WRITING, FULL, NOW),
            PermissionDenied, "NOT_APPOINTED_MANAGEMENT")
    not_in_office = Principal("dir-2", "coop", frozenset({"secretary", "director"}))
    refused(lambda: uc.answer_question(uow, not_in_office, q.question_id, WRITING, FULL, NOW),
            PermissionDenied, "NOT_THE_SECRETARY")
    for who in (member(2), DIRECTOR):
        refused(lambda w=who: uc.answer_question(uow, w, q.question_id, WRITING, FULL, NOW), PermissionDenied,
                "ROLE_REQUIRED")
    assert uow.questions.get("coop", q.question_id).status == UNANSWERED and uow.published == []


def test_an_answer_in_writing_missing_a_language_writes_nothing(uow) -> None:
    q = submit(uow).question
    refused(lambda: uc.answer_question(uow, MANAGEMENT, q.question_id, WRITING, LocalizedText(fr="R", nl="A"), NOW),
            DomainError, "TRANSLATION_MISSING")
    assert uow.questions.get("coop", q.question_id).status == UNANSWERED and uow.published == []


def test_a_referred_question_becomes_a_member_concern_item_once(uow, agenda) -> None:
    q = submit(uow).question
    view = uc.refer_to_board(uow, SECRETARY, q.question_id, TITLE, LocalizedText(), NOW)
    assert (view.question.referred, view.question.referral_item_id) == (True, "item-1")
    (tenant, question_id, title, text), = agenda.calls
    assert (tenant, question_id, title) == ("coop", q.question_id, TITLE)
    assert text == LocalizedText(fr=q.text, nl=q.text, en=q.text)  # the member's words, untranslated
    assert uow.published == [QuestionReferred("coop", q.question_id, "ga-1", "mem-1", "item-1", NOW)]
    refused(lambda: uc.refer_to_board(uow, MANAGEMENT, q.question_id, TITLE, LocalizedText(), NOW),
            FailedPrecondition, "ALREADY_REFERRED")
    assert len(agenda.calls) == 1


def test_a_referral_waits_for_the_next_meeting_when_no_agenda_is_open(uow, agenda) -> None:
    agenda.pending = True
    q = submit(uow).question
    view = uc.refer_to_board(uow, MANAGEMENT, q.question_id, TITLE, FULL, NOW)
    assert (view.question.referred, view.question.referral_item_id) == (True, None)
    assert agenda.calls[0][3] == FULL and uow.published[0].item_id is None


def test_a_referral_needs_a_title_in_three_languages_and_a_whole_text_or_none(uow, agenda) -> None:
    q = submit(uow).question
    refused(lambda: uc.refer_to_board(uow, SECRETARY, q.question_id, LocalizedText(fr="T"), LocalizedText(), NOW),
            DomainError, "TRANSLATION_MISSING")
    refused(lambda: uc.refer_to_board(uow, SECRETARY, q.question_id, TITLE, LocalizedText(en="only"), NOW),
            DomainError, "TRANSLATION_MISSING")
    assert agenda.calls == [] and not uow.questions.get("coop", q.question_id).referred
