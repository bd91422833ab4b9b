"""Forced initiative items, members' concerns and presenters on PostgreSQL, through the hooks
(service_layer/agenda_hooks.py, called as the initiatives and questions families call them, in
a unit of work of their own) and through the gRPC api the board uses.

The initiatives family's `initiative_hooks.initiative_discussed` is implemented in parallel: the
close-of-meeting test substitutes a recording fake for it (monkeypatch), and checks what the
meetings family passes to it. Hook-level tests run in a tenant of their own; api tests in the
coop tenant use meetings far in the future (a day of their own) so that no other test's meeting
sits within the initiative's delay."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import grpc
import pytest
from board_svc_helpers import START
from google.protobuf.field_mask_pb2 import FieldMask
from meetings_svc_helpers import (
    ADMIN,
    DIRECTORS,
    SECRETARY,
    T,
    board_setup,  # noqa: F401 - fixture
    item,
    refused,
    rid,
)
from sqlalchemy import select, text

from coop.board.v1 import common_pb2
from coop.board.v1 import meetings_pb2 as pb
from coop.board.v1 import meetings_pb2_grpc as pb_grpc
from coop.board.v1 import observers_pb2 as opb
from coop.board.v1 import observers_pb2_grpc as opb_grpc
from coop_board.adapters.orm import metadata
from coop_board.domain.links import ForcedItem
from coop_board.domain.meetings import Meeting, MeetingRules
from coop_board.domain.texts import LocalizedText
from coop_board.service_layer import agenda_hooks, initiative_hooks, member_items
from coop_cli.main import build_parser
from coop_domain.errors import InvalidArgument
from coop_platform.pbtypes import to_timestamp

pytestmark = pytest.mark.usefixtures("board_setup")
OUTBOX = metadata.tables["outbox"]
TITLE = LocalizedText("Initiative fr", "Initiatief nl", "Initiative en")
QUESTION = LocalizedText("Question fr", "Vraag nl", "Question en")
PROMOTERS = ("pro-1", "pro-2", "pro-3")
DELAY = 25
_days = itertools.count(3000, 40)


@pytest.fixture
def stub(env) -> pb_grpc.MeetingServiceStub:
    return env.stub(pb_grpc.MeetingServiceStub)


def tenant() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def in_unit(env, fn, *args, **kw) -> Any:
    """Call a hook inside a unit of work of its own and commit (as the calling family does)."""
    with env.uow_factory() as uow:
        out = fn(uow, *args, **kw)
        uow.commit()
        return out


def force(env, tenant_: str, now: datetime, initiative_id: str = "", delay: int = DELAY) -> ForcedItem:
    return in_unit(env, agenda_hooks.force_initiative_item, tenant_, initiative_id or f"ini-{uuid.uuid4().hex[:8]}",
                   TITLE, TITLE, PROMOTERS, now, delay)


def add_meeting(env, tenant_: str, starts_at: datetime, **kw) -> Meeting:
    m = Meeting(str(uuid.uuid4()), tenant_, T_LT, starts_at, "Namur", "", starts_at - timedelta(days=7), **kw)
    with env.uow_factory() as uow:
        uow.meetings.add(m)
        uow.commit()
    return m


T_LT = LocalizedText("CA", "RvB", "Board")


def meeting(env, tenant_: str, meeting_id: str) -> Meeting:
    with env.uow_factory() as uow:
        found = uow.meetings.get(tenant_, meeting_id)
    assert found is not None
    return found


def far_meeting(stub) -> tuple[str, datetime]:
    """A coop meeting on a day no other test uses; `now` 20 days before it (its agenda open)."""
    days = next(_days)
    m = stub.ScheduleMeeting(pb.ScheduleMeetingRequest(meeting=pb.Meeting(
        title=common_pb2.LocalizedText(fr="CA", nl="RvB", en="Board"),
        starts_at=to_timestamp(START + timedelta(days=days)), place="Brussels"), request_id=rid()),
        metadata=ADMIN).meeting
    return m.meeting_id, START + timedelta(days=days - 20)


def forced_on_far_meeting(env, stub) -> tuple[str, ForcedItem]:
    mid, now = far_meeting(stub)
    found = force(env, "coop", now)
    assert found.meeting_id == mid and not found.extra_meeting
    return mid, found


def events(env, name: str, meeting_id: str) -> list[dict[str, Any]]:
    with env.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.body).where(OUTBOX.c.routing_key == name).order_by(OUTBOX.c.seq))
        return [d for d in (json.loads(b)["data"] for (b,) in rows) if d.get("meetingId") == meeting_id]


# -- the hook: where the item lands --------------------------------------------------------------------

def test_a_qualified_initiative_lands_on_the_next_open_agenda_within_the_delay(env) -> None:
    t = tenant()
    add_meeting(env, t, START + timedelta(days=3))                         # frozen already
    add_meeting(env, t, START + timedelta(days=9), status="in_session")    # not a scheduled one
    target = add_meeting(env, t, START + timedelta(days=12))
    add_meeting(env, t, START + timedelta(days=20))
    found = force(env, t, START, "ini-a")
    assert (found.meeting_id, found.meeting_starts_at, found.extra_meeting) == (target.meeting_id, target.starts_at,
                                                                                False)
    it = meeting(env, t, target.meeting_id).item(found.item_id)
    assert (it.source, it.kind, it.ref, it.visibility, it.consent, it.forced) == (
        "member_initiative", "member_initiative", "ini-a", "open", False, True)
    assert it.title == TITLE and it.text == TITLE and it.due_by == START + timedelta(days=DELAY)


def test_forcing_the_same_initiative_twice_answers_where_it_already_is(env) -> None:
    t = tenant()
    target = add_meeting(env, t, START + timedelta(days=12))
    first = force(env, t, START, "ini-b")
    assert force(env, t, START, "ini-b") == first
    assert [it.item_id for it in meeting(env, t, target.meeting_id).items] == [first.item_id]


def test_with_no_open_agenda_within_the_delay_an_extra_meeting_is_scheduled_at_its_end(env) -> None:
    t = tenant()
    later = add_meeting(env, t, START + timedelta(days=DELAY + 10))
    found = force(env, t, START, "ini-c")
    assert found.extra_meeting and found.meeting_id != later.meeting_id
    assert found.meeting_starts_at == START + timedelta(days=DELAY)
    extra = meeting(env, t, found.meeting_id)
    assert extra.extra and extra.status == "scheduled" and extra.title == member_items.EXTRA_MEETING_TITLE
    assert extra.title.missing() == () and extra.place == later.place  # where the board usually meets
    assert [it.ref for it in extra.items] == ["ini-c"]
    assert events(env, "meeting.scheduled", found.meeting_id)  # convened like any meeting


def test_a_delay_shorter_than_the_freeze_still_lands_on_an_extra_meeting(env) -> None:
    t = tenant()
    found = force(env, t, START, "ini-d", delay=2)
    extra = meeting(env, t, found.meeting_id)
    assert found.extra_meeting and extra.place == member_items.PLACE_TO_BE_CONFIRMED
    assert extra.is_frozen(START) and [it.forced for it in extra.items] == [True]


def test_a_delay_below_one_day_is_refused_and_nothing_is_written(env) -> None:
    t = tenant()
    with pytest.raises(InvalidArgument) as exc:
        force(env, t, START, "ini-e", delay=0)
    assert exc.value.reason == "INVALID_DELAY"
    with env.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM board_meetings WHERE tenant = :t"), {"t": t}).scalar_one() == 0


def test_an_extra_meeting_freezes_as_the_settings_say(env) -> None:
    t = tenant()
    found = in_unit(env, agenda_hooks.force_initiative_item, t, "ini-f", TITLE, TITLE, PROMOTERS, START, 30,
                    MeetingRules(freeze_days=3))
    extra = meeting(env, t, found.meeting_id)
    assert extra.freezes_at == extra.starts_at - timedelta(days=3)


# -- presenters ----------------------------------------------------------------------------------

def test_the_promoters_are_seated_as_presenters_and_told_so(env) -> None:
    t = tenant()
    target = add_meeting(env, t, START + timedelta(days=12))
    force(env, t, START)
    with env.uow_factory() as uow:
        session = uow.observers.session(t, target.meeting_id)
    assert session is not None and session.seats == 0
    assert sorted((r.member_id, r.status, r.speaking_slot) for r in session.registrations.values()) == [
        (p, "seated", True) for p in PROMOTERS]
    told = events(env, "observer.registered", target.meeting_id)
    assert sorted((e["memberId"], e["seated"], e["speakingSlot"]) for e in told) == [(p, True, True)
                                                                                     for p in PROMOTERS]
    assert events(env, "observer_session.opened", target.meeting_id) == []  # not open to members yet


def test_the_secretary_opens_a_meeting_with_presenters_to_members_and_they_keep_their_places(env, stub) -> None:
    mid, _ = forced_on_far_meeting(env, stub)
    ostub = env.stub(opb_grpc.ObserverServiceStub)
    listed = ostub.ListObservers(opb.ListObserversRequest(meeting_id=mid), metadata=SECRETARY)
    assert sorted((r.member_id, r.speaking_slot) for r in listed.registrations) == [(p, True) for p in PROMOTERS]
    assert listed.session.seats == 0 and listed.session.seats_taken == 0
    opened = ostub.OpenToObservers(opb.OpenToObserversRequest(
        meeting_id=mid, seats=5, registration_deadline=to_timestamp(START + timedelta(days=1))), metadata=SECRETARY)
    assert (opened.session.seats, opened.session.seats_taken) == (5, 0)
    again = ostub.ListObservers(opb.ListObserversRequest(meeting_id=mid), metadata=SECRETARY)
    assert [r.speaking_slot for r in again.registrations] == [True] * 3


# -- what the board cannot do to a forced item (gRPC) ----------------------------------------------

def test_a_forced_item_removed_is_refused_clearly_and_nothing_changes(env, stub) -> None:
    mid, found = forced_on_far_meeting(env, stub)
    before = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting
    got = refused(stub.RemoveAgendaItem, pb.RemoveAgendaItemRequest(meeting_id=mid, item_id=found.item_id),
                  metadata=ADMIN)
    assert got.code == grpc.StatusCode.FAILED_PRECONDITION and got.reason == "FORCED_ITEM"
    assert "item_id" in got.field_violations
    after = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting
    assert after == before and [it.forced for it in after.items] == [True]


def test_the_meeting_carrying_a_forced_item_cannot_be_cancelled(env, stub) -> None:
    mid, _ = forced_on_far_meeting(env, stub)
    got = refused(stub.CancelMeeting, pb.CancelMeetingRequest(meeting_id=mid), metadata=ADMIN)
    assert got.code == grpc.StatusCode.FAILED_PRECONDITION and got.reason == "FORCED_ITEM"
    assert meeting(env, "coop", mid).status == "scheduled"


@pytest.mark.parametrize(("field", "value"), [
    ("consent", True), ("ref", "ini-other"), ("source", common_pb2.ITEM_SOURCE_OTHER), ("kind", "other"),
])
def test_a_forced_item_cannot_go_into_the_consent_block_nor_change_source_or_ref(env, stub, field, value) -> None:
    mid, found = forced_on_far_meeting(env, stub)
    got = refused(stub.UpdateAgendaItem, pb.UpdateAgendaItemRequest(
        meeting_id=mid, item=pb.AgendaItem(item_id=found.item_id, **{field: value}),
        update_mask=FieldMask(paths=[field])), metadata=ADMIN)
    assert got.code == grpc.StatusCode.FAILED_PRECONDITION and got.reason == "FORCED_ITEM"
    it = meeting(env, "coop", mid).item(found.item_id)
    assert (it.consent, it.source, it.ref[:4], it.kind) == (False, "member_initiative", "ini-", "member_initiative")


def test_the_board_may_reword_and_reorder_a_forced_item(env, stub) -> None:
    mid, found = forced_on_far_meeting(env, stub)
    other = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=mid, item=item()), metadata=ADMIN).item
    statutory = [it.item_id for it in stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN)
                 .meeting.items if it.item_id not in (other.item_id, found.item_id)]
    new = common_pb2.LocalizedText(fr="a", nl="b", en="c")
    stub.UpdateAgendaItem(pb.UpdateAgendaItemRequest(meeting_id=mid, item=pb.AgendaItem(item_id=found.item_id,
                                                                                        title=new),
                                                     update_mask=FieldMask(paths=["title"])), metadata=ADMIN)
    stub.ReorderAgendaItems(pb.ReorderAgendaItemsRequest(
        meeting_id=mid, item_ids=[*statutory, other.item_id, found.item_id]), metadata=ADMIN)
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting
    assert [(it.item_id, it.forced) for it in got.items][-2:] == [(other.item_id, False), (found.item_id, True)]
    assert got.items[-1].title == new


def test_an_item_added_by_hand_as_an_initiative_is_not_forced(env, stub) -> None:
    mid, _ = far_meeting(stub)
    added = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=mid, item=item(
        "member_initiative", source=common_pb2.ITEM_SOURCE_MEMBER_INITIATIVE, ref="ini-x")), metadata=ADMIN).item
    assert not added.forced
    stub.RemoveAgendaItem(pb.RemoveAgendaItemRequest(meeting_id=mid, item_id=added.item_id), metadata=ADMIN)


def test_the_secretary_moves_the_meeting_earlier_but_never_past_the_initiatives_delay(env, stub) -> None:
    mid, found = forced_on_far_meeting(env, stub)
    due = meeting(env, "coop", mid).item(found.item_id).due_by
    assert due is not None

    def move(to: datetime) -> pb.UpdateMeetingRequest:
        return pb.UpdateMeetingRequest(meeting=pb.Meeting(meeting_id=mid, starts_at=to_timestamp(to)),
                                       update_mask=FieldMask(paths=["starts_at"]))
    got = refused(stub.UpdateMeeting, move(due + timedelta(days=1)), metadata=ADMIN)
    assert got.code == grpc.StatusCode.FAILED_PRECONDITION and got.reason == "FORCED_ITEM_DELAY"
    assert meeting(env, "coop", mid).starts_at == found.meeting_starts_at
    stub.UpdateMeeting(move(due - timedelta(days=10)), metadata=ADMIN)
    assert meeting(env, "coop", mid).starts_at == due - timedelta(days=10)


# -- closing the meeting tells the initiatives family ------------------------------------------------

def test_closing_the_meeting_tells_the_initiative_it_was_discussed_with_the_decision(env, stub, monkeypatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(initiative_hooks, "initiative_discussed",
                        lambda uow, tenant_, initiative_id, meeting_id, decision_id, at:
                        calls.append((tenant_, initiative_id, meeting_id, decision_id, at)))
    mid, found = forced_on_far_meeting(env, stub)
    other = stub.AddAgendaItem(pb.AddAgendaItemRequest(meeting_id=mid, item=item(text=T)), metadata=ADMIN).item
    stub.PublishAgenda(pb.PublishAgendaRequest(meeting_id=mid), metadata=ADMIN)
    stub.FreezeAgenda(pb.FreezeAgendaRequest(meeting_id=mid), metadata=ADMIN)
    stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=mid, attendance=[
        pb.Attendance(director_id=d, status=pb.ATTENDANCE_STATUS_PRESENT) for d in DIRECTORS]), metadata=ADMIN)
    vote = stub.OpenVote(pb.OpenVoteRequest(meeting_id=mid, item_id=found.item_id, subject=pb.VOTE_SUBJECT_ITEM),
                         metadata=ADMIN).vote
    stub.RecordVotes(pb.RecordVotesRequest(meeting_id=mid, vote_id=vote.vote_id, ballots=[
        pb.Ballot(director_id=d, choice=pb.VOTE_CHOICE_FOR) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseVote(pb.CloseVoteRequest(meeting_id=mid, vote_id=vote.vote_id), metadata=ADMIN)
    decision = stub.Decide(pb.DecideRequest(meeting_id=mid, item_id=found.item_id, vote_id=vote.vote_id),
                           metadata=ADMIN).decision
    assert calls == []  # deciding is not closing
    stub.CloseMeeting(pb.CloseMeetingRequest(meeting_id=mid), metadata=ADMIN)
    initiative_id = meeting(env, "coop", mid).item(found.item_id).ref
    assert calls == [("coop", initiative_id, mid, decision.decision_id, START)]
    assert len(calls) == 1 and other.item_id != found.item_id  # the ordinary item is not reported


def test_a_forced_item_closed_undecided_is_reported_without_a_decision(env, stub, monkeypatch) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(initiative_hooks, "initiative_discussed",
                        lambda uow, tenant_, initiative_id, meeting_id, decision_id, at:
                        calls.append((meeting_id, decision_id)))
    mid, _ = forced_on_far_meeting(env, stub)
    stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=mid, attendance=[
        pb.Attendance(director_id=d, status=pb.ATTENDANCE_STATUS_PRESENT) for d in DIRECTORS]), metadata=ADMIN)
    stub.CloseMeeting(pb.CloseMeetingRequest(meeting_id=mid), metadata=ADMIN)
    assert calls == [(mid, None)]


def test_when_the_initiatives_family_refuses_the_meeting_stays_open(env, stub, monkeypatch) -> None:
    def refuse(*args: Any) -> None:
        raise InvalidArgument("refused", reason="TEST_REFUSAL")
    monkeypatch.setattr(initiative_hooks, "initiative_discussed", refuse)
    mid, _ = forced_on_far_meeting(env, stub)
    stub.RecordAttendance(pb.RecordAttendanceRequest(meeting_id=mid, attendance=[
        pb.Attendance(director_id=d, status=pb.ATTENDANCE_STATUS_PRESENT) for d in DIRECTORS]), metadata=ADMIN)
    got = refused(stub.CloseMeeting, pb.CloseMeetingRequest(meeting_id=mid), metadata=ADMIN)
    assert got.code == grpc.StatusCode.INVALID_ARGUMENT and got.reason == "TEST_REFUSAL"
    assert meeting(env, "coop", mid).status == "in_session"  # one unit: nothing half-written


# -- members' concerns ----------------------------------------------------------------------------------

def test_a_members_concern_goes_on_the_next_open_agenda_and_the_board_may_remove_it(env) -> None:
    t = tenant()
    add_meeting(env, t, START + timedelta(days=3))  # frozen
    target = add_meeting(env, t, START + timedelta(days=60))  # no delay for a concern
    item_id = in_unit(env, agenda_hooks.add_member_concern_item, t, "q-1", QUESTION, QUESTION, START)
    it = meeting(env, t, target.meeting_id).item(item_id)
    assert (it.source, it.kind, it.ref, it.visibility, it.consent, it.forced) == (
        "member_concern", "member_concern", "q-1", "open", False, False)
    assert in_unit(env, agenda_hooks.add_member_concern_item, t, "q-1", QUESTION, QUESTION, START) == item_id
    with env.uow_factory() as uow:
        m = uow.meetings.get(t, target.meeting_id, for_update=True)
        assert m is not None
        m.remove_item(item_id, START)
        uow.meetings.save(m)
        uow.commit()
    assert meeting(env, t, target.meeting_id).items == []


def test_a_concern_with_no_open_agenda_waits_for_the_next_meeting_scheduled(env, stub) -> None:
    t = tenant()
    add_meeting(env, t, START + timedelta(days=3))  # frozen
    assert in_unit(env, agenda_hooks.add_member_concern_item, t, "q-2", QUESTION, QUESTION, START) is None
    assert in_unit(env, agenda_hooks.add_member_concern_item, t, "q-2", QUESTION, QUESTION, START) is None
    with env.uow_factory() as uow:
        assert [q for q, _, _ in uow.meetings.take_pending_concerns(t)] == ["q-2"]
        uow.meetings.add_pending_concern(t, "q-2", QUESTION, QUESTION)
        uow.commit()
    # the coop tenant: a meeting scheduled through the api takes the waiting concern
    in_unit(env, lambda uow: uow.meetings.add_pending_concern("coop", "q-coop", QUESTION, QUESTION))
    mid, _ = far_meeting(stub)
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=mid), metadata=ADMIN).meeting
    assert [(it.ref, it.kind, it.forced) for it in got.items if it.ref == "q-coop"] == [
        ("q-coop", "member_concern", False)]


def test_the_concerns_of_a_cancelled_meeting_wait_for_the_next_one(env, stub) -> None:
    mid, now = far_meeting(stub)
    item_id = in_unit(env, agenda_hooks.add_member_concern_item, "coop", "q-3", QUESTION, QUESTION, now)
    assert meeting(env, "coop", mid).item(item_id).ref == "q-3"
    stub.CancelMeeting(pb.CancelMeetingRequest(meeting_id=mid), metadata=ADMIN)
    next_mid, _ = far_meeting(stub)
    got = stub.GetMeeting(pb.GetMeetingRequest(meeting_id=next_mid), metadata=ADMIN).meeting
    assert [it.ref for it in got.items if it.kind == "member_concern"] == ["q-3"]


def test_the_agenda_shown_from_the_command_line_marks_the_forced_item(env, stub, capsys) -> None:
    mid, found = forced_on_far_meeting(env, stub)
    args = build_parser().parse_args(["board", "agenda", "show", mid])
    assert args.func(args, stub, ADMIN) == 0
    (line,) = [x for x in capsys.readouterr().out.splitlines() if found.item_id in x]
    assert "[member_initiative] forced" in line
