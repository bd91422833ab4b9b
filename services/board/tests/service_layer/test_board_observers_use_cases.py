"""Observers' use cases (service_layer/observers.py) on the in-memory fakes: access, the rules
named by reason, nothing written on a refusal, the events (ids only)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from board_fakes import FakeUnitOfWork
from board_fakes_observers import NOW, SECRETARY_ID, item, with_stand_ins

from coop_board.domain.observers import (
    ObserverCancelled,
    ObserverPromoted,
    ObserverRegistered,
    ObserverSessionOpened,
)
from coop_board.service_layer import observers as uc
from coop_domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from coop_domain.principal import Principal

SECRETARY = Principal(SECRETARY_ID, "coop", frozenset({"secretary", "director", "member"}))
ADMIN = Principal("admin-1", "coop", frozenset({"admin"}))
OTHER_ADMIN = Principal("admin-x", "other", frozenset({"admin"}))
DEADLINE = NOW + timedelta(days=7)


def member(n: int | str) -> Principal:
    return Principal(f"mem-{n}", "coop", frozenset({"member"}))


@pytest.fixture
def uow() -> FakeUnitOfWork:
    u = with_stand_ins(FakeUnitOfWork())
    u.meetings.add("m1")
    return u


def open_m1(uow, seats: int = 2) -> None:
    uc.open_to_observers(uow, SECRETARY, "m1", seats, DEADLINE, NOW)


def test_secretary_opens_a_meeting_and_members_get_seats_then_wait(uow) -> None:
    open_m1(uow, 1)
    first, code = uc.register_as_observer(uow, member(1), "m1", NOW)
    second, none = uc.register_as_observer(uow, member(2), "m1", NOW)
    assert (first.status, second.status) == ("seated", "waiting")
    assert code and none is None and first.has_check_in_code and not second.has_check_in_code
    assert second.waiting_position == 1
    kinds = [type(e) for e in uow.published]
    assert kinds == [ObserverSessionOpened, ObserverRegistered, ObserverRegistered]
    assert uow.published[1].member_id == "mem-1" and uow.published[2].seated is False


def test_cancelling_a_seat_promotes_the_first_waiting_and_tells_them_by_event(uow) -> None:
    open_m1(uow, 1)
    r1, _ = uc.register_as_observer(uow, member(1), "m1", NOW)
    r2, _ = uc.register_as_observer(uow, member(2), "m1", NOW)
    uc.register_as_observer(uow, member(3), "m1", NOW)
    cancelled, promoted = uc.cancel_registration(uow, member(1), r1.registration_id, NOW)
    assert cancelled.status == "cancelled" and promoted == r2.registration_id
    promo = [e for e in uow.published if isinstance(e, ObserverPromoted)]
    assert [(e.registration_id, e.member_id) for e in promo] == [(r2.registration_id, "mem-2")]
    cancel = [e for e in uow.published if isinstance(e, ObserverCancelled)][0]
    assert cancel.was_seated and cancel.promoted_registration_id == r2.registration_id
    view, code = uc.reissue_code(uow, member(2), r2.registration_id, NOW)  # the promoted member's first code
    assert code and view.has_check_in_code
    assert uc.check_in(uow, SECRETARY, "m1", code, NOW).registration_id == r2.registration_id


@pytest.mark.parametrize("who", [member(1), Principal("dir", "coop", frozenset({"director"})),
                                 Principal("mgmt", "coop", frozenset({"management"})),
                                 Principal("sec-2", "coop", frozenset({"secretary"}))])
def test_only_the_secretary_in_office_or_an_admin_opens_lists_and_checks_in(uow, who) -> None:
    with pytest.raises(PermissionDenied):
        uc.open_to_observers(uow, who, "m1", 2, DEADLINE, NOW)
    open_m1(uow)
    for call in (lambda: uc.list_observers(uow, who, "m1", False, 0, "", NOW),
                 lambda: uc.check_in(uow, who, "m1", "AAAA-AAAA-AAAA", NOW)):
        with pytest.raises(PermissionDenied):
            call()
    uc.open_to_observers(uow, ADMIN, "m1", 3, DEADLINE, NOW)


def test_another_tenants_admin_finds_no_meeting(uow) -> None:
    open_m1(uow)
    with pytest.raises(NotFound) as e:
        uc.list_observers(uow, OTHER_ADMIN, "m1", False, 0, "", NOW)
    assert e.value.reason == "MEETING_NOT_FOUND"


def test_registration_rules_are_failed_preconditions_naming_the_rule_and_write_nothing(uow) -> None:
    uow.meetings.add("closed-only", items=(item("c", 1, "closed"),))
    with pytest.raises(FailedPrecondition) as no_open:
        uc.open_to_observers(uow, SECRETARY, "closed-only", 2, DEADLINE, NOW)
    assert no_open.value.reason == "NO_OPEN_ITEMS"
    with pytest.raises(FailedPrecondition) as not_open:
        uc.register_as_observer(uow, member(1), "m1", NOW)
    assert not_open.value.reason == "NOT_OPEN_TO_OBSERVERS"
    open_m1(uow)
    uow.members.lapsed.add("mem-1")
    uow.members.unknown.add("mem-2")
    before = (len(uow.published), uow.observers.snapshot())
    for who, when, reason in ((member(1), NOW, "NOT_IN_GOOD_STANDING"), (member(2), NOW, "NOT_IN_GOOD_STANDING"),
                              (member(3), DEADLINE + timedelta(seconds=1), "REGISTRATION_CLOSED")):
        with pytest.raises(FailedPrecondition) as e:
            uc.register_as_observer(uow, who, "m1", when)
        assert e.value.reason == reason
    assert (len(uow.published), uow.observers.snapshot()) == before
    uow.meetings.set_status("m1", "cancelled")
    with pytest.raises(FailedPrecondition) as cancelled:
        uc.register_as_observer(uow, member(3), "m1", NOW)
    assert cancelled.value.reason == "MEETING_NOT_SCHEDULED"


def test_registering_twice_is_already_exists(uow) -> None:
    open_m1(uow)
    uc.register_as_observer(uow, member(1), "m1", NOW)
    with pytest.raises(AlreadyExists) as e:
        uc.register_as_observer(uow, member(1), "m1", NOW)
    assert e.value.reason == "ALREADY_REGISTERED"


def test_opening_checks_seats_and_deadline_fields(uow) -> None:
    for seats, deadline, field, reason in (
            (0, DEADLINE, "seats", "INVALID_SEAT_LIMIT"),
            (2, None, "registration_deadline", "MISSING_DEADLINE"),
            (2, NOW - timedelta(hours=1), "registration_deadline", "DEADLINE_PASSED"),
            (2, NOW + timedelta(days=30), "registration_deadline", "DEADLINE_AFTER_START")):
        with pytest.raises(InvalidArgument) as e:
            uc.open_to_observers(uow, SECRETARY, "m1", seats, deadline, NOW)
        assert (e.value.field, e.value.reason) == (field, reason)
    assert uow.published == []


def test_lowering_the_limit_below_the_seats_taken_is_refused_and_raising_it_promotes(uow) -> None:
    open_m1(uow, 1)
    ids = [uc.register_as_observer(uow, member(n), "m1", NOW)[0].registration_id for n in range(3)]
    _, promoted = uc.open_to_observers(uow, SECRETARY, "m1", 2, DEADLINE, NOW)
    assert promoted == [ids[1]]
    with pytest.raises(FailedPrecondition) as e:
        uc.open_to_observers(uow, SECRETARY, "m1", 1, DEADLINE, NOW)
    assert e.value.reason == "SEATS_BELOW_TAKEN"


def test_a_member_sees_and_acts_on_their_own_registrations_only(uow) -> None:
    open_m1(uow)
    mine, _ = uc.register_as_observer(uow, member(1), "m1", NOW)
    uc.register_as_observer(uow, member(2), "m1", NOW)
    views, token = uc.list_my_registrations(uow, member(1), 0, "")
    assert [v.registration_id for v in views] == [mine.registration_id] and token == ""
    for call in (lambda: uc.cancel_registration(uow, member(2), mine.registration_id, NOW),
                 lambda: uc.reissue_code(uow, member(2), mine.registration_id, NOW)):
        with pytest.raises(PermissionDenied) as e:
            call()
        assert e.value.reason == "NOT_YOUR_REGISTRATION"
    uc.cancel_registration(uow, SECRETARY, mine.registration_id, NOW)  # the secretary may cancel anyone's


def test_the_secretary_lists_seats_then_the_waiting_list_in_pages(uow) -> None:
    open_m1(uow, 2)
    ids = [uc.register_as_observer(uow, member(n), "m1", NOW)[0].registration_id for n in range(5)]
    uc.cancel_registration(uow, member(3), ids[3], NOW)
    seen, token = [], ""
    while True:
        session, page, token = uc.list_observers(uow, SECRETARY, "m1", True, 2, token, NOW)
        seen.extend((v.registration_id, v.status, v.waiting_position) for v in page)
        if not token:
            break
    assert seen == [(ids[0], "seated", 0), (ids[1], "seated", 0), (ids[2], "waiting", 1), (ids[4], "waiting", 2),
                    (ids[3], "cancelled", 0)]
    assert (session.seats, session.seats_taken, session.waiting) == (2, 2, 2)
    with pytest.raises(InvalidArgument) as bad:
        uc.list_observers(uow, SECRETARY, "m1", True, 2, "not-a-token", NOW)
    assert bad.value.reason == "INVALID_PAGE_TOKEN"


def test_the_observer_agenda_lists_open_items_only_and_only_to_observers_and_the_board(uow) -> None:
    open_m1(uow)
    uc.register_as_observer(uow, member(1), "m1", NOW)
    agenda = uc.observer_agenda(uow, member(1), "m1")
    assert [i.item_id for i in agenda.items] == ["open-1"]
    assert "Personnel" not in repr(agenda)
    assert [i.item_id for i in uc.observer_agenda(uow, SECRETARY, "m1").items] == ["open-1"]
    with pytest.raises(PermissionDenied) as e:
        uc.observer_agenda(uow, member(9), "m1")
    assert e.value.reason == "NOT_AN_OBSERVER"


def test_check_in_needs_the_current_code_once(uow) -> None:
    open_m1(uow)
    r, code = uc.register_as_observer(uow, member(1), "m1", NOW)
    with pytest.raises(InvalidArgument):
        uc.check_in(uow, SECRETARY, "m1", "nope", NOW)
    assert uc.check_in(uow, ADMIN, "m1", code, NOW).checked_in_at == NOW
    with pytest.raises(FailedPrecondition) as twice:
        uc.check_in(uow, SECRETARY, "m1", code, NOW)
    assert twice.value.reason == "ALREADY_CHECKED_IN"
