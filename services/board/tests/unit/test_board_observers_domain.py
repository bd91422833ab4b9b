"""Observer seats, the waiting list and check-in codes (domain/observers.py), without storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coop_board.domain.observers import (
    CANCELLED,
    CODE_ALPHABET,
    SEATED,
    WAITING,
    ObserverSession,
    hash_code,
    new_check_in_code,
    normalize_code,
)
from coop_domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def session(seats: int = 2) -> ObserverSession:
    return ObserverSession("coop", "m1", seats, NOW + timedelta(days=5), NOW + timedelta(days=7), "sec", NOW)


def test_registrations_are_seated_up_to_the_limit_then_wait_in_registration_order() -> None:
    s = session(2)
    regs = [s.register(f"r{n}", f"m{n}", NOW) for n in range(5)]
    assert [r.status for r in regs] == [SEATED, SEATED, WAITING, WAITING, WAITING]
    assert [r.registration_id for r in s.waiting()] == ["r2", "r3", "r4"]
    assert [s.waiting_position(f"r{n}") for n in range(5)] == [0, 0, 1, 2, 3]


def test_cancelling_a_seat_promotes_the_first_member_waiting() -> None:
    s = session(1)
    for n in range(3):
        s.register(f"r{n}", f"m{n}", NOW)
    cancelled, promoted = s.cancel("r0", "m0", NOW)
    assert cancelled.status == CANCELLED and cancelled.code_hash is None
    assert promoted is not None and promoted.registration_id == "r1" and promoted.status == SEATED
    assert promoted.promoted_at == NOW
    assert [r.registration_id for r in s.waiting()] == ["r2"]


def test_cancelling_a_place_on_the_waiting_list_promotes_nobody() -> None:
    s = session(1)
    for n in range(3):
        s.register(f"r{n}", f"m{n}", NOW)
    _, promoted = s.cancel("r1", "m1", NOW)
    assert promoted is None
    assert [r.registration_id for r in s.seated()] == ["r0"]
    assert s.waiting_position("r2") == 1


def test_a_member_registers_once_per_meeting_but_again_after_cancelling_at_the_end_of_the_list() -> None:
    s = session(1)
    s.register("r0", "m0", NOW)
    s.register("r1", "m1", NOW)
    with pytest.raises(AlreadyExists) as e:
        s.register("r2", "m0", NOW)
    assert e.value.reason == "ALREADY_REGISTERED"
    s.cancel("r0", "m0", NOW)
    again = s.register("r3", "m0", NOW)
    assert again.status == WAITING and again.sequence > s.registrations["r1"].sequence


def test_no_registration_after_the_deadline() -> None:
    s = session()
    with pytest.raises(FailedPrecondition) as e:
        s.register("r0", "m0", s.registration_deadline + timedelta(seconds=1))
    assert e.value.reason == "REGISTRATION_CLOSED"


def test_raising_the_limit_seats_the_waiting_list_in_order_and_it_never_goes_below_the_seats_taken() -> None:
    s = session(1)
    for n in range(4):
        s.register(f"r{n}", f"m{n}", NOW)
    promoted = s.change(3, s.registration_deadline, s.meeting_starts_at, NOW)
    assert [r.registration_id for r in promoted] == ["r1", "r2"]
    with pytest.raises(FailedPrecondition) as e:
        s.change(2, s.registration_deadline, s.meeting_starts_at, NOW)
    assert e.value.reason == "SEATS_BELOW_TAKEN"
    with pytest.raises(InvalidArgument) as bad:
        s.change(0, s.registration_deadline, s.meeting_starts_at, NOW)
    assert bad.value.field == "seats" and bad.value.reason == "INVALID_SEAT_LIMIT"


def test_no_cancellation_once_the_meeting_started_and_none_twice() -> None:
    s = session(1)
    s.register("r0", "m0", NOW)
    with pytest.raises(FailedPrecondition) as started:
        s.cancel("r0", "m0", s.meeting_starts_at)
    assert started.value.reason == "MEETING_STARTED"
    s.cancel("r0", "m0", NOW)
    with pytest.raises(FailedPrecondition) as twice:
        s.cancel("r0", "m0", NOW)
    assert twice.value.reason == "ALREADY_CANCELLED"


def test_codes_are_random_twelve_symbols_and_only_their_hash_is_kept() -> None:
    codes = {new_check_in_code() for _ in range(200)}
    assert len(codes) == 200
    for code in list(codes)[:20]:
        assert len(code) == 14 and code.count("-") == 2
        assert all(ch in CODE_ALPHABET for ch in code.replace("-", ""))
    s = session(1)
    s.register("r0", "m0", NOW)
    code = s.issue_code("r0", NOW)
    stored = s.registrations["r0"].code_hash
    assert stored == hash_code("coop", "m1", code) and code not in stored
    assert hash_code("coop", "m2", code) != stored  # the meeting is part of the hash


def test_a_code_is_read_whatever_its_case_dashes_and_confusable_letters() -> None:
    assert normalize_code("abcd efgh-jkmn") == "ABCDEFGHJKMN"
    assert normalize_code("O1IL-0000-0000") == "0111" + "0" * 8
    for bad in ("", "ABC", "ABCD-EFGH-JKMU", "ABCD-EFGH-JKMN-P"):
        with pytest.raises(InvalidArgument) as e:
            normalize_code(bad)
        assert e.value.field == "check_in_code" and e.value.reason == "INVALID_CHECK_IN_CODE"


def test_check_in_takes_the_current_code_once_and_a_reissued_code_replaces_the_old_one() -> None:
    s = session(1)
    s.register("r0", "m0", NOW)
    old = s.issue_code("r0", NOW)
    new = s.issue_code("r0", NOW)
    with pytest.raises(NotFound) as unknown:
        s.check_in(old, "sec", NOW)
    assert unknown.value.reason == "CHECK_IN_CODE_UNKNOWN"
    assert s.check_in(new.lower(), "sec", NOW).checked_in_at == NOW
    with pytest.raises(FailedPrecondition) as twice:
        s.check_in(new, "sec", NOW)
    assert twice.value.reason == "ALREADY_CHECKED_IN"


def test_only_a_seated_observer_gets_a_code() -> None:
    s = session(1)
    s.register("r0", "m0", NOW)
    s.register("r1", "m1", NOW)
    with pytest.raises(FailedPrecondition) as e:
        s.issue_code("r1", NOW)
    assert e.value.reason == "NOT_SEATED"


def test_the_gauge_refresh_interval_is_a_bounded_setting() -> None:
    from coop_board.adapters.metrics_observers import gauge_interval

    assert gauge_interval("") == 30.0 and gauge_interval("5") == 5.0
    for bad in ("0", "7200"):
        with pytest.raises(ValueError):
            gauge_interval(bad)
