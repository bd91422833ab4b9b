"""The roster's settings are read from the environment, checked, and handed to the domain."""

import pytest

from coop_board.domain.roster import CompositionRule
from coop_board.entrypoints.roster_settings import roster_settings


def test_defaults_are_twenty_seats_a_user_majority_and_the_coops_elections() -> None:
    s = roster_settings({})
    assert (len(s.seats), s.seats[0], s.seats[-1]) == (20, "seat-01", "seat-20")
    assert s.rule == CompositionRule() and s.election_tenants == ("coop",) and s.assembly_slack_days == 31


def test_settings_from_the_environment() -> None:
    s = roster_settings({"COOP_BOARD_SEATS": "9", "COOP_BOARD_COMPOSITION": "max_permanent_staff=2",
                         "COOP_BOARD_ELECTION_TENANTS": "coop, sister", "COOP_BOARD_TERM_ENDS_AT_ASSEMBLY_DAYS": "0"})
    assert len(s.seats) == 9 and s.rule.max_permanent_staff == 2 and s.election_tenants == ("coop", "sister")
    assert s.assembly_slack_days == 0


@pytest.mark.parametrize(("name", "value"), [("COOP_BOARD_SEATS", "0"), ("COOP_BOARD_SEATS", "many"),
                                             ("COOP_BOARD_COMPOSITION", "max_permanent_staff=x"),
                                             ("COOP_BOARD_TERM_ENDS_AT_ASSEMBLY_DAYS", "-3")])
def test_a_bad_setting_stops_the_process_naming_it(name, value) -> None:
    with pytest.raises(ValueError, match=name):
        roster_settings({name: value})
