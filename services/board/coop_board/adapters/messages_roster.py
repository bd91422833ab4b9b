"""coop.board.v1 roster messages <-> the roster's domain values."""

from __future__ import annotations

from coop.board.v1 import events_pb2
from coop.board.v1 import roster_pb2 as pb
from coop_board.adapters.events_out_roster import END_REASONS
from coop_board.domain.officers import ManagementAppointment, OfficerTerm
from coop_board.domain.roster import EARLY_END_REASONS, CompositionCheck, Mandate, RosterDay
from coop_domain.errors import InvalidArgument
from coop_platform.pbtypes import to_date

CATEGORY = {"user": pb.DIRECTOR_CATEGORY_USER, "permanent_staff": pb.DIRECTOR_CATEGORY_PERMANENT_STAFF,
            "external_partner": pb.DIRECTOR_CATEGORY_EXTERNAL_PARTNER}
OFFICE = {"chair": pb.OFFICE_CHAIR, "vice_chair": pb.OFFICE_VICE_CHAIR, "secretary": pb.OFFICE_SECRETARY}
OFFICE_NAME = {v: k for k, v in OFFICE.items()}
FLAG = {"NOT_IN_GOOD_STANDING": pb.DIRECTOR_FLAG_NOT_IN_GOOD_STANDING,
        "STANDING_UNKNOWN": pb.DIRECTOR_FLAG_STANDING_UNKNOWN,
        "CATEGORY_UNKNOWN": pb.DIRECTOR_FLAG_CATEGORY_UNKNOWN}
END_REASON_NAME = {v: k for k, v in END_REASONS.items()}


def office_name(value: int) -> str:
    if value not in OFFICE_NAME:
        raise InvalidArgument("office is CHAIR, VICE_CHAIR or SECRETARY", field="office", reason="UNKNOWN_OFFICE")
    return OFFICE_NAME[value]


def end_reason_name(value: int) -> str:
    name = END_REASON_NAME.get(value, "")
    if name not in EARLY_END_REASONS:
        raise InvalidArgument("a mandate ends early for RESIGNATION, DEATH or EXCLUSION", field="reason",
                              reason="INVALID_END_REASON")
    return name


def mandate_to_pb(m: Mandate, public: bool = False) -> pb.Mandate:
    reason = END_REASONS.get(m.end_reason or "", 0)
    if public and m.end_reason in EARLY_END_REASONS:
        reason = events_pb2.MANDATE_END_REASON_UNSPECIFIED  # why a director left is the board's to read
    return pb.Mandate(mandate_id=m.mandate_id, director_id=m.director_id, seat_id=m.seat_id,
                      start_date=to_date(m.start), end_date=to_date(m.end), election_id=m.election_id or "",
                      ended_on=to_date(m.ended_on), end_reason=reason)


def composition_to_pb(c: CompositionCheck) -> pb.CompositionCheck:
    return pb.CompositionCheck(
        ok=c.ok, violations=[pb.CompositionViolation(rule=r, description=d) for r, d in c.violations],
        sitting=c.sitting, users=c.users, permanent_staff=c.permanent_staff,
        external_partners=c.external_partners, unknown_category=c.unknown_category)


def term_to_pb(t: OfficerTerm) -> pb.OfficerTerm:
    return pb.OfficerTerm(term_id=t.term_id, office=OFFICE[t.office], director_id=t.director_id,
                          start_date=to_date(t.start), end_date=to_date(t.end), decision_id=t.decision_id)


def appointment_to_pb(a: ManagementAppointment) -> pb.ManagementAppointment:
    return pb.ManagementAppointment(appointment_id=a.appointment_id, manager_id=a.manager_id, title=a.title,
                                    start_date=to_date(a.start), end_date=to_date(a.end),
                                    decision_id=a.decision_id)


def roster_to_pb(roster: RosterDay, officers: tuple[OfficerTerm, ...], public: bool,
                 seats: int) -> pb.GetRosterResponse:
    return pb.GetRosterResponse(
        on_date=to_date(roster.day),
        directors=[pb.SittingDirector(
            director_id=line.director.director_id, mandate=mandate_to_pb(line.mandate, public),
            category=CATEGORY.get(line.director.category or "", 0),
            flags=[] if public else [FLAG[f] for f in line.flags]) for line in roster.sitting],
        officers=[term_to_pb(t) for t in officers],
        vacancies=[pb.Vacancy(seat_id=v.seat_id, since=to_date(v.since)) for v in roster.vacancies],
        composition=composition_to_pb(roster.composition), seats=seats)
