"""Use cases of members' questions to the General Assembly (docs/board.md, Questions to the
General Assembly): members submit questions in their language before the Assembly and support
other members' questions; management or the secretary answers them (in writing or in the
plenary) and may refer one to the board as a member concern.

Access (decided here, on what each use case reads): members submit, support and withdraw for
themselves (members in good standing, setting COOP_BOARD_QUESTIONS_OPEN_TO); members and the
board's roles read; management answers and refers while an appointment of the delegated
administration covers the day (the roster's `appointments`), the secretary while in office, an
admin always. Another tenant's Assemblies and questions are NOT_FOUND.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from coop_board.domain import roles
from coop_board.domain.links import AssemblySummary
from coop_board.domain.questions import (
    ALL,
    ANSWERED,
    MOST_SUPPORTED,
    NEWEST,
    UNANSWERED,
    Question,
    QuestionAnswered,
    QuestionReferred,
    QuestionRules,
    check_may_take_part,
    check_open_for_questions,
    check_three_languages,
    new_question,
)
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_board.service_layer import agenda_hooks, assembly_hooks
from coop_board.service_layer.board_access import require_secretary
from coop_board.service_layer.observers import check_id
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_domain.clock import local_date
from coop_domain.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

QUESTION_LIST = "board_questions"
MY_LIST = "board_my_questions"
READERS = (roles.MEMBER, *roles.BOARD_READERS)
ANSWERERS = (roles.MANAGEMENT, roles.SECRETARY, roles.ADMIN)


@dataclass(frozen=True)
class QuestionView:
    """A question as one reader sees it: the author only when public or the reader's own."""

    question: Question
    author_id: str | None
    mine: bool
    support_count: int
    supported_by_me: bool


@dataclass(frozen=True)
class QuestionPage:
    questions: list[QuestionView]
    next_page_token: str
    as_of: datetime


# -- shared checks -----------------------------------------------------------------------------

def _view(q: Question, caller: Principal, supported: set[str], count: int | None = None) -> QuestionView:
    return QuestionView(q, q.author_for(caller.subject), q.author_id == caller.subject,
                        q.support_count if count is None else count, q.question_id in supported)


def _assembly(uow: BoardUnitOfWork, caller: Principal, assembly_id: str) -> AssemblySummary:
    check_id(assembly_id, "assembly_id")
    found = assembly_hooks.assembly_summary(uow, caller.tenant, assembly_id)
    if found is None or found.tenant != caller.tenant:
        raise NotFound(f"no General Assembly {assembly_id}", field="assembly_id", reason="ASSEMBLY_NOT_FOUND")
    return found


def _question(uow: BoardUnitOfWork, caller: Principal, question_id: str, *, lock: bool = False) -> Question:
    check_id(question_id, "question_id")
    found = uow.questions.get(caller.tenant, question_id, lock=lock)
    if found is None:
        raise NotFound(f"no question {question_id}", field="question_id", reason="QUESTION_NOT_FOUND")
    return found


def _may_take_part(uow: BoardUnitOfWork, caller: Principal, rules: QuestionRules) -> None:
    caller.require(roles.MEMBER)
    standing = uow.members.standing(caller.subject)
    check_may_take_part(rules.open_to, standing.in_good_standing if standing else None)


def _supported(uow: BoardUnitOfWork, caller: Principal, questions: list[Question]) -> set[str]:
    if not caller.has(roles.MEMBER) or not questions:
        return set()
    return uow.questions.supported_among(caller.tenant, caller.subject, [q.question_id for q in questions])


def require_answerer(uow: BoardUnitOfWork, caller: Principal, now: datetime) -> None:
    """Management while an appointment of theirs covers the day (the role alone is not enough),
    the secretary in office, or an admin. Inside the caller's unit."""
    caller.require(*ANSWERERS)
    if caller.has(roles.MANAGEMENT) and any(
            a.manager_id == caller.subject and a.covers(local_date(now)) for a in uow.roster.appointments(caller.tenant)):
        return
    if caller.has(roles.SECRETARY, roles.ADMIN):
        require_secretary(uow, caller, now)
        return
    raise PermissionDenied("only the delegated administration appointed by the board (or the secretary) does this",
                           reason="NOT_APPOINTED_MANAGEMENT")


