"""A Hypothesis state machine of dossier commands, shared by the property test on the fakes
(tests/service_layer) and the one on PostgreSQL (tests/service): management's submissions,
directors' amendments and withdrawals, the meetings family's outcomes and send backs.

After every step: every submitted version is kept exactly as submitted, no amendment is deeper
than two levels (each one level below what it amends), and a refused command changed nothing.
A subclass says where dossiers live: `new_uow()` (a unit for one command) and `stored()` (the
machine's dossiers as stored now)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from board_fakes_dossiers import FakeDocumentStore
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from coop_board.domain.dossiers import MAX_AMENDMENT_LEVEL, Dossier, ProposalDraft
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import dossier_hooks as hooks
from coop_board.service_layer import dossiers, dossiers_amendments
from coop_domain.errors import DomainError
from coop_domain.principal import Principal

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
MGR = Principal("mgr", "coop", frozenset({"management"}))
DIRECTORS = [Principal(f"dir-{n}", "coop", frozenset({"director"})) for n in range(3)]
WORDS = st.sampled_from(["key", "share", "member", "60%", "envelope", "June", "revised", "flat"])


def lt(words: list[str]) -> LocalizedText:
    body = " ".join(words) or "text"
    return LocalizedText(fr=f"{body} fr", nl=f"{body} nl", en=body)


texts = st.lists(WORDS, min_size=1, max_size=4).map(lt)
drafts = st.lists(st.tuples(texts, texts, st.booleans(), st.integers(0, 6)), min_size=1, max_size=5)


class DossierMachineBase(RuleBasedStateMachine):
    steps: dict[str, int] = {}  # counted over a whole run (steps, versions, amendment levels)

    def __init__(self) -> None:
        super().__init__()
        self.store = FakeDocumentStore()
        self.at = START
        self.dossier_ids: list[str] = []
        self.kept: dict[tuple[str, int], object] = {}   # (dossier, version) -> the version as submitted
        self.subjects: list[str] = []
        self.amendments: list[str] = []

    # --- where dossiers live (subclasses) -------------------------------------------------------

    def new_uow(self) -> Any:
        raise NotImplementedError

    def stored(self) -> dict[str, Dossier]:
        raise NotImplementedError

    # --- helpers --------------------------------------------------------------------------------

    def _count(self, key: str) -> None:
        self.steps[key] = self.steps.get(key, 0) + 1

    def _tick(self) -> datetime:
        self.at += timedelta(hours=1)
        return self.at

    def _attempt(self, command) -> object | None:
        """Run a command; a refusal must be a domain error and leave every dossier as it was."""
        before = copy.deepcopy(self.stored())
        try:
            return command()
        except DomainError:
            assert self.stored() == before, "a refused command changed a dossier"
            return None

    def _in_meeting(self, hook) -> None:
        """A hook inside the meetings family's unit, which commits after it."""
        def run() -> None:
            uow = self.new_uow()
            with uow:
                hook(uow)
                uow.commit()
        self._attempt(run)

    def _dossier(self, n: int) -> Dossier:
        return self.stored()[self.dossier_ids[n % len(self.dossier_ids)]]

    # --- rules ----------------------------------------------------------------------------------

    @rule(title=texts)
    def create(self, title) -> None:
        d = dossiers.create_dossier(self.new_uow(), MGR, title, self._tick())
        self.dossier_ids.append(d.dossier_id)

    @precondition(lambda self: self.dossier_ids)
    @rule(n=st.integers(0, 10), proposals=drafts, note=st.one_of(st.just(LocalizedText()), texts))
    def submit(self, n, proposals, note) -> None:
        d = self._dossier(n)
        previous = [p.proposal_id for p in d.versions[-1].proposals] if d.versions else []
        chosen = [ProposalDraft(title, text, rec, lt(["why"]) if rec else LocalizedText(),
                                previous[k] if k < len(previous) else None) for title, text, rec, k in proposals]
        view = self._attempt(lambda: dossiers.submit_version(
            self.new_uow(), MGR, self.store, d.dossier_id, chosen, [], [], note, 1024, self._tick()))
        if view is not None:
            self._count(f"v{view.version.number}")
            key = (d.dossier_id, view.version.number)
            assert key not in self.kept
            self.kept[key] = copy.deepcopy(view.version)
            self.subjects += [p.proposal_id for p in view.version.proposals]

    @precondition(lambda self: self.subjects)
    @rule(k=st.integers(0, 10_000), text=texts, who=st.integers(0, 2))
    def amend(self, k, text, who) -> None:
        parent = self.subjects[k % len(self.subjects)]
        made = self._attempt(lambda: dossiers_amendments.propose_amendment(
            self.new_uow(), DIRECTORS[who], parent, text, self._tick()))
        if made is not None:
            self._count(f"level{made[1].level}")
            self.subjects.append(made[1].amendment_id)
            self.amendments.append(made[1].amendment_id)

    @precondition(lambda self: self.amendments)
    @rule(k=st.integers(0, 10_000), who=st.integers(0, 2))
    def withdraw(self, k, who) -> None:
        target = self.amendments[k % len(self.amendments)]
        self._attempt(lambda: dossiers_amendments.withdraw_amendment(self.new_uow(), DIRECTORS[who], target,
                                                                     self._tick()))

    @precondition(lambda self: self.subjects)
    @rule(k=st.integers(0, 10_000), outcome=st.sampled_from(["adopted", "rejected", "withdrawn"]))
    def vote(self, k, outcome) -> None:
        subject = self.subjects[k % len(self.subjects)]
        at = self._tick()
        self._in_meeting(lambda uow: hooks.record_outcome(uow, "coop", subject, outcome, "dec", at))

    @precondition(lambda self: self.dossier_ids)
    @rule(n=st.integers(0, 10), back=st.integers(0, 2), days=st.integers(-3, 60))
    def send_back(self, n, back, days) -> None:
        d = self._dossier(n)
        version = max(d.latest - back, 1)
        at = self._tick()
        self._in_meeting(lambda uow: hooks.send_back(uow, "coop", d.dossier_id, version, lt(["revise"]),
                                                     at.date() + timedelta(days=days), "m", "i", "dec", at))

    # --- invariants, after every step -----------------------------------------------------------

    @invariant()
    def versions_are_kept_unchanged(self) -> None:
        self._count("count")
        stored = self.stored()
        for (dossier_id, number), version in self.kept.items():
            assert stored[dossier_id].versions[number - 1] == version
        for dossier_id in self.dossier_ids:
            d = stored[dossier_id]
            assert [v.number for v in d.versions] == list(range(1, d.latest + 1))
            assert len(d.versions) == len([k for k in self.kept if k[0] == dossier_id])

    @invariant()
    def amendments_are_at_most_two_levels_deep(self) -> None:
        for d in self.stored().values():
            for a in d.amendments.values():
                assert 1 <= a.level <= MAX_AMENDMENT_LEVEL
                parent = d.amendments.get(a.parent_id)
                assert a.level == (parent.level + 1 if parent else 1)
