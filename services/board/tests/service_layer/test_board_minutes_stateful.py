"""A Hypothesis state machine drives random sequences of minutes commands (draft, edit,
translate, submit, approve, erratum, publish) on the fakes, and after every step checks:
approved minutes never change (only a blank translation may be filled), nothing is published
while a language is missing, and nothing of a closed item is published."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from fakes import FakeUnitOfWork
from fakes_minutes import SECRET, FakeOfficers, FakeRecords, make_record
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from coop_board.domain.minutes import Edit
from coop_board.domain.texts import LANGUAGES, LocalizedText
from coop_board.service_layer import agenda_hooks, minutes, minutes_hooks
from coop_domain.errors import DomainError
from coop_domain.principal import Principal

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
SECRETARY = Principal("dir-2", "coop", frozenset({"secretary"}))
MEETINGS = ("m-full", "m-no-nl", "m-no-en-fr")
STEPS = {"count": 0}


def _texts(m) -> dict[tuple[str, str, str], str]:
    out = {("title", "", lang): m.title.get(lang) for lang in LANGUAGES}
    for s in m.sections:
        out.update({("sections", s.section_id, lang): s.body.get(lang) for lang in LANGUAGES})
    for d in m.decisions:
        out.update({("decisions", d.decision_id, lang): d.adopted_text.get(lang) for lang in LANGUAGES})
    return out


class MinutesMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeUnitOfWork()
        self.uow.meetings = FakeRecords(make_record("m-full", items=2), make_record("m-no-nl", items=3, missing=("nl",)),
                                        make_record("m-no-en-fr", items=2, closed_every=0, missing=("en", "fr")))
        self.uow.roster = FakeOfficers("dir-2")
        self.approved_texts: dict[str, dict] = {}
        self.published_docs: dict = {}

    def _ids(self) -> list[str]:
        return sorted(m for (_, m) in self.uow.minutes.minutes)

    def _try(self, call) -> None:
        with contextlib.suppress(DomainError):
            call()

    @rule(meeting=st.sampled_from(MEETINGS))
    def draft(self, meeting) -> None:
        self._try(lambda: minutes.draft_minutes(self.uow, SECRETARY, meeting, NOW))

    @rule(n=st.integers(0, 20), part=st.sampled_from(("title", "sections", "decisions")), k=st.integers(0, 5),
          lang=st.sampled_from(LANGUAGES), text=st.sampled_from(("", "edited", "other words")))
    def edit(self, n, part, k, lang, text) -> None:
        ids = self._ids()
        if not ids:
            return
        m = self.uow.minutes.get("coop", ids[n % len(ids)])
        keys = [""] if part == "title" else [s.section_id for s in m.sections] if part == "sections" else \
            [d.decision_id for d in m.decisions] or ["none"]
        edit = Edit(part, keys[k % len(keys)], lang, text)
        self._try(lambda: minutes.update_minutes(self.uow, SECRETARY, m.minutes_id, [edit], NOW))

    @rule(n=st.integers(0, 20))
    def translate_everything_missing(self, n) -> None:
        ids = self._ids()
        if not ids:
            return
        m = self.uow.minutes.get("coop", ids[n % len(ids)])
        edits = [Edit(t, i, lang, "translated") for (t, i, lang), v in _texts(m).items() if not v.strip()]
        self._try(lambda: minutes.update_minutes(self.uow, SECRETARY, m.minutes_id, edits, NOW))

    @rule(n=st.integers(0, 20))
    def submit(self, n) -> None:
        ids = self._ids()
        if ids:
            self._try(lambda: minutes.submit_for_approval(self.uow, SECRETARY, ids[n % len(ids)], NOW))

    @rule(n=st.integers(0, 20))
    def approve(self, n) -> None:
        ids = self._ids()
        if not ids:
            return
        minutes_id = ids[n % len(ids)]

        def run() -> None:
            with self.uow:
                minutes_hooks.minutes_approved(self.uow, "coop", minutes_id, "dec", "m-next", NOW)
                self.uow.commit()
            self.approved_texts.setdefault(minutes_id, _texts(self.uow.minutes.get("coop", minutes_id)))
        self._try(run)

    @rule(n=st.integers(0, 20))
    def erratum(self, n) -> None:
        ids = self._ids()
        if ids:
            self._try(lambda: minutes.create_erratum(self.uow, SECRETARY, ids[n % len(ids)],
                                                     LocalizedText("c", "c", ""), "open", NOW))

    @rule(n=st.integers(0, 20))
    def publish(self, n) -> None:
        ids = self._ids()
        if ids:
            self._try(lambda: minutes.publish_minutes(self.uow, SECRETARY, ids[n % len(ids)], NOW))

    @invariant()
    def approved_minutes_never_change(self) -> None:
        STEPS["count"] += 1
        for minutes_id, at_approval in self.approved_texts.items():
            m = self.uow.minutes.get("coop", minutes_id)
            assert m.status in ("approved", "published")
            now = _texts(m)
            for key, value in at_approval.items():
                if value.strip():
                    assert now[key] == value, key

    @invariant()
    def nothing_published_with_a_language_missing(self) -> None:
        docs = self.uow.minutes.docs
        published = {mid for (_, mid, _) in docs}
        for minutes_id in published:
            m = self.uow.minutes.get("coop", minutes_id)
            assert m.status == "published" and m.missing_languages() == ()
            assert {lang for (_, mid, lang) in docs if mid == minutes_id} == set(LANGUAGES)
        for key, doc in docs.items():
            assert SECRET not in doc.text
            assert self.published_docs.setdefault(key, doc) == doc  # a publication never changes
        for p in self.uow.minutes.decisions.values():
            assert SECRET not in p.adopted_text and SECRET not in p.title


def test_minutes_invariants_hold_over_ten_thousand_random_steps(monkeypatch) -> None:
    monkeypatch.setattr(agenda_hooks, "add_minutes_approval_item", lambda uow, tenant, minutes_id, title, now=None: None)
    STEPS["count"] = 0
    run_state_machine_as_test(MinutesMachine, settings=settings(
        max_examples=220, stateful_step_count=60, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))
    assert STEPS["count"] >= 10_000
