"""VAT number validation and the Client value object."""

import pytest

from coop_billing.domain.errors import InvalidArgument
from coop_billing.domain.vat import (
    Client,
    belgian_check_digits_ok,
    is_valid_vat_number,
    normalize_vat_number,
    validate_vat_number,
)

VALID_BE = ["BE0403170701", "BE0417497106", "BE0874097781", "BE1234567894", "BE1000000021"]


@pytest.mark.parametrize("number", VALID_BE)
def test_belgian_numbers_with_correct_mod97_check_are_valid(number):
    digits = number[2:]
    assert 97 - int(digits[:8]) % 97 == int(digits[8:])  # the examples really are valid
    assert validate_vat_number(number) == number


@pytest.mark.parametrize(
    "number",
    [
        "BE0403170702",  # wrong check digits
        "BE0403170710",  # swapped check digits
        "BE1403170701",  # first digit changed, check no longer matches
        "BE2403170701",  # first digit must be 0 or 1
        "BE040317070",  # 9 digits
        "BE04031707011",  # 11 digits
        "BE04031707A1",
    ],
)
def test_belgian_numbers_failing_format_or_check_are_invalid(number):
    assert not is_valid_vat_number(number)
    with pytest.raises(InvalidArgument):
        validate_vat_number(number)


def test_belgian_check_function_rejects_wrong_length_and_leading_digit():
    assert belgian_check_digits_ok("0403170701")
    assert not belgian_check_digits_ok("403170701")
    assert not belgian_check_digits_ok("2403170701")


def test_normalisation_strips_spaces_dots_hyphens_and_uppercases():
    assert normalize_vat_number(" be 0403.170.701 ") == "BE0403170701"
    assert normalize_vat_number("nl-123456789-b01") == "NL123456789B01"
    assert validate_vat_number("be0403.170.701") == "BE0403170701"


def test_greek_numbers_accept_gr_and_normalise_to_el_prefix():
    assert validate_vat_number("GR123456789") == "EL123456789"
    assert validate_vat_number("EL 123 456 789") == "EL123456789"


@pytest.mark.parametrize(
    "number",
    [
        "ATU12345678", "BG123456789", "BG1234567890", "CY12345678L", "CZ12345678", "CZ1234567890",
        "DE123456789", "DK12345678", "EE123456789", "EL123456789", "ESA1234567B", "ES12345678Z",
        "FI12345678", "FR40303265045", "FRAB123456789", "HR12345678901", "HU12345678",
        "IE1234567T", "IE1234567WA", "IE8Z49289F", "IT12345678901", "LT123456789",
        "LT123456789012", "LU12345678", "LV12345678901", "MT12345678", "NL123456789B01",
        "PL1234567890", "PT123456789", "RO12", "RO1234567890", "SE123456789701", "SI12345678",
        "SK1234567890",
    ],
)
def test_other_eu_numbers_with_the_right_format_are_valid(number):
    assert validate_vat_number(number) == number


@pytest.mark.parametrize(
    "number",
    [
        "AT12345678",  # missing U
        "DE12345678",  # 8 digits
        "NL123456789A01",
        "FRIO123456789",  # I and O not allowed in the key
        "SE123456789702",  # must end in 01
        "RO0123456",  # no leading zero
        "SI01234567",
        "XX123456789",  # not EU
        "US123456789",
        "GB123456789",  # no longer EU
        "",
    ],
)
def test_malformed_or_non_eu_numbers_are_invalid(number):
    assert not is_valid_vat_number(number)


def test_client_normalises_country_and_vat_number():
    c = Client("  Studio Nord ", "be", " Rue X 1, 1000 Bruxelles ", "be 0403.170.701")
    assert (c.name, c.country, c.address, c.vat_number) == (
        "Studio Nord", "BE", "Rue X 1, 1000 Bruxelles", "BE0403170701"
    )
    assert c.in_eu


def test_client_without_vat_number_is_allowed_and_blank_means_none():
    assert Client("Jane", "BE", "Somewhere").vat_number is None
    assert Client("Jane", "BE", "Somewhere", "  ").vat_number is None


@pytest.mark.parametrize(
    ("name", "country", "address", "vat"),
    [
        ("", "BE", "addr", None),
        ("X", "BEL", "addr", None),
        ("X", "B1", "addr", None),
        ("X", "BE", "", None),
        ("X", "BE", "addr", "BE0403170702"),
        ("X", "FR", "addr", "BE0403170701"),  # VAT of another country
    ],
)
def test_client_rejects_invalid_fields(name, country, address, vat):
    with pytest.raises(InvalidArgument):
        Client(name, country, address, vat)


def test_greek_client_with_el_vat_number_matches_country_gr():
    c = Client("Athens Ltd", "GR", "Athens", "EL123456789")
    assert c.country == "GR" and c.reverse_charge_allowed()


def test_reverse_charge_needs_vat_number_in_another_eu_state():
    assert Client("X", "DE", "Berlin", "DE123456789").reverse_charge_allowed()
    assert not Client("X", "DE", "Berlin").reverse_charge_allowed()
    assert not Client("X", "BE", "Liège", "BE0403170701").reverse_charge_allowed()
    assert not Client("X", "US", "NYC").reverse_charge_allowed()
