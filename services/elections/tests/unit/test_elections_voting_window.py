"""Voting window in Brussels time, across the 2026 daylight-saving changes.

Europe/Brussels in 2026: summer time starts 29 March at 02:00 CET (01:00 UTC,
clocks jump to 03:00 CEST) and ends 25 October at 03:00 CEST (01:00 UTC,
clocks go back to 02:00 CET).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coop_domain.errors import InvalidArgument
from coop_elections.domain.window import VotingWindow, local_to_utc

BRU = ZoneInfo("Europe/Brussels")
SECOND = timedelta(seconds=1)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_close_on_spring_forward_day_is_17_00_cest_15_00_utc() -> None:
    w = VotingWindow(utc(2026, 3, 20, 8), date(2026, 3, 29), time(17, 0))
    assert w.closes_at == utc(2026, 3, 29, 15, 0)
    assert w.is_open(w.closes_at - SECOND)
    assert not w.is_open(w.closes_at)
    assert not w.is_open(w.closes_at + SECOND)


def test_close_on_fall_back_day_is_17_00_cet_16_00_utc() -> None:
    w = VotingWindow(utc(2026, 10, 20, 8), date(2026, 10, 25), time(17, 0))
    assert w.closes_at == utc(2026, 10, 25, 16, 0)
    assert w.is_open(utc(2026, 10, 25, 15, 59, 59))
    assert not w.is_open(utc(2026, 10, 25, 16, 0, 0))
    assert not w.is_open(utc(2026, 10, 25, 16, 0, 1))


def test_opening_right_after_the_spring_jump_one_second_before_and_after() -> None:
    opens = datetime(2026, 3, 29, 3, 0, tzinfo=BRU)  # first second of CEST
    w = VotingWindow(opens, date(2026, 4, 10), time(15, 0))
    assert w.opens_at == utc(2026, 3, 29, 1, 0)
    assert not w.is_open(utc(2026, 3, 29, 0, 59, 59))
    assert w.is_open(utc(2026, 3, 29, 1, 0, 0))
    assert w.is_open(utc(2026, 3, 29, 1, 0, 1))


def test_opening_in_the_repeated_autumn_hour_uses_the_instant_given() -> None:
    second_0230 = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BRU)  # 02:30 CET
    w = VotingWindow(second_0230, date(2026, 11, 2), time(17, 0))
    assert w.opens_at == utc(2026, 10, 25, 1, 30)
    assert not w.is_open(utc(2026, 10, 25, 1, 29, 59))
    assert w.is_open(utc(2026, 10, 25, 1, 30, 0))
    assert w.closes_at == utc(2026, 11, 2, 16, 0)  # CET again


def test_is_open_accepts_any_aware_datetime_not_only_utc() -> None:
    w = VotingWindow(utc(2026, 3, 20, 8), date(2026, 3, 29), time(17, 0))
    assert w.is_open(datetime(2026, 3, 29, 16, 59, 59, tzinfo=BRU))
    assert not w.is_open(datetime(2026, 3, 29, 17, 0, 0, tzinfo=BRU))


def test_closing_time_skipped_by_spring_forward_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="does not exist"):
        VotingWindow(utc(2026, 3, 20), date(2026, 3, 29), time(2, 30))


def test_closing_time_repeated_by_fall_back_means_the_first_occurrence() -> None:
    assert local_to_utc(date(2026, 10, 25), time(2, 30), "Europe/Brussels") == utc(
        2026, 10, 25, 0, 30
    )


def test_opening_exactly_15_days_before_assembly_is_allowed_one_second_earlier_is_not() -> None:
    earliest = utc(2026, 3, 23, 23, 0)  # 2026-03-24 00:00 CET
    assert VotingWindow.earliest_opening(date(2026, 4, 8)) == earliest
    VotingWindow(earliest, date(2026, 4, 8), time(17, 0))
    with pytest.raises(InvalidArgument, match="15 days"):
        VotingWindow(earliest - SECOND, date(2026, 4, 8), time(17, 0))


def test_fifteen_day_limit_across_the_spring_change_is_midnight_cet() -> None:
    # Assembly 13 April (CEST); the limit day 29 March starts before the jump, in CET.
    earliest = VotingWindow.earliest_opening(date(2026, 4, 13))
    assert earliest == utc(2026, 3, 28, 23, 0)
    VotingWindow(earliest, date(2026, 4, 13), time(17, 0))
    with pytest.raises(InvalidArgument):
        VotingWindow(earliest - SECOND, date(2026, 4, 13), time(17, 0))


def test_fifteen_day_limit_across_the_autumn_change_is_midnight_cest() -> None:
    earliest = VotingWindow.earliest_opening(date(2026, 11, 9))
    assert earliest == utc(2026, 10, 24, 22, 0)
    VotingWindow(earliest, date(2026, 11, 9), time(17, 0))
    with pytest.raises(InvalidArgument):
        VotingWindow(earliest - SECOND, date(2026, 11, 9), time(17, 0))


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        VotingWindow(datetime(2026, 3, 20, 8), date(2026, 3, 29), time(17, 0))
    w = VotingWindow(utc(2026, 3, 20, 8), date(2026, 3, 29), time(17, 0))
    with pytest.raises(InvalidArgument, match="timezone-aware"):
        w.is_open(datetime(2026, 3, 25, 12))


def test_opening_at_or_after_close_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="before it closes"):
        VotingWindow(utc(2026, 3, 29, 15, 0), date(2026, 3, 29), time(17, 0))


def test_unknown_time_zone_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="time zone"):
        VotingWindow(utc(2026, 3, 20), date(2026, 3, 29), time(17, 0), tz="Mars/Olympus")


def test_other_zone_can_be_configured_for_partners() -> None:
    w = VotingWindow(utc(2026, 3, 20), date(2026, 3, 29), time(17, 0), tz="America/Montreal")
    assert w.closes_at == utc(2026, 3, 29, 21, 0)  # EDT, UTC-4


def test_the_reminder_is_due_a_day_before_the_close_of_a_window_of_several_days() -> None:
    w = VotingWindow(utc(2026, 3, 20, 8), date(2026, 3, 29), time(17, 0))
    assert w.reminder_at(timedelta(hours=24)) == utc(2026, 3, 28, 15, 0)


def test_a_vote_shorter_than_two_days_is_reminded_halfway_never_with_its_invitation() -> None:
    # a vote held during the Assembly: open 13:00-17:00 Brussels time (summer: 11:00-15:00 UTC)
    w = VotingWindow(utc(2026, 6, 13, 11), date(2026, 6, 13), time(17, 0))
    assert w.reminder_at(timedelta(hours=24)) == utc(2026, 6, 13, 13, 0)
    assert w.reminder_at(timedelta(hours=24)) > w.opens_at
