"""Use cases of candidacies: members stand for a board-seat question within the nomination
window, withdraw, and everyone reads the list once nominations close."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from coop_domain.errors import AlreadyExists, FailedPrecondition, NotFound
from coop_domain.principal import Principal
from coop_elections.domain.election import QuestionSpec, Text, check_texts
from coop_elections.domain.model import CANDIDATE_METHODS
from coop_elections.domain.stored import StoredElection
from coop_elections.service_layer.common import MANAGERS, VOTERS, load
from coop_elections.service_layer.ports import ElectionsUnitOfWork

PERMANENT_STAFF = "permanent_staff"


def _nomination_question(e: StoredElection, question_id: str) -> QuestionSpec:
    for q in e.spec.questions:
        if q.question_id == question_id:
            if q.method not in CANDIDATE_METHODS:
                raise FailedPrecondition(f"question {question_id} has no candidates", field="question_id",
                                         reason="NOT_A_CANDIDATE_QUESTION")
            return q
    raise NotFound(f"no question {question_id!r}", field="question_id", reason="QUESTION_NOT_FOUND")


def _nominations_open(e: StoredElection, now: datetime) -> None:
    if not e.spec.has_nominations:
        raise FailedPrecondition("this election takes no candidacies", reason="NO_NOMINATIONS")
    if not (e.spec.nominations_open <= now < e.spec.nominations_close):  # type: ignore[operator]
        raise FailedPrecondition("nominations are not open", reason="NOMINATIONS_NOT_OPEN",
                                 nominations_open=e.spec.nominations_open.isoformat(),  # type: ignore[union-attr]
                                 nominations_close=e.spec.nominations_close.isoformat())  # type: ignore[union-attr]


def submit_candidacy(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, question_id: str,
                     statement: tuple[Text, ...], now: datetime) -> Any:
    """The caller stands (candidate id = the caller). Eligibility: on the roll (good standing at
    the cut-off) or, before the roll exists, in good standing in the membership projection."""
    caller.require(*VOTERS)
    candidate_id = caller.subject
    check_texts(statement, "statement", need_title=False, field="statement")
    with uow:
        e = load(uow, caller, election_id, lock="update")
        q = _nomination_question(e, question_id)
        _nominations_open(e, now)
        entry = uow.elections.roll_entry(e.election_id, candidate_id)
        member = uow.elections.member(candidate_id)
        if entry is None and (member is None or not member.in_good_standing or member.status != "active"):
            raise FailedPrecondition("only voters in good standing may stand", reason="NOT_IN_GOOD_STANDING")
        category = (entry.category if entry is not None and entry.category else
                    (member.category if member is not None else "")) or "user"
        statement_json = json.dumps([t.__dict__ for t in statement])
        existing = uow.elections.candidacy(e.election_id, question_id, candidate_id)
        if existing is not None and not existing.withdrawn:
            if existing.statement == statement_json:  # a retry: the first answer
                return existing
            raise AlreadyExists("you already stand for this question (withdraw to change your statement)",
                                field="question_id", reason="ALREADY_STANDING")
        if category == PERMANENT_STAFF and e.spec.max_permanent_staff_seats:
            # the cap on seats limits how many staff can be elected, so it caps the slate too
            staff = [r for r in uow.elections.candidacies(e.election_id, question_id)
                     if r.category == PERMANENT_STAFF and not r.withdrawn]
            if len(staff) >= max(e.spec.max_permanent_staff_seats, q.seats):
                raise FailedPrecondition("the permanent-staff candidacies are full for this question",
                                         reason="STAFF_CANDIDACIES_FULL")
        uow.elections.save_candidacy(e.election_id, question_id, candidate_id, statement_json, category, False)
        row = uow.elections.candidacy(e.election_id, question_id, candidate_id)  # before the commit: no second transaction
        uow.commit()
        return row


def withdraw_candidacy(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, question_id: str,
                       now: datetime) -> Any:
    caller.require(*VOTERS)
    with uow:
        e = load(uow, caller, election_id, lock="update")
        _nomination_question(e, question_id)
        _nominations_open(e, now)
        row = uow.elections.candidacy(e.election_id, question_id, caller.subject)
        if row is None:
            raise NotFound("no candidacy to withdraw", field="question_id", reason="NO_CANDIDACY")
        if row.withdrawn:  # a retry: the first answer
            return row
        uow.elections.save_candidacy(e.election_id, question_id, caller.subject, row.statement,
                                     row.category, True)
        row = uow.elections.candidacy(e.election_id, question_id, caller.subject)
        uow.commit()
        return row


def list_candidacies(uow: ElectionsUnitOfWork, caller: Principal, election_id: str, question_id: str,
                     now: datetime) -> list[Any]:
    """Managers see every candidacy at any time; others the standing ones once nominations close."""
    privileged = caller.has(*MANAGERS)
    with uow:
        e = load(uow, caller, election_id)
        if question_id:
            _nomination_question(e, question_id)
        if not privileged and e.spec.has_nominations and now < e.spec.nominations_close:  # type: ignore[operator]
            raise FailedPrecondition("the list of candidates is published when nominations close",
                                     reason="CANDIDATES_NOT_PUBLISHED")
        return [r for r in uow.elections.candidacies(e.election_id, question_id)
                if privileged or not r.withdrawn]
