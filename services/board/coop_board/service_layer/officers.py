"""Use cases of the board's officers (chair, vice-chair, secretary) and of the delegated
administration: recorded from an adopted board decision (`uow.meetings.decision_summary`)."""

from __future__ import annotations

import uuid
from datetime import date

from coop_board.domain import links, roles
from coop_board.domain.links import DecisionSummary
from coop_board.domain.officers import (
    ManagementAppointment,
    OfficerTerm,
    check_office,
    check_term,
    succeed,
)
from coop_board.service_layer.board_access import require_secretary
from coop_board.service_layer.ports import BoardUnitOfWork
from coop_board.service_layer.roster import require_reader
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound
from coop_domain.paging import decode_page_token, encode_page_token, page_size
from coop_domain.principal import Principal

OFFICERS_LIST = "officers"
MANAGEMENT_LIST = "management"


def _adopted_decision(uow: BoardUnitOfWork, tenant: str, decision_id: str, kind: str) -> DecisionSummary:
    if not decision_id.strip():
        raise InvalidArgument("the board decision's id is required", field="decision_id",
                              reason="DECISION_REQUIRED")
    decision = uow.meetings.decision_summary(tenant, decision_id)
    if decision is None or decision.tenant != tenant:
        raise NotFound("no such decision of the board", field="decision_id", reason="DECISION_NOT_FOUND")
    if not decision.adopted:
        raise FailedPrecondition("the decision was not adopted", field="decision_id", reason="DECISION_NOT_ADOPTED")
    if decision.item_kind != kind:
        raise FailedPrecondition(f"the decision is on an item of kind {decision.item_kind}, not {kind}",
                                 field="decision_id", reason="DECISION_KIND_MISMATCH", expected=kind)
    return decision


def _required(day: date | None, field: str) -> date:
    if day is None:
        raise InvalidArgument(f"{field} is required", field=field, reason="DATE_REQUIRED")
    return day


def elect_officer(uow: BoardUnitOfWork, caller: Principal, *, office: str, director_id: str, start: date | None,
                  end: date | None, decision_id: str, today: date) -> OfficerTerm:
    """The board elected `director_id` to `office` by decision `decision_id`. Recorded by an admin
    or by the sitting secretary; the director must sit on the term's first day and hold no other
    office then. A term still running on that day for the office ends that day."""
    caller.require(roles.ADMIN, roles.SECRETARY)
    check_office(office)
    start = _required(start, "start_date")
    check_term(start, end)
    with uow:
        uow.roster.lock(caller.tenant)
        require_secretary(uow, caller, today)
        _adopted_decision(uow, caller.tenant, decision_id, links.ELECT_OFFICER)
        if director_id not in {d.director_id for d in uow.roster.sitting_on(caller.tenant, start)}:
            raise FailedPrecondition("officers are elected among the directors sitting on the term's first day",
                                     field="director_id", reason="NOT_A_SITTING_DIRECTOR")
        terms = uow.roster.officer_terms(caller.tenant)
        if any(t.director_id == director_id and t.office != office and t.covers(start) for t in terms):
            raise FailedPrecondition("this director holds another office on that day", field="director_id",
                                     reason="DIRECTOR_HOLDS_ANOTHER_OFFICE")
        for cut in succeed([t for t in terms if t.office == office], start):
            uow.roster.save_officer_term(cut)
        term = OfficerTerm(str(uuid.uuid4()), caller.tenant, office, director_id, start, end, decision_id)
        uow.roster.add_officer_term(term)
        uow.commit()
    return term


def appoint_management(uow: BoardUnitOfWork, caller: Principal, *, manager_id: str, title: str,
                       start: date | None, end: date | None, decision_id: str) -> ManagementAppointment:
    """The board appointed a managing director by decision `decision_id` (recorded by an admin)."""
    caller.require(roles.ADMIN)
    if not manager_id.strip():
        raise InvalidArgument("the managing director's id is required", field="manager_id",
                              reason="MANAGER_REQUIRED")
    start = _required(start, "start_date")
    check_term(start, end)
    with uow:
        _adopted_decision(uow, caller.tenant, decision_id, links.APPOINT_MANAGEMENT)
        appointment = ManagementAppointment(str(uuid.uuid4()), caller.tenant, manager_id.strip(),
                                            title.strip() or "managing director", start, end, decision_id)
        uow.roster.add_appointment(appointment)
        uow.commit()
    return appointment


def _page(items: list, kind: str, requested: int, token: str) -> tuple[list, str]:
    size = page_size(requested)
    position = decode_page_token(token, kind, 2)
    ordered = sorted(items, key=lambda x: (x.start.isoformat(), _id(x)))
    if position:
        ordered = [x for x in ordered if (x.start.isoformat(), _id(x)) > (position[0], position[1])]
    page = ordered[:size]
    more = len(ordered) > size
    return page, encode_page_token(kind, page[-1].start.isoformat(), _id(page[-1])) if more else ""


def _id(x: OfficerTerm | ManagementAppointment) -> str:
    return x.term_id if isinstance(x, OfficerTerm) else x.appointment_id


def list_officers(uow: BoardUnitOfWork, caller: Principal, on: date | None, requested: int,
                  token: str) -> tuple[list[OfficerTerm], str]:
    """Officer terms (those covering `on` when given), oldest first. Every reader sees them."""
    require_reader(caller)
    with uow:
        terms = uow.read_only().roster.officer_terms(caller.tenant)
    if on is not None:
        terms = [t for t in terms if t.covers(on)]
    return _page(terms, OFFICERS_LIST, requested, token)


def list_management(uow: BoardUnitOfWork, caller: Principal, on: date | None, requested: int,
                    token: str) -> tuple[list[ManagementAppointment], str]:
    require_reader(caller)
    with uow:
        found = uow.read_only().roster.appointments(caller.tenant)
    if on is not None:
        found = [a for a in found if a.covers(on)]
    return _page(found, MANAGEMENT_LIST, requested, token)
