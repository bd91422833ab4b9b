"""Random sequences of dossier commands (management's submissions, directors' amendments and
withdrawals, the meetings family's outcomes and send backs) on the in-memory fakes. After every
step: every submitted version is kept exactly as submitted, no amendment is deeper than two
levels (and each is one level below what it amends), and a refused command changed nothing."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

from fakes import FakeUnitOfWork
from fakes_dossiers import FakeDocumentStore
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from coop_board.domain.dossiers import MAX_AMENDMENT_LEVEL, ProposalDraft
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import dossier_hooks as hooks
from coop_board.service_layer import dossiers, dossiers_amendments
from coop_domain.errors import DomainError
from coop_domain.principal import Principal

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MGR = Principal("mgr", "coop", frozenset({"management"}))
DIRECTORS = [Principal(f"dir-{n}", "coop", frozenset({"director"})) for n in range(3)]
WORDS = st.sampled_from(["key", "share", "member", "60%", "envelope", "June", "revised", "flat"])
STEPS = {"count": 0}


def lt(words: list[str]) -> LocalizedText:
    body = " ".join(words) or "text"
    return LocalizedText(fr=f"{body} fr", nl=f"{body} nl", en=body)


texts = st.lists(WORDS, min_size=1, max_size=4).map(lt)
drafts = st.lists(st.tuples(texts, texts, st.booleans(), st.integers(0, 6)), min_size=1, max_size=5)


class DossierMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeUnitOfWork()
        self.store = FakeDocumentStore()
        self.at = START
        self.dossier_ids: list[str] = []
        self.kept: dict[tuple[str, int], object] = {}   # (dossier, version) -> the version as submitted
        self.subjects: list[str] = []
        self.amendments: list[str] = []

    def _tick(self) -> datetime:
        self.at += timedelta(hours=1)
        return self.at

    def _attempt(self, command) -> object | None:
        """Run a command; a refusal must be a domain error and leave the repository as it was."""
        before = copy.deepcopy(self.uow.dossiers.dossiers)
        try:
            return command()
        except DomainError:
            assert self.uow.dossiers.dossiers == before, "a refused command changed a dossier"
            return None

    def _dossier(self, n: int):
        return self.uow.dossiers.get("coop", self.dossier_ids[n % len(self.dossier_ids)])

    @rule(title=texts)
    def create(self, title) -> None:
        d = dossiers.create_dossier(self.uow, MGR, title, self._tick())
        self.dossier_ids.append(d.dossier_id)

    @precondition(lambda self: self.dossier_ids)
    @rule(n=st.integers(0, 10), proposals=drafts, note=st.one_of(st.just(LocalizedText()), texts))
    def submit(self, n, proposals, note) -> None:
        d = self._dossier(n)
        previous = [p.proposal_id for p in d.versions[-1].proposals] if d.versions else []
        chosen = [ProposalDraft(title, text, rec, lt(["why"]) if rec else LocalizedText(),
                                previous[k] if k < len(previous) else None) for title, text, rec, k in proposals]
        view = self._attempt(lambda: dossiers.submit_version(
            self.uow, MGR, self.store, d.dossier_id, chosen, [], [], note, 1024, self._tick()))
        if view is not None:
            STEPS[f"v{view.version.number}"] = STEPS.get(f"v{view.version.number}", 0) + 1
            key = (d.dossier_id, view.version.number)
            assert key not in self.kept
            self.kept[key] = copy.deepcopy(view.version)
            self.subjects += [p.proposal_id for p in view.version.proposals]

    @precondition(lambda self: self.subjects)
    @rule(k=st.integers(0, 10_000), text=texts, who=st.integers(0, 2))
    def amend(self, k, text, who) -> None:
        parent = self.subjects[k % len(self.subjects)]
        made = self._attempt(lambda: dossiers_amendments.propose_amendment(
            self.uow, DIRECTORS[who], parent, text, self._tick()))
        if made is not None:
            self.subjects.append(made[1].amendment_id)
            STEPS[f"level{made[1].level}"] = STEPS.get(f"level{made[1].level}", 0) + 1
            self.amendments.append(made[1].amendment_id)

    @precondition(lambda self: self.amendments)
    @rule(k=st.integers(0, 10_000), who=st.integers(0, 2))
    def withdraw(self, k, who) -> None:
        target = self.amendments[k % len(self.amendments)]
        self._attempt(lambda: dossiers_amendments.withdraw_amendment(self.uow, DIRECTORS[who], target, self._tick()))

    def _in_meeting(self, hook) -> None:
        def run() -> None:
            with self.uow:
                hook()
                self.uow.commit()
        self._attempt(run)

    @precondition(lambda self: self.subjects)
    @rule(k=st.integers(0, 10_000), outcome=st.sampled_from(["adopted", "rejected", "withdrawn"]))
    def vote(self, k, outcome) -> None:
        subject = self.subjects[k % len(self.subjects)]
        self._in_meeting(lambda: hooks.record_outcome(self.uow, "coop", subject, outcome, "dec", self._tick()))

    @precondition(lambda self: self.dossier_ids)
    @rule(n=st.integers(0, 10), back=st.integers(0, 2), days=st.integers(-3, 60))
    def send_back(self, n, back, days) -> None:
        d = self._dossier(n)
        version = max(d.latest - back, 1)
        at = self._tick()
        self._in_meeting(lambda: hooks.send_back(self.uow, "coop", d.dossier_id, version, lt(["revise"]),
                                                 at.date() + timedelta(days=days), "m", "i", "dec", at))

    @invariant()
    def versions_are_kept_unchanged(self) -> None:
        STEPS["count"] += 1
        stored_by_id = {d.dossier_id: d for d in self.uow.dossiers.dossiers.values()}  # read, not copied
        for (dossier_id, number), version in self.kept.items():
            assert stored_by_id[dossier_id].versions[number - 1] == version
        for dossier_id in self.dossier_ids:
            stored = stored_by_id[dossier_id]
            assert [v.number for v in stored.versions] == list(range(1, stored.latest + 1))
            assert len(stored.versions) == len([k for k in self.kept if k[0] == dossier_id])

    @invariant()
    def amendments_are_at_most_two_levels_deep(self) -> None:
        for stored in self.uow.dossiers.dossiers.values():
            for a in stored.amendments.values():
                assert 1 <= a.level <= MAX_AMENDMENT_LEVEL
                parent = stored.amendments.get(a.parent_id)
                assert a.level == (parent.level + 1 if parent else 1)


def test_dossier_versions_are_kept_and_amendments_stay_two_levels_deep_over_random_commands() -> None:
    STEPS["count"] = 0
    run_state_machine_as_test(DossierMachine, settings=settings(
        max_examples=250, stateful_step_count=60, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    assert STEPS["count"] >= 10_000, STEPS
    assert STEPS.get("level2", 0) and STEPS.get("v2", 0), STEPS  # sub-amendments and second versions were reached