# -- members ------------------------------------------------------------------------------------

def submit_question(uow: BoardUnitOfWork, caller: Principal, rules: QuestionRules, assembly_id: str,
                    language: str, text: str, author_public: bool, now: datetime) -> QuestionView:
    caller.require(roles.MEMBER)
    check_id(assembly_id, "assembly_id")
    question = new_question(str(uuid.uuid4()), caller.tenant, assembly_id, caller.subject, language, text,
                            author_public, now, rules.max_chars)
    with uow:
        check_open_for_questions(_assembly(uow, caller, assembly_id), now)
        _may_take_part(uow, caller, rules)
        uow.questions.add(question)
        uow.commit()
    return _view(question, caller, set())


def support_question(uow: BoardUnitOfWork, caller: Principal, rules: QuestionRules, question_id: str,
                     now: datetime) -> QuestionView:
    """One support per member (ALREADY_SUPPORTED), never their own question (OWN_QUESTION)."""
    caller.require(roles.MEMBER)
    with uow:
        question = _question(uow, caller, question_id)
        question.check_supportable_by(caller.subject)
        check_open_for_questions(_assembly(uow, caller, question.assembly_id), now)
        _may_take_part(uow, caller, rules)
        if not uow.questions.add_support(caller.tenant, question_id, caller.subject, now):
            raise AlreadyExists("you already support this question", field="question_id",
                                reason="ALREADY_SUPPORTED")
        view = _view(_question(uow, caller, question_id), caller, {question_id})
        uow.commit()
    return view


def withdraw_support(uow: BoardUnitOfWork, caller: Principal, question_id: str, now: datetime) -> QuestionView:
    """Until the Assembly is held; a member who lost good standing may still withdraw."""
    caller.require(roles.MEMBER)
    with uow:
        question = _question(uow, caller, question_id)
        check_open_for_questions(_assembly(uow, caller, question.assembly_id), now)
        if not uow.questions.withdraw_support(caller.tenant, question_id, caller.subject, now):
            raise NotFound("you do not support this question", field="question_id", reason="NOT_SUPPORTED")
        view = _view(_question(uow, caller, question_id), caller, set())
        uow.commit()
    return view


def list_my_questions(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, requested_size: int,
                      token: str) -> tuple[list[QuestionView], str]:
    caller.require(roles.MEMBER)
    if assembly_id:
        check_id(assembly_id, "assembly_id")
    size = page_size(requested_size)
    after = decode_page_token(token, MY_LIST, 2, types=(str, str))
    with uow:
        uow.read_only()
        rows = uow.questions.of_author(caller.tenant, caller.subject, assembly_id or None,
                                       (after[0], after[1]) if after else None, size + 1)
        supported = _supported(uow, caller, rows[:size])
    next_token = ""
    if len(rows) > size:
        last = rows[size - 1]
        next_token = encode_page_token(MY_LIST, last.submitted_at.isoformat(), last.question_id)
    return [_view(q, caller, supported) for q in rows[:size]], next_token


# -- readers ------------------------------------------------------------------------------------

def get_question(uow: BoardUnitOfWork, caller: Principal, question_id: str) -> QuestionView:
    caller.require(*READERS)
    with uow:
        uow.read_only()
        question = _question(uow, caller, question_id)
        return _view(question, caller, _supported(uow, caller, [question]))


