"""Property: whatever the sequence of elections, loaded mandates, early ends, completed terms,
redelivered results, membership facts and officer elections, the roster on any day agrees with
the mandates, and with an independent model kept here: no two mandates on one seat overlap,
sitting_on(D) is exactly the mandates covering D, the vacancies are the other seats, the
composition flags are the rule applied to the model's categories, and each office has at most
one holder, a sitting director whose term covers D. 200 runs of up to 75 steps (about 14,000
steps in all: Hypothesis ends some runs early), the invariants checked after each step."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from roster_helpers import decide, roster_uow, who

from coop_board.domain.links import ELECT_OFFICER
from coop_board.domain.roster import (
    CompositionRule,
    ElectedGroup,
    ElectionResults,
    RosterSettings,
    seat_ids,
)
from coop_board.service_layer import officers, roster
from coop_domain.errors import FailedPrecondition, InvalidArgument
from coop_domain.principal import system_principal

BASE = date(2027, 1, 1)
SEATS = seat_ids(6)
RULE = CompositionRule(True, 1, 1)
SETTINGS = RosterSettings(SEATS, RULE)
DIRECTORS = [f"d{n}" for n in range(12)]
CATEGORIES = ["user", "permanent_staff", "external_partner", None]
PROBES = [BASE + timedelta(days=d) for d in range(0, 3000, 97)]
ADMIN = who("admin")
SYSTEM = system_principal("board")


def day(n: int) -> date:
    return BASE + timedelta(days=n)


class RosterMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.uow = roster_uow()
        # the model: mandate id -> [director, seat, start, first day no longer covered, ended?, election]
        self.model: dict[str, list] = {}
        self.categories: dict[str, str | None] = {}
        self.elections: dict[str, tuple[str, ...]] = {}
        # officer terms: [office, director, start, first day no longer covered or None]
        self.terms: list[list] = []
        decide(self.uow, "dec", ELECT_OFFICER)

    # -- the model's own rules, written independently of the domain
    def _overlap(self, a0: date, a1: date, b0: date, b1: date) -> bool:
        return a0 < b1 and b0 < a1

    def _refused(self, director: str, seat: str, start: date, end: date) -> bool:
        return any((m[1] == seat or m[0] == director) and self._overlap(start, end, m[2], m[3])
                   for m in self.model.values())

    def _record(self, mandate) -> None:
        self.model[mandate.mandate_id] = [mandate.director_id, mandate.seat_id, mandate.start, mandate.end,
                                          False, mandate.election_id]

    # -- commands
    @rule(director=st.sampled_from(DIRECTORS), seat=st.sampled_from(SEATS), start=st.integers(0, 2800),
          years=st.integers(1, 4))
    def admin_loads_a_mandate(self, director: str, seat: str, start: int, years: int) -> None:
        s, e = day(start), day(start + 365 * years)
        expected_refusal = self._refused(director, seat, s, e)
        try:
            mandate, _ = roster.create_mandate(self.uow, ADMIN, SETTINGS, director_id=director, seat_id=seat,
                                               start=s, end=e)
        except FailedPrecondition as exc:
            assert expected_refusal, exc
            assert exc.reason in ("OVERLAPPING_MANDATE_ON_SEAT", "DIRECTOR_ALREADY_SITTING")
            return
        assert not expected_refusal
        self._record(mandate)

    @rule(members=st.lists(st.sampled_from(DIRECTORS), min_size=1, max_size=4, unique=True),
          start=st.integers(0, 2800), number=st.integers(0, 5))
    def an_election_publishes_results(self, members: list[str], start: int, number: int) -> None:
        election_id = f"e{number}"
        s, e = day(start), day(start + 4 * 365)
        if election_id in self.elections:  # a second copy (another event id): nothing new
            s, e = self.elections[election_id][1:]
            members = list(self.elections[election_id][0])
        results = ElectionResults(election_id, "coop", (ElectedGroup("board", tuple(members), s, e),))
        before = set(self.model)
        try:
            with self.uow:
                made = roster.mandates_from_election(self.uow, SYSTEM, results, SETTINGS)
                self.uow.commit()
        except FailedPrecondition as exc:
            assert exc.reason in ("NO_VACANT_SEAT", "DIRECTOR_ALREADY_SITTING")
            assert set(m.mandate_id for m in self.uow.roster.mandates("coop")) == before  # nothing half-written
            return
        already = {m[0] for m in self.model.values() if m[5] == election_id}
        assert {m.director_id for m in made} == set(members) - already
        if set(members) - already:  # the Assembly completes the terms ending within the slack after it
            for m in self.model.values():
                if not m[4] and m[2] < s < m[3] and (m[3] - s).days <= SETTINGS.assembly_slack_days:
                    m[3], m[4] = s, True
        for m in made:
            assert not self._refused(m.director_id, m.seat_id, m.start, m.end)
            self._record(m)
        self.elections.setdefault(election_id, (tuple(members), s, e))

    @rule(pick=st.integers(0, 10_000), offset=st.integers(-30, 1500),
          reason=st.sampled_from(["resignation", "death", "exclusion", "term_completed"]))
    def a_mandate_ends_early(self, pick: int, offset: int, reason: str) -> None:
        if not self.model:
            return
        mid = sorted(self.model)[pick % len(self.model)]
        director, seat, start, end, ended, _ = self.model[mid]
        on = start + timedelta(days=offset)
        valid = not ended and reason != "term_completed" and start <= on < end
        try:
            roster.end_mandate(self.uow, ADMIN, mid, on, reason)
        except (FailedPrecondition, InvalidArgument):
            assert not valid
            return
        assert valid
        self.model[mid][3], self.model[mid][4] = on, True

    @rule(today=st.integers(0, 3000))
    def the_timer_completes_terms(self, today: int) -> None:
        roster.complete_terms(self.uow, day(today))
        for m in self.model.values():
            if not m[4] and m[3] <= day(today):
                m[4] = True  # recorded; the days covered do not change

    @rule(director=st.sampled_from(DIRECTORS), category=st.sampled_from(CATEGORIES))
    def membership_says_a_category(self, director: str, category: str | None) -> None:
        if category is None:
            self.uow.members.rows.pop(director, None)
        else:
            self.uow.members.set(director, category)
        self.categories[director] = category

    @rule(office=st.sampled_from(["chair", "vice_chair", "secretary"]), director=st.sampled_from(DIRECTORS),
          start=st.integers(0, 2800))
    def the_board_elects_an_officer(self, office: str, director: str, start: int) -> None:
        s = day(start)
        sitting = any(m[0] == director and m[2] <= s < m[3] for m in self.model.values())
        other_office = any(t[1] == director and t[0] != office and t[2] <= s and (t[3] is None or s < t[3])
                           for t in self.terms)
        overlap = any(t[0] == office and t[2] >= s for t in self.terms)
        valid = sitting and not other_office and not overlap
        try:
            officers.elect_officer(self.uow, ADMIN, office=office, director_id=director, start=s, end=None,
                                   decision_id="dec", today=s)
        except FailedPrecondition as exc:
            assert not valid, exc
            return
        assert valid
        for t in self.terms:
            if t[0] == office and (t[3] is None or t[3] > s):
                t[3] = s
        self.terms.append([office, director, s, None])

    # -- the invariants, after every step
    @invariant()
    def roster_agrees_with_the_mandates_on_every_probed_day(self) -> None:
        if not hasattr(self, "uow"):
            return
        stored = self.uow.roster.mandates("coop")
        for i, a in enumerate(stored):
            for b in stored[i + 1:]:
                if a.seat_id == b.seat_id:
                    assert not self._overlap(a.start, a.last_covered_before, b.start, b.last_covered_before)
        assert {m.mandate_id for m in stored} == set(self.model)
        for probe in PROBES:
            covering = {mid for mid, m in self.model.items() if m[2] <= probe < m[3]}
            assert {d.mandate_id for d in self.uow.roster.sitting_on("coop", probe)} == covering
            view = roster.get_roster(self.uow, ADMIN, probe, SETTINGS, today=probe).roster
            held = {self.model[mid][1] for mid in covering}
            assert [v.seat_id for v in view.vacancies] == [s for s in SEATS if s not in held]
            cats = [self.categories.get(self.model[mid][0]) for mid in covering]
            users = cats.count("user")
            expected = []
            if cats and not users * 2 > len(cats):
                expected.append("USERS_NOT_MAJORITY")
            if cats.count("permanent_staff") > 1:
                expected.append("TOO_MANY_PERMANENT_STAFF")
            if cats.count("external_partner") > 1:
                expected.append("TOO_MANY_EXTERNAL_PARTNERS")
            assert list(view.composition.rules_broken) == expected
            assert view.composition.ok == (not expected)
            sitting = {self.model[mid][0] for mid in covering}
            for office in ("chair", "vice_chair", "secretary"):
                holders = [t[1] for t in self.terms if t[0] == office and t[2] <= probe
                           and (t[3] is None or probe < t[3]) and t[1] in sitting]
                assert len(holders) <= 1
                assert self.uow.roster.officer_on("coop", office, probe) == (holders[0] if holders else None)
            assert sorted((t.office, t.director_id) for t in roster.get_roster(
                self.uow, ADMIN, probe, SETTINGS, today=probe).officers) == sorted(
                (o, h) for o in ("chair", "vice_chair", "secretary") for h in
                [t[1] for t in self.terms if t[0] == o and t[2] <= probe and (t[3] is None or probe < t[3])
                 and t[1] in sitting])


RosterMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=75, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow])
TestRosterAgreesWithItsMandates = RosterMachine.TestCase
