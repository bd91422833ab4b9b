"""A Hypothesis state machine drives random sessions of the board through the use cases (on the
fakes): attendance changes, declarations of interest, votes opened, ballots (own, by proxy,
show of hands), closes and decisions, by the right and the wrong people. After every step:
- no decision without a quorum at its vote (recomputed from the vote's own record);
- recused directors neither counted nor voting;
- a refused command changed nothing;
- one ballot per director and vote; counts equal the ballots.
200 examples x 60 steps = 12,000 steps over as many seeds."""

from __future__ import annotations

import copy

from board_fakes import FakeUnitOfWork
from board_fakes_meetings import FakeDossierHooks, StaticRoster
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from meetings_fixtures import ADMIN, NOW, T, director, frozen_meeting, item

from coop_board.domain.meetings import MeetingRules
from coop_board.service_layer import decisions, sessions
from coop_board.service_layer.decisions import Decide
from coop_board.service_layer.sessions import OpenVote
from coop_domain.errors import DomainError

PEOPLE = [f"p{n}" for n in range(8)]  # p7 is never on the board
STATUSES = ("present", "remote", "excused", "absent")


class BoardSession(RuleBasedStateMachine):
    @initialize(size=st.integers(min_value=2, max_value=7), present=st.integers(min_value=0, max_value=7),
                casting=st.booleans(), proxies=st.booleans())
    def start(self, size, present, casting, proxies) -> None:
        self.uow = FakeUnitOfWork()
        self.board = PEOPLE[:size]
        self.uow.roster = StaticRoster({"coop": self.board}, {("coop", "secretary"): "p0", ("coop", "chair"): "p1"})
        self.hooks = FakeDossierHooks()  # items here have no dossier: the hooks are never reached
        self.rules = MeetingRules(casting_vote=casting, proxies_count_for_quorum=proxies)
        self.mid, items = frozen_meeting(self.uow, [item(text=T), item(text=T, secret=True),
                                                    item("statute_change", text=T)],
                                         present=self.board[:present] or None, rules=self.rules)
        self.items = [it.item_id for it in items]
        self.refusals = 0
        STEPS[0] -= 1  # the invariants' first check follows the set-up, not a step

    @property
    def meeting(self):
        return self.uow.meetings.get("coop", self.mid)

    def _try(self, command) -> None:
        before = copy.deepcopy((self.uow.meetings.meetings, self.uow.meetings.ballots, self.uow.meetings.decisions_))
        try:
            command()
        except DomainError:
            self.refusals += 1
            after = (self.uow.meetings.meetings, self.uow.meetings.ballots, self.uow.meetings.decisions_)
            assert after == before, "a refused command wrote something"

    @rule(who=st.sampled_from(PEOPLE), status=st.sampled_from(STATUSES), holder=st.sampled_from([None, *PEOPLE]))
    def attendance(self, who, status, holder) -> None:
        self._try(lambda: sessions.record_attendance(self.uow, ADMIN, self.mid, [(who, status, holder)], self.rules,
                                                     NOW))

    @rule(who=st.sampled_from(PEOPLE), n=st.integers(0, 2))
    def declare(self, who, n) -> None:
        self._try(lambda: sessions.declare_interest(self.uow, director(who), self.mid, self.items[n], "interest", NOW))

    @rule(n=st.integers(0, 2))
    def open_vote(self, n) -> None:
        self._try(lambda: sessions.open_vote(self.uow, ADMIN, self.mid, OpenVote(self.items[n], "item"), self.rules,
                                             NOW))

    def _open(self):
        return next((v for v in self.meeting.votes if v.status == "open"), None)

    @rule(who=st.sampled_from(PEOPLE), choice=st.sampled_from(["for", "against", "abstain"]),
          giver=st.sampled_from(["", *PEOPLE]))
    def cast(self, who, choice, giver) -> None:
        v = self._open()
        if v is not None:
            self._try(lambda: sessions.cast_vote(self.uow, director(who), self.mid, v.vote_id, choice, giver,
                                                 self.rules, NOW))

    @rule(batch=st.lists(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(["for", "against", "abstain"]),
                                   st.sampled_from(["", *PEOPLE])), max_size=5))
    def ballots_together(self, batch) -> None:
        """The api's group commit: ballots of one batch accepted or refused one by one."""
        v = self._open()
        if v is None:
            return
        before = sum(v.counts.values())
        results = sessions.cast_votes(self.uow, [sessions.Ballot(director(who), self.mid, v.vote_id, choice, giver)
                                                 for who, choice, giver in batch], self.rules)
        accepted = sum(1 for r in results if not isinstance(r, DomainError))
        assert sum(self.meeting.vote(v.vote_id).counts.values()) == before + accepted

    @rule(hands=st.dictionaries(st.sampled_from(PEOPLE), st.sampled_from(["for", "against", "abstain"]), max_size=4))
    def show_of_hands(self, hands) -> None:
        v = self._open()
        if v is not None:
            self._try(lambda: sessions.record_votes(self.uow, ADMIN, self.mid, v.vote_id,
                                                    [(d, c, None) for d, c in hands.items()], {}, self.rules, NOW))

    @rule()
    def close(self) -> None:
        v = self._open()
        if v is not None:
            self._try(lambda: sessions.close_vote(self.uow, ADMIN, self.mid, v.vote_id, self.rules, NOW))

    @rule(n=st.integers(0, 2))
    def decide(self, n) -> None:
        for v in self.meeting.votes:
            if self.items[n] in v.item_ids:
                self._try(lambda v=v: decisions.decide(self.uow, ADMIN, self.mid, Decide(self.items[n], v.vote_id),
                                                       NOW))

    # -- invariants, after every step
    @invariant()
    def no_decision_without_quorum_at_its_vote(self) -> None:
        STEPS[0] += 1
        m = self.meeting
        for d in self.uow.meetings.decisions_.values():
            v = m.vote(d.vote_id)
            assert v.status == "closed" and v.quorum is not None and v.quorum.met
            assert v.quorum.eligible_present >= v.quorum.required > v.quorum.eligible // 2
            assert v.adopted

    @invariant()
    def recused_directors_neither_counted_nor_voting(self) -> None:
        m = self.meeting
        for v in m.votes:
            recused = m.recused_on(v.item_ids)
            assert not recused & v.voters
            if v.quorum is not None:
                assert set(v.quorum.recused) == recused & set(self.board)
                assert v.quorum.eligible == len(set(self.board) - recused)
        for d in self.uow.meetings.decisions_.values():
            assert not set(d.recused) & set(d.ballots)

    @invariant()
    def one_ballot_per_director_and_counts_equal_ballots(self) -> None:
        for v in self.meeting.votes:
            assert sum(v.counts.values()) == len(v.voters)
            assert v.voters <= set(self.board)
            if not v.secret:
                assert set(v.ballots) == v.voters
            else:
                assert not v.ballots
        ballots = self.uow.meetings.ballots
        assert len(ballots) == sum(len(v.voters) for v in self.meeting.votes)


STEPS = [0]


def test_board_sessions_keep_quorum_and_recusal_rules_over_10000_steps() -> None:
    STEPS[0] = 0
    while STEPS[0] < 10_000:  # Hypothesis draws each run's length: run until enough steps were checked
        run_state_machine_as_test(BoardSession, settings=settings(
            max_examples=200, stateful_step_count=60, deadline=None, database=None,
            suppress_health_check=[HealthCheck.too_slow]))
    assert STEPS[0] >= 10_000
