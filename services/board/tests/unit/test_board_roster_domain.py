"""The roster's pure domain: mandates cover [start, end), overlaps refused, seats assigned,
vacancies shown, the composition rule parsed and applied, officer terms succeeded."""

from __future__ import annotations

from datetime import date

import pytest

from coop_board.domain.links import MemberStanding
from coop_board.domain.officers import OfficerTerm, succeed
from coop_board.domain.roster import (
    CompositionRule,
    Mandate,
    check_new_mandate,
    closed_by_assembly,
    free_seat,
    roster_on,
    seat_ids,
)
from coop_domain.errors import FailedPrecondition, InvalidArgument

SEATS = seat_ids(4)
A27, A31 = date(2027, 5, 15), date(2031, 5, 15)


def mandate(mid: str, director: str, seat: str, start: date = A27, end: date = A31, **kw) -> Mandate:
    return Mandate(mid, "coop", director, seat, start, end, **kw)


def test_a_mandate_covers_its_start_day_and_not_its_end_day_on_which_the_successor_sits() -> None:
    m = mandate("m1", "d1", "seat-01")
    assert not m.covers(date(2027, 5, 14)) and m.covers(A27) and m.covers(date(2031, 5, 14))
    assert not m.covers(A31)
    check_new_mandate("d2", "seat-01", A31, date(2035, 5, 15), SEATS, [m])  # the successor: no overlap


def test_an_early_end_stops_the_mandate_that_day_and_records_why() -> None:
    m = mandate("m1", "d1", "seat-01").end_early(date(2028, 1, 10), "resignation")
    assert m.covers(date(2028, 1, 9)) and not m.covers(date(2028, 1, 10))
    assert (m.ended_on, m.end_reason) == (date(2028, 1, 10), "resignation")
    with pytest.raises(FailedPrecondition) as ended:
        m.end_early(date(2028, 2, 1), "death")
    assert ended.value.reason == "MANDATE_ALREADY_ENDED"


@pytest.mark.parametrize(("on", "why", "reason"), [
    (date(2027, 5, 14), "resignation", "ENDED_OUTSIDE_TERM"),
    (A31, "resignation", "ENDED_OUTSIDE_TERM"),
    (date(2028, 1, 1), "term_completed", "INVALID_END_REASON"),
    (date(2028, 1, 1), "boredom", "INVALID_END_REASON"),
])
def test_an_early_end_outside_the_term_or_without_a_known_reason_is_refused(on, why, reason) -> None:
    with pytest.raises(InvalidArgument) as refused:
        mandate("m1", "d1", "seat-01").end_early(on, why)
    assert refused.value.reason == reason


def test_overlapping_mandates_on_one_seat_are_refused_naming_the_seat_field_and_rule() -> None:
    held = [mandate("m1", "d1", "seat-01")]
    with pytest.raises(FailedPrecondition) as refused:
        check_new_mandate("d2", "seat-01", date(2030, 5, 15), date(2034, 5, 15), SEATS, held)
    assert (refused.value.field, refused.value.reason) == ("seat_id", "OVERLAPPING_MANDATE_ON_SEAT")
    with pytest.raises(FailedPrecondition) as twice:
        check_new_mandate("d1", "seat-02", date(2030, 5, 15), date(2034, 5, 15), SEATS, held)
    assert twice.value.reason == "DIRECTOR_ALREADY_SITTING"


@pytest.mark.parametrize(("director", "seat", "start", "end", "field", "reason"), [
    ("", "seat-01", A27, A31, "director_id", "DIRECTOR_REQUIRED"),
    ("d1", "seat-99", A27, A31, "seat_id", "UNKNOWN_SEAT"),
    ("d1", "seat-01", A31, A27, "end_date", "END_BEFORE_START"),
])
def test_malformed_mandates_are_refused_naming_the_field(director, seat, start, end, field, reason) -> None:
    with pytest.raises(InvalidArgument) as refused:
        check_new_mandate(director, seat, start, end, SEATS, [])
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_a_seat_freed_early_is_the_first_an_election_fills_and_a_full_board_has_none() -> None:
    held = [mandate(f"m{i}", f"d{i}", s) for i, s in enumerate(SEATS)]
    with pytest.raises(FailedPrecondition) as full:
        free_seat(SEATS, date(2028, 5, 15), date(2032, 5, 15), held)
    assert full.value.reason == "NO_VACANT_SEAT"
    held[2] = held[2].end_early(date(2028, 1, 1), "death")
    assert free_seat(SEATS, date(2028, 5, 15), date(2032, 5, 15), held) == "seat-03"


