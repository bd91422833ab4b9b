"""The initiatives' settings (entrypoints/settings_initiatives.py): defaults, the two forms of
the threshold, the three durations in days or with a unit, and a bad value named at start."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coop_board.domain.initiatives import InitiativeRules
from coop_board.entrypoints.settings_initiatives import initiative_rules


def test_the_defaults_are_three_promoters_and_five_percent() -> None:
    rules = initiative_rules({})
    assert (rules.promoters, rules.admissibility, rules.collection) == (3, timedelta(days=14), timedelta(days=90))
    assert (rules.threshold_count, rules.threshold_percent) == (None, 5.0)
    assert (rules.max_delay_days, rules.outcome) == (60, timedelta(days=30))
    assert rules.threshold(41_702) == 2086
    assert rules == InitiativeRules()


def test_the_threshold_is_a_number_or_a_percentage() -> None:
    assert initiative_rules({"COOP_BOARD_INITIATIVE_THRESHOLD": "1500"}).threshold(41_702) == 1500
    assert initiative_rules({"COOP_BOARD_INITIATIVE_THRESHOLD": "2.5%"}).threshold(41_702) == 1043


@pytest.mark.parametrize("name, value", [
    ("COOP_BOARD_INITIATIVE_THRESHOLD", "0"), ("COOP_BOARD_INITIATIVE_THRESHOLD", "150%"),
    ("COOP_BOARD_INITIATIVE_THRESHOLD", "many"), ("COOP_BOARD_INITIATIVE_PROMOTERS", "-1"),
    ("COOP_BOARD_INITIATIVE_COLLECTION_DAYS", "0"), ("COOP_BOARD_INITIATIVE_OUTCOME_DAYS", "ten"),
])
def test_a_bad_value_stops_the_process_with_the_variable_named(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        initiative_rules({name: value})


@pytest.mark.parametrize(("raw", "expected"), [
    ("7", timedelta(days=7)), ("45s", timedelta(seconds=45)), ("10m", timedelta(minutes=10)),
    ("2h", timedelta(hours=2)), ("3d", timedelta(days=3)), (" 12 S ", timedelta(seconds=12)),
    ("3650d", timedelta(days=3650))])
def test_a_plain_number_is_days_and_a_unit_says_otherwise(raw: str, expected: timedelta) -> None:
    env = {f"COOP_BOARD_INITIATIVE_{n}_DAYS": raw for n in ("ADMISSIBILITY", "COLLECTION", "OUTCOME")}
    rules = initiative_rules(env)
    assert rules.admissibility == rules.collection == rules.outcome == expected


@pytest.mark.parametrize("raw", ["0", "0s", "-3", "1.5d", "3w", "d", "days", "3651", "99999999999999999d"])
@pytest.mark.parametrize("name", ["ADMISSIBILITY", "COLLECTION", "OUTCOME"])
def test_a_bad_duration_stops_the_process_naming_the_setting(name: str, raw: str) -> None:
    setting = f"COOP_BOARD_INITIATIVE_{name}_DAYS"
    with pytest.raises(ValueError, match=setting):
        initiative_rules({setting: raw})


def test_the_maximum_delay_stays_whole_days() -> None:
    assert initiative_rules({"COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS": "5"}).max_delay_days == 5
    with pytest.raises(ValueError, match="COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS"):
        initiative_rules({"COOP_BOARD_INITIATIVE_MAX_DELAY_DAYS": "45s"})
