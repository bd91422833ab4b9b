"""Meetings use cases on the fakes: agenda, votes, decisions, access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from meetings_fixtures import (
    ADMIN,
    DIRECTORS,
    MANAGEMENT,
    MEMBER,
    NOW,
    OTHER_ADMIN,
    RULES,
    SECRETARY,
    T,
    board,
    director,
    frozen_meeting,
    item,
    spec,
)

from coop_board.domain.events_meetings import AgendaPublished, DecisionAdopted, MeetingScheduled
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks, decisions, meetings, sessions
from coop_board.service_layer.decisions import ActionSpec, Decide
from coop_board.service_layer.sessions import OpenVote
from coop_domain.errors import AlreadyExists, FailedPrecondition, NotFound, PermissionDenied
from coop_domain.principal import system_principal


def test_scheduling_convenes_the_sitting_directors_and_adds_the_months_statutory_items(monkeypatch):
    uow, _ = board(monkeypatch)
    m = meetings.schedule(uow, SECRETARY, spec(), RULES, NOW)  # March: accounts and convening the Assembly
    assert sorted(it.kind for it in m.items) == ["approve_accounts", "convene_assembly"]
    event = uow.published[-1]
    assert isinstance(event, MeetingScheduled) and event.convened == tuple(DIRECTORS)
    again = meetings.schedule(uow, SECRETARY, spec(days=25), RULES, NOW)
    assert again.items == []  # once a year


def test_a_secretary_token_of_another_director_does_not_run_meetings(monkeypatch):
    uow, _ = board(monkeypatch)
    from coop_domain.principal import Principal

    impostor = Principal("d05", "coop", frozenset({"secretary"}))
    with pytest.raises(PermissionDenied) as exc:
        meetings.schedule(uow, impostor, spec(), RULES, NOW)
    assert exc.value.reason == "NOT_THE_SECRETARY"


def test_members_see_only_open_items_of_a_published_agenda_and_other_tenants_nothing(monkeypatch):
    uow, _ = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    meetings.add_item(uow, ADMIN, m.meeting_id, item(visibility="closed"), RULES, NOW)
    with pytest.raises(NotFound):
        meetings.get(uow, MEMBER, m.meeting_id, NOW)
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    view = meetings.get(uow, MEMBER, m.meeting_id, NOW)
    assert all(not v.item.closed for v in view.items) and len(view.items) == 2
    assert len(meetings.get(uow, director("d03"), m.meeting_id, NOW).items) == 3
    event = uow.published[-1]
    assert isinstance(event, AgendaPublished) and event.meeting.agenda_version == 1
    with pytest.raises(NotFound):
        meetings.get(uow, OTHER_ADMIN, m.meeting_id, NOW)


def test_items_do_not_change_on_a_frozen_agenda(monkeypatch):
    uow, _ = board(monkeypatch)
    mid, _ = frozen_meeting(uow, [item()])
    with pytest.raises(FailedPrecondition) as exc:
        meetings.add_item(uow, ADMIN, mid, item(), RULES, NOW)
    assert exc.value.reason == "AGENDA_FROZEN"


def test_a_vote_needs_a_frozen_agenda_and_a_quorum_and_is_refused_to_the_recused(monkeypatch):
    uow, _ = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    it = meetings.add_item(uow, ADMIN, m.meeting_id, item(text=T), RULES, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        sessions.open_vote(uow, ADMIN, m.meeting_id, OpenVote(it.item_id, "item"), RULES, NOW)
    assert exc.value.reason == "AGENDA_NOT_FROZEN"
    mid, (it,) = frozen_meeting(uow, [item(text=T)], present=DIRECTORS[:4])
    with pytest.raises(FailedPrecondition) as exc:
        sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    assert exc.value.reason == "QUORUM_NOT_MET"
    sessions.record_attendance(uow, ADMIN, mid, [("d05", "remote", None)], RULES, NOW)
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    sessions.cast_vote(uow, director("d02"), mid, v.vote_id, "for", "", RULES, NOW)
    with pytest.raises(AlreadyExists):
        sessions.cast_vote(uow, director("d02"), mid, v.vote_id, "against", "", RULES, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        sessions.cast_vote(uow, director("d07"), mid, v.vote_id, "for", "", RULES, NOW)
    assert exc.value.reason == "NOT_PRESENT"
    with pytest.raises(FailedPrecondition) as exc:
        sessions.cast_vote(uow, director("x99"), mid, v.vote_id, "for", "", RULES, NOW)
    assert exc.value.reason == "NOT_A_SITTING_DIRECTOR"
    with pytest.raises(PermissionDenied):
        sessions.cast_vote(uow, MEMBER, mid, v.vote_id, "for", "", RULES, NOW)


def test_a_declaration_recuses_the_director_and_lowers_the_quorum_base(monkeypatch):
    uow, _ = board(monkeypatch)
    mid, (it,) = frozen_meeting(uow, [item(text=T)], present=DIRECTORS[:6])
    sessions.declare_interest(uow, director("d03"), mid, it.item_id, "my employer", NOW)
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        sessions.cast_vote(uow, director("d03"), mid, v.vote_id, "for", "", RULES, NOW)
    assert exc.value.reason == "DIRECTOR_RECUSED"
    for d in ("d01", "d02", "d04"):
        sessions.cast_vote(uow, director(d), mid, v.vote_id, "for", "", RULES, NOW)
    closed = sessions.close_vote(uow, ADMIN, mid, v.vote_id, RULES, NOW)
    assert closed.quorum.eligible == 8 and closed.quorum.required == 5 and closed.quorum.recused == ("d03",)
    assert closed.outcome == "adopted"
    d = decisions.decide(uow, ADMIN, mid, Decide(it.item_id, v.vote_id, actions=(
        ActionSpec(T, "mg-1", NOW.date() + timedelta(days=3)),)), NOW)
    assert d.recused == ("d03",) and d.ballots == {"d01": "for", "d02": "for", "d04": "for"}
    assert isinstance(uow.published[-1], DecisionAdopted)
    overdue, _ = decisions.list_actions(uow, MANAGEMENT, True, "", 0, "", NOW.date() + timedelta(days=4))
    assert [a.owner_id for a in overdue] == ["mg-1"]
    system = system_principal("board")
    assert decisions.overdue_action_counts(uow, system, NOW.date() + timedelta(days=4)) == {"coop": 1}
    assert decisions.overdue_action_counts(uow, system, NOW.date() + timedelta(days=3)) == {}  # due that day
    decisions.complete_action(uow, MANAGEMENT, overdue[0].action_id, NOW)
    assert decisions.list_actions(uow, MANAGEMENT, True, "", 0, "", NOW.date() + timedelta(days=4))[0] == []
    assert decisions.overdue_action_counts(uow, system, NOW.date() + timedelta(days=4)) == {}


def test_a_dossier_rejected_as_a_whole_is_sent_back(monkeypatch):
    uow, hooks = board(monkeypatch)
    hooks.add_dossier("dos-1", 1, 5)
    mid, (it,) = frozen_meeting(uow, [item("dossier", ref="dos-1", dossier_version=1)])
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "send_back"), RULES, NOW)
    sessions.record_votes(uow, ADMIN, mid, v.vote_id, [(d, "for", None) for d in DIRECTORS], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, mid, v.vote_id, RULES, NOW)
    d = decisions.decide(uow, ADMIN, mid, Decide(it.item_id, v.vote_id, send_back=True, reasons=T,
                                                 due_on=NOW.date() + timedelta(days=60)), NOW)
    assert d.kind == "sent_back" and hooks.sent_back == [("dos-1", 1, d.decision_id)]
    assert hooks.sent_back_closed == [False]


def test_a_closed_dossier_item_is_sent_back_without_its_reasons_in_the_event(monkeypatch):
    uow, hooks = board(monkeypatch)
    hooks.add_dossier("dos-9", 1, 2)
    mid, (it,) = frozen_meeting(uow, [item("dossier", ref="dos-9", dossier_version=1, visibility="closed")])
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "send_back"), RULES, NOW)
    sessions.record_votes(uow, ADMIN, mid, v.vote_id, [(d, "for", None) for d in DIRECTORS], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, mid, v.vote_id, RULES, NOW)
    decisions.decide(uow, ADMIN, mid, Decide(it.item_id, v.vote_id, send_back=True, reasons=T,
                                             due_on=NOW.date() + timedelta(days=60)), NOW)
    assert hooks.sent_back_closed == [True]  # dossier_hooks.send_back then publishes no reasons


def test_amendments_first_then_the_proposal_is_adopted(monkeypatch):
    uow, hooks = board(monkeypatch)
    p1, _ = hooks.add_dossier("dos-2", 2, 2, {1: 1})
    mid, (it,) = frozen_meeting(uow, [item("dossier", ref="dos-2", dossier_version=2)])
    with pytest.raises(FailedPrecondition) as exc:
        sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "proposal", p1), RULES, NOW)
    assert exc.value.reason == "AMENDMENTS_PENDING"
    a = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "proposal", f"{p1}-a1"), RULES, NOW)
    assert a.subject == "amendment"
    sessions.record_votes(uow, ADMIN, mid, a.vote_id, [(d, "for", None) for d in DIRECTORS[:5]], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, mid, a.vote_id, RULES, NOW)
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "proposal", p1), RULES, NOW)
    sessions.record_votes(uow, ADMIN, mid, v.vote_id, [(d, "for", None) for d in DIRECTORS[:5]], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, mid, v.vote_id, RULES, NOW)
    d = decisions.decide(uow, ADMIN, mid, Decide(it.item_id, v.vote_id), NOW)
    assert d.proposal_id == p1 and (p1, "adopted", d.decision_id) in hooks.outcomes


def test_consent_block_is_voted_once_and_a_pulled_item_stays_out(monkeypatch):
    uow, hooks = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    assert agenda_hooks.add_minutes_approval_item(uow, "coop", "min-1", T, NOW) is not None
    a = meetings.add_item(uow, ADMIN, m.meeting_id, item(consent=True, text=T), RULES, NOW)
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    meetings.freeze(uow, ADMIN, m.meeting_id, NOW)
    sessions.record_attendance(uow, ADMIN, m.meeting_id, [(d, "present", None) for d in DIRECTORS], RULES, NOW)
    meetings.pull_from_consent(uow, director("d04"), m.meeting_id, a.item_id, NOW)
    v = sessions.open_vote(uow, ADMIN, m.meeting_id, OpenVote("", "consent"), RULES, NOW)
    assert len(v.item_ids) == 1
    sessions.record_votes(uow, ADMIN, m.meeting_id, v.vote_id, [(d, "for", None) for d in DIRECTORS], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, m.meeting_id, v.vote_id, RULES, NOW)
    assert [x[0] for x in hooks.approved_minutes] == ["min-1"]
    record = uow.meetings.record("coop", m.meeting_id)
    assert [i.decision is not None for i in record.items if i.consent] == [True, False]


def test_an_approve_minutes_item_pulled_from_consent_is_decided_alone_on_its_motion(monkeypatch):
    uow, hooks = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    item_id = agenda_hooks.add_minutes_approval_item(uow, "coop", "min-2", T, NOW)
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    meetings.freeze(uow, ADMIN, m.meeting_id, NOW)
    sessions.record_attendance(uow, ADMIN, m.meeting_id, [(d, "present", None) for d in DIRECTORS], RULES, NOW)
    meetings.pull_from_consent(uow, director("d04"), m.meeting_id, item_id, NOW)
    v = sessions.open_vote(uow, ADMIN, m.meeting_id, OpenVote(item_id, "item"), RULES, NOW)
    sessions.record_votes(uow, ADMIN, m.meeting_id, v.vote_id, [(d, "for", None) for d in DIRECTORS], {}, RULES, NOW)
    sessions.close_vote(uow, ADMIN, m.meeting_id, v.vote_id, RULES, NOW)
    d = decisions.decide(uow, ADMIN, m.meeting_id, Decide(item_id, v.vote_id), NOW)
    assert d.adopted_text.en == "The board approves: en" and d.adopted_text.complete
    assert [x[0] for x in hooks.approved_minutes] == ["min-2"]


def test_nothing_is_half_written_when_a_show_of_hands_has_one_bad_ballot(monkeypatch):
    uow, _ = board(monkeypatch)
    mid, (it,) = frozen_meeting(uow, [item(text=T)], present=DIRECTORS[:6])
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        sessions.record_votes(uow, ADMIN, mid, v.vote_id, [("d01", "for", None), ("d09", "for", None)], {},
                              RULES, NOW)
    assert exc.value.field == "ballots[1].director_id"
    assert uow.meetings.get("coop", mid).vote(v.vote_id).counts == {} and uow.meetings.ballots == set()


def test_minutes_waiting_for_a_meeting_join_the_next_one_scheduled(monkeypatch):
    uow, _ = board(monkeypatch)
    assert agenda_hooks.add_minutes_approval_item(uow, "coop", "min-7", T, NOW) is None
    m = meetings.schedule(uow, ADMIN, spec(days=40), RULES, NOW)
    assert [it.ref for it in m.items if it.kind == "approve_minutes"] == ["min-7"]
    assert LocalizedText() != T


def test_a_change_to_a_published_agenda_publishes_its_next_version(monkeypatch):
    uow, _ = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    added = meetings.add_item(uow, ADMIN, m.meeting_id, item(), RULES, NOW)
    meetings.remove_item(uow, ADMIN, m.meeting_id, added.item_id, NOW)
    versions = [e.meeting.agenda_version for e in uow.published if isinstance(e, AgendaPublished)]
    assert versions == [1, 2, 3]


def test_an_agenda_is_announced_frozen_once_when_its_freeze_time_passes(monkeypatch):
    from coop_domain.principal import system_principal

    uow, _ = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(days=20), RULES, NOW)
    meetings.publish_agenda(uow, ADMIN, m.meeting_id, NOW)
    system = system_principal("board")
    assert meetings.announce_frozen_agendas(uow, system, NOW) == 0
    later = NOW + timedelta(days=14)  # 6 days before: inside the 7 days
    assert meetings.announce_frozen_agendas(uow, system, later) == 1
    assert meetings.announce_frozen_agendas(uow, system, later) == 0
    last = uow.published[-1]
    assert isinstance(last, AgendaPublished) and last.frozen


def test_a_statute_change_needs_two_thirds_of_the_votes_cast(monkeypatch):
    uow, _ = board(monkeypatch)
    mid, (it,) = frozen_meeting(uow, [item("statute_change", text=T)])
    assert it.majority == "two_thirds"
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    hands = [(d, "for", None) for d in DIRECTORS[:5]] + [(d, "against", None) for d in DIRECTORS[5:8]]
    sessions.record_votes(uow, ADMIN, mid, v.vote_id, hands + [("d09", "abstain", None)], {}, RULES, NOW)
    assert sessions.close_vote(uow, ADMIN, mid, v.vote_id, RULES, NOW).outcome == "rejected"  # 5 of 8 < 2/3
    with pytest.raises(FailedPrecondition) as exc:
        decisions.decide(uow, ADMIN, mid, Decide(it.item_id, v.vote_id), NOW)
    assert exc.value.reason == "VOTE_NOT_ADOPTED"


def test_a_written_proxy_is_cast_by_its_holder_once(monkeypatch):
    uow, _ = board(monkeypatch)
    mid, (it,) = frozen_meeting(uow, [item(text=T)], present=DIRECTORS[:6])
    sessions.record_attendance(uow, ADMIN, mid, [("d07", "excused", "d02")], RULES, NOW)
    v = sessions.open_vote(uow, ADMIN, mid, OpenVote(it.item_id, "item"), RULES, NOW)
    with pytest.raises(FailedPrecondition) as exc:
        sessions.cast_vote(uow, director("d03"), mid, v.vote_id, "for", "d07", RULES, NOW)
    assert exc.value.reason == "NO_PROXY"
    sessions.cast_vote(uow, director("d02"), mid, v.vote_id, "against", "d07", RULES, NOW)
    sessions.cast_vote(uow, director("d02"), mid, v.vote_id, "for", "", RULES, NOW)
    with pytest.raises(AlreadyExists):
        sessions.cast_vote(uow, director("d02"), mid, v.vote_id, "for", "d07", RULES, NOW)
    vote = uow.meetings.get("coop", mid).vote(v.vote_id)
    assert vote.ballots == {"d07": "against", "d02": "for"}


def test_a_dossier_item_names_a_dossier_whose_version_is_before_the_board(monkeypatch):
    uow, hooks = board(monkeypatch)
    m = meetings.schedule(uow, ADMIN, spec(), RULES, NOW)
    with pytest.raises(NotFound) as unknown:
        meetings.add_item(uow, ADMIN, m.meeting_id, item("dossier", ref="no-such-dossier"), RULES, NOW)
    assert (unknown.value.field, unknown.value.reason) == ("item.ref", "DOSSIER_NOT_FOUND")
    hooks.add_dossier("dos-7", 1, 2)
    hooks.add_dossier("dos-7", 2, 2)
    with pytest.raises(FailedPrecondition) as stale:
        meetings.add_item(uow, ADMIN, m.meeting_id, item("dossier", ref="dos-7", dossier_version=1), RULES, NOW)
    assert (stale.value.field, stale.value.reason) == ("item.dossier_version", "DOSSIER_VERSION_NOT_BEFORE_BOARD")
    assert meetings.add_item(uow, ADMIN, m.meeting_id, item("dossier", ref="dos-7"), RULES, NOW).dossier_version == 2
    assert [it.ref for it in uow.meetings.get("coop", m.meeting_id).items if it.source == "dossier"] == ["dos-7"]
