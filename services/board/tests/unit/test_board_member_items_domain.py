"""A member initiative's forced item on the meeting aggregate (kept by the board whatever it
does) and its promoters as presenters in the observer session (outside the seat limit)."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.meetings import AgendaItem, Meeting, MeetingRules, check_item_change
from coop_board.domain.observers import CANCELLED, SEATED, WAITING, ObserverSession
from coop_board.domain.texts import LocalizedText
from coop_domain.errors import FailedPrecondition

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
T = LocalizedText("fr", "nl", "en")
RULES = MeetingRules()
DUE = NOW + timedelta(days=30)


def meeting(days: int = 20) -> Meeting:
    start = NOW + timedelta(days=days)
    return Meeting("m", "coop", T, start, "Namur", "", start - timedelta(days=RULES.freeze_days))


def forced(item_id: str = "f") -> AgendaItem:
    return AgendaItem(item_id, 0, T, "member_initiative", "member_initiative", ref="ini-1", text=T, forced=True,
                      due_by=DUE)


def with_forced() -> Meeting:
    m = meeting()
    m.add_item(AgendaItem("o", 0, T, "other", "other"), NOW)
    m.add_item(forced(), NOW)
    return m


def test_a_forced_item_cannot_be_removed_and_the_agenda_stays_as_it_was() -> None:
    m = with_forced()
    before = copy.deepcopy(m.items)
    with pytest.raises(FailedPrecondition) as exc:
        m.remove_item("f", NOW)
    assert (exc.value.reason, exc.value.field) == ("FORCED_ITEM", "item_id")
    assert m.items == before
    m.remove_item("o", NOW)  # the other items stay removable
    assert [it.item_id for it in m.items] == ["f"]


def test_a_forced_item_is_refused_as_forced_even_once_the_agenda_is_frozen() -> None:
    m = with_forced()
    with pytest.raises(FailedPrecondition) as exc:
        m.remove_item("f", m.freezes_at)
    assert exc.value.reason == "FORCED_ITEM"


def test_a_meeting_carrying_a_forced_item_cannot_be_cancelled() -> None:
    m = with_forced()
    with pytest.raises(FailedPrecondition) as exc:
        m.cancel()
    assert exc.value.reason == "FORCED_ITEM" and m.status == "scheduled"


@pytest.mark.parametrize("change", [
    {"consent": True}, {"source": "other"}, {"ref": "ini-2"}, {"kind": "other"}, {"forced": False},
    {"visibility": "closed"}, {"due_by": DUE + timedelta(days=1)},
])
def test_a_forced_item_keeps_its_source_ref_kind_and_stays_open_out_of_the_consent_block(change) -> None:
    with pytest.raises(FailedPrecondition) as exc:
        check_item_change(forced(), replace(forced(), **change))
    assert exc.value.reason == "FORCED_ITEM"


def test_the_board_may_reword_a_forced_item() -> None:
    check_item_change(forced(), replace(forced(), title=LocalizedText("a", "b", "c")))


def test_an_ordinary_item_may_still_go_into_the_consent_block() -> None:
    plain = AgendaItem("o", 0, T, "other", "other")
    check_item_change(plain, replace(plain, consent=True))


def test_a_meeting_with_a_forced_item_moves_earlier_but_never_past_the_initiatives_delay() -> None:
    m = with_forced()
    m.reschedule(RULES, starts_at=NOW + timedelta(days=10))
    m.reschedule(RULES, starts_at=DUE)
    with pytest.raises(FailedPrecondition) as exc:
        m.reschedule(RULES, starts_at=DUE + timedelta(minutes=1))
    assert exc.value.reason == "FORCED_ITEM_DELAY" and m.starts_at == DUE


def test_a_meeting_without_forced_items_has_no_latest_start() -> None:
    m = meeting()
    assert m.latest_start() is None
    m.reschedule(RULES, starts_at=NOW + timedelta(days=400))


# -- presenters ----------------------------------------------------------------------------------

def session(seats: int = 1) -> ObserverSession:
    return ObserverSession("coop", "m", seats, NOW + timedelta(days=5), NOW + timedelta(days=7), "sec", NOW)


def test_presenters_are_seated_outside_the_seat_limit() -> None:
    s = session(1)
    s.register("r1", "mem-1", NOW)
    p, promoted = s.invite_presenter("p1", "pro-1", NOW)
    assert p is not None and (p.status, p.speaking_slot, promoted) == (SEATED, True, None)
    assert len(s.seat_holders()) == 1 and len(s.seated()) == 2
    assert s.register("r2", "mem-2", NOW).status == WAITING  # the one seat is still the member's


def test_presenters_are_seated_after_the_registration_deadline() -> None:
    s = session()
    p, _ = s.invite_presenter("p1", "pro-1", s.registration_deadline + timedelta(hours=1))
    assert p is not None and p.status == SEATED


def test_an_observer_invited_to_present_frees_their_seat_for_the_first_member_waiting() -> None:
    s = session(1)
    s.register("r1", "pro-1", NOW)
    s.register("r2", "mem-2", NOW)
    p, promoted = s.invite_presenter("unused", "pro-1", NOW)
    assert p is not None and p.registration_id == "r1" and p.speaking_slot
    assert promoted is not None and promoted.registration_id == "r2" and promoted.status == SEATED


def test_a_waiting_observer_invited_to_present_is_seated() -> None:
    s = session(1)
    s.register("r1", "mem-1", NOW)
    s.register("r2", "pro-1", NOW)
    p, promoted = s.invite_presenter("unused", "pro-1", NOW)
    assert p is not None and (p.registration_id, p.status, promoted) == ("r2", SEATED, None)
    assert s.waiting() == []


def test_inviting_a_presenter_twice_changes_nothing() -> None:
    s = session()
    s.invite_presenter("p1", "pro-1", NOW)
    assert s.invite_presenter("p2", "pro-1", NOW) == (None, None)
    assert list(s.registrations) == ["p1"]


def test_a_session_of_presenters_only_takes_no_member_registration() -> None:
    s = session(0)
    s.invite_presenter("p1", "pro-1", NOW)
    with pytest.raises(FailedPrecondition) as exc:
        s.register("r1", "mem-1", NOW)
    assert exc.value.reason == "NOT_OPEN_TO_OBSERVERS" and list(s.registrations) == ["p1"]


def test_opening_a_session_of_presenters_only_keeps_them_and_seats_members_up_to_the_limit() -> None:
    s = session(0)
    s.invite_presenter("p1", "pro-1", NOW)
    s.change(1, NOW + timedelta(days=5), NOW + timedelta(days=7), NOW)
    assert s.register("r1", "mem-1", NOW).status == SEATED
    assert s.register("r2", "mem-2", NOW).status == WAITING


def test_a_presenter_who_cancels_gives_no_seat_away() -> None:
    s = session(1)
    s.register("r1", "mem-1", NOW)
    s.register("r2", "mem-2", NOW)
    s.invite_presenter("p1", "pro-1", NOW)
    cancelled, promoted = s.cancel("p1", "pro-1", NOW)
    assert cancelled.status == CANCELLED and promoted is None
    assert [r.registration_id for r in s.waiting()] == ["r2"]
