"""coop_platform.config.seconds_setting: every worker's timer interval is read and refused the
same way (one wording, naming the variable, its bounds and the text given)."""

from __future__ import annotations

import pytest

from coop_platform.config import seconds_setting


def test_an_unset_or_blank_interval_takes_the_default() -> None:
    assert seconds_setting("COOP_X_SECONDS", 15.0, environ={}) == 15.0
    assert seconds_setting("COOP_X_SECONDS", 15.0, environ={"COOP_X_SECONDS": "  "}) == 15.0
    assert seconds_setting("COOP_X_SECONDS", 15.0, value="") == 15.0


def test_a_given_interval_within_bounds_is_read_from_the_environment_or_the_value() -> None:
    assert seconds_setting("COOP_X_SECONDS", 15.0, environ={"COOP_X_SECONDS": "0.5"}) == 0.5
    assert seconds_setting("COOP_X_SECONDS", 15.0, value="3600") == 3600.0
    assert seconds_setting("COOP_X_SECONDS", 15.0, low=0.05, high=600, value="0.05") == 0.05


@pytest.mark.parametrize("text", ["0", "-1", "3600.5", "nan", "inf", "ten", "1e9"])
def test_a_non_number_or_out_of_bounds_interval_is_refused_naming_variable_bounds_and_text(text: str) -> None:
    with pytest.raises(ValueError) as refused:
        seconds_setting("COOP_X_SECONDS", 15.0, environ={"COOP_X_SECONDS": text})
    assert str(refused.value) == f"COOP_X_SECONDS must be a number of seconds between 0.1 and 3600, got {text!r}"

