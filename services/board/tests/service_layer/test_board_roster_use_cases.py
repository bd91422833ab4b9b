"""The roster's use cases on the in-memory fakes: mandates from elections once, loaded by an
admin, ended early or at term with their events, officers and management from adopted
decisions, the members projection, and who may do what."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from roster_helpers import decide, roster_uow, who

from coop_board.domain.links import APPOINT_MANAGEMENT, ELECT_OFFICER
from coop_board.domain.roster import ElectedGroup, ElectionResults, RosterSettings, seat_ids
from coop_board.domain.roster_events import MandateEnded, MandateStarted
from coop_board.service_layer import officers, roster
from coop_board.service_layer.roster_handlers import apply_member_fact
from coop_domain.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from coop_domain.membership import MemberChanged, MemberErased
from coop_domain.principal import system_principal

SETTINGS = RosterSettings(seat_ids(10))
A27, A31 = date(2027, 5, 15), date(2031, 5, 15)
SYSTEM = system_principal("board")
ADMIN = who("admin")


def results(election_id: str, members: tuple[str, ...], start: date = A27, end: date = A31,
            tenant: str = "coop") -> ElectionResults:
    return ElectionResults(election_id, tenant, (ElectedGroup("board", members, start, end),))


def elect(uow, election_id: str, members: tuple[str, ...], **kw):
    with uow:
        made = roster.mandates_from_election(uow, SYSTEM, results(election_id, members, **kw), SETTINGS)
        uow.commit()
    return made


def test_an_election_creates_one_mandate_per_elected_member_on_free_seats_and_announces_them() -> None:
    uow = roster_uow()
    made = elect(uow, "e27", ("a", "b", "c", "d", "e"))
    assert [(m.director_id, m.seat_id) for m in made] == [("a", "seat-01"), ("b", "seat-02"), ("c", "seat-03"),
                                                          ("d", "seat-04"), ("e", "seat-05")]
    assert [type(e) for e in uow.published] == [MandateStarted] * 5
    assert [d.director_id for d in uow.roster.sitting_on("coop", A27)] == ["a", "b", "c", "d", "e"]
    assert uow.roster.sitting_on("coop", date(2027, 5, 14)) == []


def test_a_second_copy_of_the_results_creates_nothing() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b"))
    assert elect(uow, "e27", ("a", "b")) == []
    assert len(uow.roster.mandates("coop")) == 2 and len(uow.published) == 2


def test_another_tenants_election_elects_no_board_here() -> None:
    uow = roster_uow()
    with uow:
        assert roster.mandates_from_election(uow, system_principal("board", "partner"),
                                             results("p1", ("x",), tenant="partner"), SETTINGS) == []
    assert uow.roster.mandates("partner") == []


def test_only_the_system_creates_mandates_from_an_election() -> None:
    with pytest.raises(PermissionDenied):
        roster.mandates_from_election(roster_uow(), ADMIN, results("e", ("a",)), SETTINGS)


def test_the_next_years_cohort_sits_with_this_one_and_takes_other_seats() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b"))
    elect(uow, "e28", ("c", "d"), start=date(2028, 5, 20), end=date(2032, 5, 20))
    view = roster.get_roster(uow, who("director", "a"), date(2029, 1, 1), SETTINGS, today=date(2029, 1, 1))
    assert [(line.director.director_id, line.director.seat_id) for line in view.roster.sitting] == [
        ("a", "seat-01"), ("b", "seat-02"), ("c", "seat-03"), ("d", "seat-04")]
    assert len(view.roster.vacancies) == 6


def test_an_admin_loads_the_existing_board_and_an_overlap_on_a_seat_is_refused_with_nothing_written() -> None:
    uow = roster_uow()
    uow.members.set("old1", "user")
    m, check = roster.create_mandate(uow, ADMIN, SETTINGS, director_id="old1", seat_id="seat-07",
                                     start=date(2025, 5, 17), end=date(2029, 5, 19))
    assert m.seat_id == "seat-07" and m.election_id is None
    assert check.ok
    with pytest.raises(FailedPrecondition) as refused:
        roster.create_mandate(uow, ADMIN, SETTINGS, director_id="old2", seat_id="seat-07",
                              start=date(2026, 5, 16), end=date(2030, 5, 15))
    assert (refused.value.field, refused.value.reason) == ("seat_id", "OVERLAPPING_MANDATE_ON_SEAT")
    assert len(uow.roster.mandates("coop")) == 1 and len(uow.published) == 1


def test_a_mandate_breaking_the_composition_is_accepted_and_flagged_in_the_answer_and_the_roster() -> None:
    uow = roster_uow()
    uow.members.set("s1", "permanent_staff")
    _, check = roster.create_mandate(uow, ADMIN, SETTINGS, director_id="s1", seat_id=None, start=A27, end=A31)
    assert check.rules_broken == ("USERS_NOT_MAJORITY",)
    assert not roster.get_roster(uow, ADMIN, A27, SETTINGS, today=A27).roster.composition.ok


@pytest.mark.parametrize("role", ["director", "secretary", "management", "member"])
def test_only_an_admin_loads_or_ends_mandates(role) -> None:
    uow = roster_uow()
    with pytest.raises(PermissionDenied):
        roster.create_mandate(uow, who(role), SETTINGS, director_id="x", seat_id=None, start=A27, end=A31)
    with pytest.raises(PermissionDenied):
        roster.end_mandate(uow, who(role), "m", date(2028, 1, 1), "resignation")


def test_required_dates_are_named_when_missing() -> None:
    with pytest.raises(InvalidArgument) as no_start:
        roster.create_mandate(roster_uow(), ADMIN, SETTINGS, director_id="x", seat_id=None, start=None, end=A31)
    assert no_start.value.field == "start_date"
    with pytest.raises(InvalidArgument) as no_day:
        roster.end_mandate(roster_uow(), ADMIN, "m", None, "death")
    assert no_day.value.field == "ended_on"


def test_a_resignation_ends_the_mandate_leaves_a_vacancy_and_is_announced() -> None:
    uow = roster_uow()
    (a,) = elect(uow, "e27", ("a",))
    ended = roster.end_mandate(uow, ADMIN, a.mandate_id, date(2028, 2, 1), "resignation")
    assert ended.end_reason == "resignation" and isinstance(uow.published[-1], MandateEnded)
    view = roster.get_roster(uow, ADMIN, date(2028, 2, 1), SETTINGS, today=date(2028, 2, 1))
    assert view.roster.sitting == () and view.roster.vacancies[0].since == date(2028, 2, 1)
    earlier = roster.get_roster(uow, ADMIN, date(2028, 1, 31), SETTINGS, today=date(2028, 2, 1)).roster
    assert earlier.sitting[0].director.director_id == "a"
    with pytest.raises(NotFound):
        roster.end_mandate(uow, who("admin", tenant="other"), a.mandate_id, date(2028, 3, 1), "death")


def test_the_timer_records_completed_terms_once_without_changing_who_sat() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b"))
    before = uow.roster.sitting_on("coop", date(2031, 5, 14))
    assert roster.complete_terms(uow, date(2031, 5, 14)) == 0
    assert roster.complete_terms(uow, A31) == 2
    assert roster.complete_terms(uow, A31) == 0
    assert [e.mandate.end_reason for e in uow.published if isinstance(e, MandateEnded)] == ["term_completed"] * 2
    assert uow.roster.sitting_on("coop", date(2031, 5, 14)) == before


def test_members_read_the_public_roster_and_anyone_else_is_refused() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a",))
    assert roster.get_roster(uow, who("member"), A27, SETTINGS, today=A27).public
    assert not roster.get_roster(uow, who("management"), A27, SETTINGS, today=A27).public
    with pytest.raises(PermissionDenied):
        roster.get_roster(uow, who("observer"), A27, SETTINGS, today=A27)
    assert roster.get_roster(uow, who("admin", tenant="other"), A27, SETTINGS, today=A27).roster.sitting == ()


def test_a_director_or_secretary_token_reads_the_flags_only_while_its_subject_sits() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a",))
    for role in ("director", "secretary"):
        assert not roster.get_roster(uow, who(role, "a"), A27, SETTINGS, today=A27).public
        assert roster.get_roster(uow, who(role, "a"), A27, SETTINGS, today=A31).public  # a former director
        assert roster.get_roster(uow, who(role, "zed"), A27, SETTINGS, today=A27).public
        assert roster.list_mandates(uow, who(role, "zed"), 0, "", today=A27)[2]


def test_mandates_list_in_pages_with_filters() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b", "c"))
    elect(uow, "e28", ("d",), start=date(2028, 5, 20), end=date(2032, 5, 20))
    first, token, _ = roster.list_mandates(uow, ADMIN, 2, "", today=A27)
    second, last, _ = roster.list_mandates(uow, ADMIN, 2, token, today=A27)
    assert len(first) == 2 and len(second) == 2 and last == ""
    assert {m.director_id for m in first + second} == {"a", "b", "c", "d"}
    only, _, _ = roster.list_mandates(uow, ADMIN, 0, "", today=A27, covering=date(2027, 6, 1))
    assert {m.director_id for m in only} == {"a", "b", "c"}
    assert [m.director_id for m in roster.list_mandates(uow, ADMIN, 0, "", today=A27,
                                                        director_id="d")[0]] == ["d"]


def test_officers_are_elected_among_sitting_directors_from_an_adopted_decision() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b", "c"))
    decide(uow, "dec-chair", ELECT_OFFICER)
    term = officers.elect_officer(uow, ADMIN, office="chair", director_id="a", start=date(2027, 6, 1), end=None,
                                  decision_id="dec-chair", today=date(2027, 6, 1))
    assert uow.roster.officer_on("coop", "chair", date(2027, 6, 2)) == "a" and term.decision_id == "dec-chair"
    assert uow.roster.officer_on("coop", "chair", A31) is None  # the mandate ended: so did the office
    decide(uow, "dec-sec", ELECT_OFFICER)
    officers.elect_officer(uow, ADMIN, office="secretary", director_id="b", start=date(2027, 6, 1), end=None,
                           decision_id="dec-sec", today=date(2027, 6, 1))
    # the sitting secretary records the next chair; the former chair's term ends that day
    decide(uow, "dec-chair-2", ELECT_OFFICER)
    officers.elect_officer(uow, who("secretary", "b"), office="chair", director_id="c", start=date(2028, 6, 1),
                           end=None, decision_id="dec-chair-2", today=date(2028, 6, 1))
    assert uow.roster.officer_on("coop", "chair", date(2028, 5, 31)) == "a"
    assert uow.roster.officer_on("coop", "chair", date(2028, 6, 1)) == "c"
    terms, _ = officers.list_officers(uow, who("member"), date(2028, 6, 1), 0, "")
    assert sorted((t.office, t.director_id) for t in terms) == [("chair", "c"), ("secretary", "b")]


@pytest.mark.parametrize(("case", "error", "reason"), [
    ("missing", NotFound, "DECISION_NOT_FOUND"),
    ("rejected", FailedPrecondition, "DECISION_NOT_ADOPTED"),
    ("other_kind", FailedPrecondition, "DECISION_KIND_MISMATCH"),
    ("not_sitting", FailedPrecondition, "NOT_A_SITTING_DIRECTOR"),
    ("two_offices", FailedPrecondition, "DIRECTOR_HOLDS_ANOTHER_OFFICE"),
    ("other_tenant", NotFound, "DECISION_NOT_FOUND"),
])
def test_an_officer_without_an_adopted_decision_or_among_non_directors_is_refused(case, error, reason) -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a", "b"))
    decide(uow, "ok", ELECT_OFFICER)
    decide(uow, "rejected", ELECT_OFFICER, adopted=False)
    decide(uow, "other_kind", APPOINT_MANAGEMENT)
    decide(uow, "other_tenant", ELECT_OFFICER, tenant="other")
    officers.elect_officer(uow, ADMIN, office="chair", director_id="b", start=date(2027, 6, 1), end=None,
                           decision_id="ok", today=date(2027, 6, 1))
    director, decision, office = "a", "ok", "vice_chair"
    if case in ("missing", "rejected", "other_kind", "other_tenant"):
        decision = case
    elif case == "not_sitting":
        director = "zed"
    elif case == "two_offices":
        director = "b"
    with pytest.raises(error) as refused:
        officers.elect_officer(uow, ADMIN, office=office, director_id=director, start=date(2027, 7, 1), end=None,
                               decision_id=decision, today=date(2027, 7, 1))
    assert refused.value.reason == reason
    assert len(uow.roster.officer_terms("coop")) == 1


def test_a_secretary_who_does_not_hold_the_office_and_other_roles_may_not_record_officers() -> None:
    uow = roster_uow()
    elect(uow, "e27", ("a",))
    decide(uow, "ok", ELECT_OFFICER)
    with pytest.raises(PermissionDenied) as not_theirs:
        officers.elect_officer(uow, who("secretary", "a"), office="chair", director_id="a",
                               start=date(2027, 6, 1), end=None, decision_id="ok", today=date(2027, 6, 1))
    assert not_theirs.value.reason == "NOT_THE_SECRETARY"
    for role in ("director", "management", "member"):
        with pytest.raises(PermissionDenied):
            officers.elect_officer(uow, who(role), office="chair", director_id="a", start=date(2027, 6, 1),
                                   end=None, decision_id="ok", today=date(2027, 6, 1))


def test_management_is_appointed_from_an_adopted_decision_with_a_term() -> None:
    uow = roster_uow()
    decide(uow, "dec-md", APPOINT_MANAGEMENT)
    a = officers.appoint_management(uow, ADMIN, manager_id="mgr-1", title="", start=date(2027, 9, 1),
                                    end=date(2031, 9, 1), decision_id="dec-md")
    assert a.title == "managing director"
    assert [x.manager_id for x in officers.list_management(uow, who("director"), date(2030, 1, 1), 0, "")[0]] == [
        "mgr-1"]
    assert officers.list_management(uow, who("director"), date(2031, 9, 1), 0, "")[0] == []
    decide(uow, "dec-chair", ELECT_OFFICER)
    with pytest.raises(FailedPrecondition):
        officers.appoint_management(uow, ADMIN, manager_id="mgr-2", title="", start=date(2027, 9, 1), end=None,
                                    decision_id="dec-chair")
    with pytest.raises(InvalidArgument) as no_id:
        officers.appoint_management(uow, ADMIN, manager_id=" ", title="", start=date(2027, 9, 1), end=None,
                                    decision_id="dec-md")
    assert no_id.value.field == "manager_id"


def test_membership_facts_make_the_projection_newest_event_wins_and_erasure_sticks() -> None:
    uow = roster_uow()
    t = [datetime(2027, 1, d, tzinfo=UTC) for d in range(1, 6)]
    apply_member_fact(uow, MemberChanged("a", t[1], status="active", category="user", in_good_standing=True))
    apply_member_fact(uow, MemberChanged("a", t[0], category="permanent_staff", in_good_standing=False))  # older
    assert uow.members.standing("a").category == "user" and uow.members.standing("a").in_good_standing
    apply_member_fact(uow, MemberChanged("a", t[2], status="suspended", in_good_standing=False))
    assert not uow.members.standing("a").in_good_standing
    apply_member_fact(uow, MemberErased("a", t[3]))
    apply_member_fact(uow, MemberChanged("a", t[4], status="active", in_good_standing=True))
    assert uow.members.standing("a").status == "erased" and not uow.members.standing("a").in_good_standing


def test_the_next_cohorts_assembly_days_before_the_end_date_completes_the_old_terms_that_day() -> None:
    uow = roster_uow()
    settings = RosterSettings(seat_ids(2))
    with uow:
        roster.mandates_from_election(uow, SYSTEM, results("e27", ("a", "b")), settings)
        uow.commit()
    early = date(2031, 5, 10)  # the 2031 Assembly meets five days before the 2027 terms' end date
    with uow:
        made = roster.mandates_from_election(uow, SYSTEM, results("e31", ("c", "d"), start=early,
                                                                  end=date(2035, 5, 10)), settings)
        uow.commit()
    assert [m.seat_id for m in made] == ["seat-01", "seat-02"]
    ended = [e.mandate for e in uow.published if isinstance(e, MandateEnded)]
    assert [(m.director_id, m.ended_on, m.end_reason) for m in ended] == [
        ("a", early, "term_completed"), ("b", early, "term_completed")]
    assert [x.director_id for x in uow.roster.sitting_on("coop", early)] == ["c", "d"]


def test_the_fake_roster_seats_directors_and_officers_for_other_families_tests() -> None:
    uow = roster_uow()
    uow.roster.seat("a", A27, A31)
    uow.roster.seat("b", A27, date(2028, 1, 1))
    uow.roster.appoint("secretary", "b", A27)
    assert [d.director_id for d in uow.roster.sitting_on("coop", date(2028, 1, 1))] == ["a"]
    assert uow.roster.officer_on("coop", "secretary", date(2027, 12, 31)) == "b"
    assert uow.roster.officer_on("coop", "secretary", date(2028, 1, 1)) is None
