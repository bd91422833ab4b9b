"""The initiatives' settings (entrypoints/settings_initiatives.py): defaults, the two forms of
the threshold, and a bad value named at start."""

from __future__ import annotations

import pytest

from coop_board.entrypoints.settings_initiatives import initiative_rules


def test_the_defaults_are_three_promoters_and_five_percent() -> None:
    rules = initiative_rules({})
    assert (rules.promoters, rules.admissibility_days, rules.collection_days) == (3, 14, 90)
    assert (rules.threshold_count, rules.threshold_percent) == (None, 5.0)
    assert (rules.max_delay_days, rules.outcome_days) == (60, 30)
    assert rules.threshold(41_702) == 2086


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