def test_partial_renewal_keeps_cohorts_overlapping_and_a_vacancy_shows_until_filled() -> None:
    cohort_a = [mandate(f"a{i}", f"da{i}", s) for i, s in enumerate(SEATS[:2])]
    cohort_b = [mandate(f"b{i}", f"db{i}", s, date(2029, 5, 15), date(2033, 5, 15))
                for i, s in enumerate(SEATS[2:])]
    left = cohort_a[1].end_early(date(2028, 3, 1), "resignation")
    board = [cohort_a[0], left, *cohort_b]
    standings = {f"d{x}": MemberStanding(f"d{x}", "active", "user", True) for x in ("a0", "a1", "b0", "b1")}
    rule = CompositionRule()
    before = roster_on(date(2028, 1, 1), board, standings, SEATS, rule)
    assert [line.mandate.mandate_id for line in before.sitting] == ["a0", "a1"]
    assert [(v.seat_id, v.since) for v in before.vacancies] == [("seat-03", None), ("seat-04", None)]
    both = roster_on(date(2030, 1, 1), board, standings, SEATS, rule)
    assert [line.mandate.mandate_id for line in both.sitting] == ["a0", "b0", "b1"]
    assert [(v.seat_id, v.since) for v in both.vacancies] == [("seat-02", date(2028, 3, 1))]


def test_the_composition_rule_parses_its_setting_and_refuses_nonsense() -> None:
    assert CompositionRule.parse("") == CompositionRule()
    rule = CompositionRule.parse("users_majority=no; max_permanent_staff=2, max_external_partners=none")
    assert rule == CompositionRule(False, 2, None)
    for bad in ("users_majority=maybe", "max_permanent_staff=-1", "quorum=3", "max_external_partners"):
        with pytest.raises(ValueError, match="COOP_BOARD_COMPOSITION"):
            CompositionRule.parse(bad)


def test_the_composition_rule_flags_a_board_without_a_user_majority_or_over_a_cap() -> None:
    rule = CompositionRule(True, 1, 1)
    assert rule.check(["user", "user", "permanent_staff"]).ok
    half = rule.check(["user", "permanent_staff"])
    assert half.rules_broken == ("USERS_NOT_MAJORITY",)
    over = rule.check(["user"] * 5 + ["permanent_staff"] * 2 + ["external_partner"] * 2)
    assert over.rules_broken == ("TOO_MANY_PERMANENT_STAFF", "TOO_MANY_EXTERNAL_PARTNERS")
    unknown = rule.check(["user", None, None])
    assert unknown.rules_broken == ("USERS_NOT_MAJORITY",) and unknown.unknown_category == 2
    assert rule.check([]).ok


def test_a_director_no_longer_in_good_standing_is_flagged_not_dropped() -> None:
    board = [mandate("m1", "d1", "seat-01"), mandate("m2", "d2", "seat-02")]
    standings = {"d1": MemberStanding("d1", "suspended", "user", False)}
    day = roster_on(date(2028, 1, 1), board, standings, SEATS, CompositionRule())
    assert [(line.director.director_id, line.flags) for line in day.sitting] == [
        ("d1", ("NOT_IN_GOOD_STANDING",)), ("d2", ("STANDING_UNKNOWN", "CATEGORY_UNKNOWN"))]


def test_a_new_officer_ends_the_running_term_and_an_earlier_start_is_an_overlap() -> None:
    chair = OfficerTerm("t1", "coop", "chair", "d1", date(2027, 6, 1), None, "dec1")
    assert succeed([chair], date(2028, 6, 1)) == [chair.cut_at(date(2028, 6, 1))]
    with pytest.raises(FailedPrecondition) as refused:
        succeed([chair], date(2027, 6, 1))
    assert refused.value.reason == "OFFICE_TERM_OVERLAP"


def test_an_assembly_a_few_days_before_a_terms_end_date_completes_that_term_on_its_day() -> None:
    old = mandate("m1", "d1", "seat-01")                                  # ends 2031-05-15
    later = mandate("m2", "d2", "seat-02", date(2028, 5, 20), date(2032, 5, 20))
    assert closed_by_assembly([old, later], date(2031, 5, 10), 31) == [old]
    assert closed_by_assembly([old], date(2031, 5, 10), 0) == []
    assert closed_by_assembly([old], A31, 31) == []                       # on its end date: nothing to cut
    assert old.complete_term(date(2031, 5, 10)).last_covered_before == date(2031, 5, 10)