def list_questions(uow: BoardUnitOfWork, caller: Principal, assembly_id: str, order: str, filter_: str,
                   requested_size: int, token: str, now: datetime) -> QuestionPage:
    """The first page fixes the snapshot instant `as_of` (now); the token carries it with the
    order, the filter and the last question's (count at as_of, submitted_at, id), so every page
    is ordered on the same counts and no question repeats or goes missing while supports change.
    A question submitted after as_of shows on a new first page."""
    caller.require(*READERS)
    if order not in (MOST_SUPPORTED, NEWEST):
        raise InvalidArgument("order is most_supported or newest", field="order", reason="INVALID_ORDER")
    if filter_ not in (ALL, UNANSWERED, ANSWERED):
        raise InvalidArgument("filter is all, unanswered or answered", field="filter", reason="INVALID_FILTER")
    size = page_size(requested_size)
    as_of, after = now, None
    position = decode_page_token(token, QUESTION_LIST, 7)
    if position is not None:
        as_of, after = _position(position, assembly_id, order, filter_)
    with uow:
        uow.read_only()
        _assembly(uow, caller, assembly_id)
        answered = None if filter_ == ALL else filter_ == ANSWERED
        rows = uow.questions.listing(caller.tenant, assembly_id, order, answered, as_of, after, size + 1)
        supported = _supported(uow, caller, [q for q, _ in rows[:size]])
    views = [_view(q, caller, supported, count) for q, count in rows[:size]]
    next_token = ""
    if len(rows) > size:
        last, count = rows[size - 1]
        next_token = encode_page_token(QUESTION_LIST, assembly_id, order, filter_, as_of.isoformat(),
                                       count if order == MOST_SUPPORTED else 0, last.submitted_at.isoformat(),
                                       last.question_id)
    return QuestionPage(views, next_token, as_of)


def _position(values: list, assembly_id: str, order: str, filter_: str) -> tuple[datetime, tuple[int, str, str]]:
    bad = InvalidArgument("page_token is not a token of this list (same assembly, order and filter)",
                          field="page_token", reason="INVALID_PAGE_TOKEN")
    assembly, token_order, token_filter, as_of, count, submitted, question_id = values
    if (assembly, token_order, token_filter) != (assembly_id, order, filter_) or not isinstance(count, int) \
            or not all(isinstance(v, str) for v in (as_of, submitted, question_id)):
        raise bad
    try:
        when = datetime.fromisoformat(as_of)
        datetime.fromisoformat(submitted)
    except ValueError:
        raise bad from None
    return when, (count, submitted, question_id)


# -- management and the secretary ----------------------------------------------------------------

def answer_question(uow: BoardUnitOfWork, caller: Principal, question_id: str, mode: str, answer: LocalizedText,
                    now: datetime) -> QuestionView:
    """Once; publishes question.answered (with the author's id, to tell them)."""
    caller.require(*ANSWERERS)
    with uow:
        require_answerer(uow, caller, now)
        question = _question(uow, caller, question_id, lock=True)
        answered = question.answer_with(mode, answer, caller.subject, now)
        uow.questions.save(answered)
        uow.publish(QuestionAnswered(caller.tenant, question_id, question.assembly_id, question.author_id, mode, now))
        view = _view(answered, caller, _supported(uow, caller, [answered]))
        uow.commit()
    return view


def refer_to_board(uow: BoardUnitOfWork, caller: Principal, question_id: str, title: LocalizedText,
                   text: LocalizedText, now: datetime) -> QuestionView:
    """An agenda item of source member_concern on the next open agenda (or pending); once."""
    caller.require(*ANSWERERS)
    check_three_languages(title, "title", optional=False, max_chars=500)
    check_three_languages(text, "text", optional=True)
    with uow:
        require_answerer(uow, caller, now)
        question = _question(uow, caller, question_id, lock=True)
        question.check_referable()
        if text.empty:  # the member's own words, untranslated, in every language
            text = LocalizedText(**{lang: question.text for lang in LANGUAGES})
        item_id = agenda_hooks.add_member_concern_item(uow, caller.tenant, question_id, title, text, now)
        referred = question.refer(item_id, caller.subject, now)
        uow.questions.save(referred)
        uow.publish(QuestionReferred(caller.tenant, question_id, question.assembly_id, question.author_id, item_id,
                                     now))
        view = _view(referred, caller, _supported(uow, caller, [referred]))
        uow.commit()
    return view
