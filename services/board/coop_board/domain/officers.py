"""Officers (chair, vice-chair, secretary), elected by the board among its sitting directors, and
the delegated administration (managing directors), appointed by a board decision: terms recorded
with the adopted decision's id. Terms cover [start, end); an open-ended term has no end."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from coop_board.domain.links import OFFICES
from coop_domain.errors import FailedPrecondition, InvalidArgument


@dataclass(frozen=True)
class OfficerTerm:
    term_id: str
    tenant: str
    office: str               # one of OFFICES
    director_id: str
    start: date
    end: date | None
    decision_id: str

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def cut_at(self, day: date) -> OfficerTerm:
        return replace(self, end=day)


@dataclass(frozen=True)
class ManagementAppointment:
    appointment_id: str
    tenant: str
    manager_id: str           # pseudonymous id of the managing director
    title: str                # e.g. "managing director"
    start: date
    end: date | None
    decision_id: str

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


def check_office(office: str) -> None:
    if office not in OFFICES:
        raise InvalidArgument(f"office is one of {', '.join(OFFICES)}", field="office", reason="UNKNOWN_OFFICE")


def check_term(start: date, end: date | None) -> None:
    if end is not None and not start < end:
        raise InvalidArgument("a term's end date comes after its start date", field="end_date",
                              reason="END_BEFORE_START")


def succeed(previous: list[OfficerTerm], start: date) -> list[OfficerTerm]:
    """The terms of an office to cut when a new holder starts on `start`: a term still running
    then ends that day. A term starting on or after `start` overlaps: refused."""
    cut = []
    for term in previous:
        if term.start >= start:
            raise FailedPrecondition(f"the office already has a term from {term.start}", field="start_date",
                                     reason="OFFICE_TERM_OVERLAP", term_id=term.term_id)
        if term.covers(start) or (term.end is not None and term.end > start):
            cut.append(term.cut_at(start))
    return cut
