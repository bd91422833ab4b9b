"""The invariants of the cross-family property test (test_board_governance_properties.py),
checked after every step against the test's own model (governance_oracle.py), and the tally of
the paths the runs reached. A mixin of the state machine: it reads `self.uow` (the fakes),
`self.model` (the Ledger), `self.meeting_ids`, `self.dossiers`, `self.minutes_ids`, `self.now`."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import timedelta

from board_governance_oracle import SECRET, check_public_minutes, covering
from hypothesis.stateful import invariant

from coop_board.adapters.events_out import translate
from coop_board.domain.texts import LANGUAGES
from coop_board.service_layer import meetings, minutes_reads, observers
from coop_domain.principal import Principal

STEPS = [0]
REACHED: Counter = Counter()  # what the runs reached, over all examples (asserted by the test)
MEMBER = Principal("m0", "coop", frozenset({"member"}))


class GovernanceChecks:
    def teardown(self) -> None:
        if not hasattr(self, "uow"):
            return
        u = self.uow
        for d in u.meetings.decisions_.values():
            REACHED[f"decision {d.kind} {d.item_kind}{' closed' if d.closed else ''}"] += 1
        REACHED.update(f"item {it.source} {'frozen' if m.is_frozen(self.now) and m.agenda_published else 'open'}"
                       for m in u.meetings.meetings.values() for it in m.items)
        REACHED.update(f"vote {v.subject} {v.status}" for m in u.meetings.meetings.values() for v in m.votes)
        REACHED["votes closed"] += sum(v.status == "closed" for m in u.meetings.meetings.values() for v in m.votes)
        REACHED["proxy ballots"] += sum(1 for m in u.meetings.meetings.values() for v in m.votes
                                        for d in v.voters if d in m.proxies)
        for mn in u.minutes.minutes.values():
            REACHED[f"{mn.kind} {mn.status}"] += 1
        for d in u.dossiers.dossiers.values():
            REACHED[f"dossier v{d.latest} {d.status}"] += 1
            REACHED.update(f"amendment level {a.level} {a.status}" for a in d.amendments.values())
        REACHED["mandates ended"] += sum(m.ended for m in self.model.mandates.values())
        REACHED["observers"] += len(u.observers.registrations)

    # -- the invariants, after every step ---------------------------------------------------------------
    @invariant()
    def no_decision_without_quorum_at_its_vote(self) -> None:
        if not hasattr(self, "uow"):
            return
        STEPS[0] += 1
        for d in self.uow.meetings.decisions_.values():
            m = self.uow.meetings.meetings[d.meeting_id]
            v = m.vote(d.vote_id)
            assert v.status == "closed" and v.adopted, d
            q, met, _ = self.model.quorum_at_close[v.vote_id]
            assert met and v.quorum is not None and v.quorum.met
            assert (v.quorum.sitting, v.quorum.eligible, v.quorum.eligible_present, v.quorum.recused) == \
                (q.sitting, q.eligible, q.present, q.recused), (v.quorum, q)
            assert m.agenda_published and (m.frozen or v.closed_at >= m.freezes_at)

    @invariant()
    def recused_directors_neither_counted_nor_voting(self) -> None:
        if not hasattr(self, "uow"):
            return
        for mid in self.meeting_ids:
            m = self.uow.meetings.meetings[mid]
            assert {(x.director_id, x.item_id) for x in m.declarations} == self.model.declared[mid]
            for v in m.votes:
                recused = {d for d, i in self.model.declared[mid] if i in v.item_ids}
                assert not recused & v.voters, (recused, v.voters)
                assert v.voters == set(self.model.ballots.get(v.vote_id, {}))
                if v.quorum is not None:
                    _, _, sitting_ids = self.model.quorum_at_close[v.vote_id]
                    assert set(v.quorum.recused) == recused & sitting_ids
        for d in self.uow.meetings.decisions_.values():
            assert not set(d.recused) & set(d.ballots)

    @invariant()
    def approved_minutes_unchanged(self) -> None:
        if not hasattr(self, "uow"):
            return
        assert all(("coop", i) in self.uow.minutes.minutes for i in self.minutes_ids), "minutes vanished"
        for (_, minutes_id), mn in self.uow.minutes.minutes.items():
            if mn.approved and minutes_id not in self.model.approved:
                self.model.approved[minutes_id] = copy.deepcopy(mn)
        for minutes_id, kept in self.model.approved.items():
            now = self.uow.minutes.minutes[("coop", minutes_id)]
            assert now.approved
            assert (now.meeting_id, now.kind, now.erratum_of, now.approved_at, now.approval_decision_id,
                    now.approved_in_meeting) == (kept.meeting_id, kept.kind, kept.erratum_of, kept.approved_at,
                                                 kept.approval_decision_id, kept.approved_in_meeting)
            pairs = [(kept.title, now.title)] + [(a.body, b.body) for a, b in zip(kept.sections, now.sections,
                                                                                  strict=True)]
            pairs += [(a.adopted_text, b.adopted_text) for a, b in zip(kept.decisions, now.decisions, strict=True)]
            for a, b in pairs:
                for lang in LANGUAGES:  # only a translation still blank when approved may be written
                    assert not a.get(lang).strip() or a.get(lang) == b.get(lang), (minutes_id, lang)
            assert [s.section_id for s in now.sections] == [s.section_id for s in kept.sections]
            own = self.uow.meetings.meetings[now.meeting_id]
            approving = self.uow.meetings.meetings[now.approved_in_meeting]
            assert approving.starts_at > own.starts_at, "minutes are approved at a following meeting"

    @invariant()
    def every_dossier_version_kept(self) -> None:
        if not hasattr(self, "uow"):
            return
        for (dossier_id, number), version in self.model.versions.items():
            assert self._stored_dossier(dossier_id).versions[number - 1] == version
        for dossier_id, _ in self.dossiers:
            d = self._stored_dossier(dossier_id)
            assert len(d.versions) == sum(1 for k in self.model.versions if k[0] == dossier_id)

    @invariant()
    def roster_consistent_with_the_mandates(self) -> None:
        if not hasattr(self, "uow"):
            return
        stored = self.uow.roster.mandates("coop")
        assert {m.mandate_id for m in stored} == set(self.model.mandates)
        days = {self.now.date() + timedelta(days=n) for n in (-365, 0, 30, 400)}
        days |= {self.uow.meetings.meetings[mid].starts_at.date() for mid in self.meeting_ids}
        for day in days:
            assert {d.mandate_id for d in self.uow.roster.sitting_on("coop", day)} == covering(self.model.mandates, day)
            held = [m for m in self.model.mandates.values() if m.covers(day)]
            assert len({m.seat for m in held}) == len(held) == len({m.director for m in held})

    @invariant()
    def members_read_nothing_closed_and_every_language(self) -> None:
        if not hasattr(self, "uow"):
            return
        u = self.uow
        check_public_minutes(u.minutes.docs, u.minutes.decisions)
        for key, doc in u.minutes.docs.items():  # a publication never changes
            assert self.model.published_docs.setdefault(key, doc) == doc
        for lang in LANGUAGES:
            rows, _ = minutes_reads.search_published_decisions(self.reads, MEMBER, lang, None, None, "", 100, "")
            assert all(SECRET not in r.adopted_text for r in rows)
        views, _ = meetings.list_meetings(u, MEMBER, 100, "", self.now)
        for view in views:
            for iv in view.items:
                assert not iv.item.closed and SECRET not in repr(iv.item)
                assert not iv.item.title.missing()
        for r in u.observers.registrations.values():
            if r.status != "cancelled":
                agenda = observers.observer_agenda(u, Principal(r.member_id, "coop", frozenset({"member"})),
                                                   r.meeting_id)
                closed = {it.item_id for it in u.meetings.meetings[r.meeting_id].items if it.closed}
                assert not closed & {it.item_id for it in agenda.items}
        for event in u.published[self.model.events_checked:]:  # events: a closed item's title at most
            name, message, _ = translate(event)
            assert SECRET.encode() not in message.SerializeToString(), name
        self.model.events_checked = len(u.published)
