"""The initiatives' settings: the three durations take days or a unit (docs/board.md, Settings)."""

from datetime import timedelta

import pytest

from coop_board.domain.initiatives import InitiativeRules
from coop_board.entrypoints.settings_initiatives import initiative_rules


def test_defaults_are_fourteen_ninety_and_thirty_days() -> None:
    rules = initiative_rules({})
    assert (rules.admissibility, rules.collection, rules.outcome) == (
        timedelta(days=14), timedelta(days=90), timedelta(days=30))
    assert rules == InitiativeRules()


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
