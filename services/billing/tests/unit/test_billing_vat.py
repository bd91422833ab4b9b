"""VAT number validation and the Client value object."""

import pytest

from coop_billing.domain.vat import (
    Client,
    is_valid_vat_number,
    normalize_vat_number,
    validate_vat_number,
)
from coop_domain.errors import InvalidArgument

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


def test_a_belgian_number_failing_its_check_says_mod_97():
    with pytest.raises(InvalidArgument, match="mod-97"):
        validate_vat_number("BE0403170702")


def test_normalisation_strips_spaces_dots_hyphens_and_uppercases():
    assert normalize_vat_number(" be 0403.170.701 ") == "BE0403170701"
    assert normalize_vat_number("nl-004495445-b01") == "NL004495445B01"
    assert validate_vat_number("be0403.170.701") == "BE0403170701"


def test_greek_numbers_accept_gr_and_normalise_to_el_prefix():
    assert validate_vat_number("GR094259216") == "EL094259216"
    assert validate_vat_number("EL 094 259 216") == "EL094259216"


# One valid number per member state (python-stdnum's own examples: format and check digits right).
VALID_EU = [
    "ATU13585627", "BE0403019261", "BG175074752", "CY10259033P", "CZ25123891", "CZ7103192745",
    "DE136695976", "DK13585628", "EE100931558", "EL094259216", "ESB58378431", "ES54362315K",
    "FI20774740", "FR40303265045", "FRK7399859412", "HR33392005961", "HU12892312", "IE6433435F",
    "IE6433435OA", "IE8D79739I", "IT00743110157", "LT119511515", "LT100001919017", "LU15027442",
    "LV40003521600", "MT11679112", "NL004495445B01", "PL8567346215", "PT501964843", "RO18547290",
    "RO1630615123457", "SE123456789701", "SI50223054", "SK2022749619",
]


@pytest.mark.parametrize("number", VALID_EU)
def test_eu_numbers_with_the_right_format_and_check_digits_are_valid(number):
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
        "XI123456782",  # Northern Ireland: known to stdnum, not an EU member state here
        "",
    ],
)
def test_malformed_or_non_eu_numbers_are_invalid(number):
    assert not is_valid_vat_number(number)


@pytest.mark.parametrize(
    "number",
    [
        "FR99000000000",  # the key 99 does not match the SIREN: the example
        "ATU12345678", "DE123456789", "DK12345678", "EL123456789", "IT00743110158",
        "NL123456789B01", "PL1234567890", "PT501964842", "FRAB123456789", "RO12",
    ],
)
def test_foreign_numbers_with_the_right_format_but_wrong_check_digits_are_invalid(number):
    with pytest.raises(InvalidArgument, match="check digits"):
        validate_vat_number(number)


def test_a_client_with_a_wrong_foreign_check_key_never_gets_reverse_charge():
    with pytest.raises(InvalidArgument):
        Client("Faux SARL", "FR", "Paris", "FR99000000000")
    assert Client("Vrai SA", "FR", "Paris", "FR40303265045").reverse_charge_allowed()


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
    c = Client("Athens Ltd", "GR", "Athens", "EL094259216")
    assert c.country == "GR" and c.reverse_charge_allowed()


def test_reverse_charge_needs_vat_number_in_another_eu_state():
    assert Client("X", "DE", "Berlin", "DE136695976").reverse_charge_allowed()
    assert not Client("X", "DE", "Berlin").reverse_charge_allowed()
    assert not Client("X", "BE", "Liège", "BE0403170701").reverse_charge_allowed()
    assert not Client("X", "US", "NYC").reverse_charge_allowed()
