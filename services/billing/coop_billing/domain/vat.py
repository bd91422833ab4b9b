"""VAT numbers and clients.

Every EU VAT number is checked in full, format AND check digits, by python-stdnum
(``stdnum.eu.vat``), a maintained library that follows each member state's algorithm: a
number with a wrong check key (FR99000000000) never gets reverse charge. The authoritative
test that a number is *registered* is a VIES lookup, which needs the network and belongs to
an adapter, not to the domain.

Normalisation removes spaces, dots and hyphens and upper-cases; Greece's VAT
prefix is "EL" (ISO code "GR"): "GR..." is accepted and normalised to "EL...".
Only the prefixes of EU member states are accepted (stdnum also knows "XI", Northern
Ireland, which is not an EU member state for our invoices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import exceptions as stdnum_errors
from stdnum.eu import vat as eu_vat

from coop_domain.errors import InvalidArgument

# ISO 3166-1 alpha-2 codes of the EU member states.
EU_COUNTRIES: frozenset[str] = frozenset(
    ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
)
# VAT prefixes of the EU member states (Greece writes EL).
EU_VAT_PREFIXES: frozenset[str] = frozenset("EL" if c == "GR" else c for c in EU_COUNTRIES)

_STRIP = re.compile(r"[\s.\-]")
_COUNTRY = re.compile(r"[A-Z]{2}\Z")


def vat_prefix_for_country(country: str) -> str:
    """VAT prefix of an ISO country code (only Greece differs: GR -> EL)."""
    return "EL" if country == "GR" else country


def country_for_vat_prefix(prefix: str) -> str:
    """ISO country code of a VAT prefix (EL -> GR)."""
    return "GR" if prefix == "EL" else prefix


def normalize_vat_number(raw: str) -> str:
    """Strip separators and upper-case: 'be 0403.170.701' -> 'BE0403170701'."""
    if not isinstance(raw, str):
        raise InvalidArgument("VAT number must be a string")
    value = _STRIP.sub("", raw).upper()
    if value.startswith("GR"):
        value = "EL" + value[2:]
    return value


def validate_vat_number(raw: str) -> str:
    """Return the normalised VAT number or raise InvalidArgument saying why."""
    value = normalize_vat_number(raw)
    prefix = value[:2]
    if prefix not in EU_VAT_PREFIXES:
        raise InvalidArgument(f"unknown or non-EU VAT prefix in {value!r}", {"field": "vat_number"}, reason="INVALID_VAT_NUMBER")
    try:
        eu_vat.validate(value)
    except stdnum_errors.InvalidChecksum:
        rule = "the mod-97 check" if prefix == "BE" else "its check digits"
        raise InvalidArgument(f"{prefix} VAT number {value!r} fails {rule}", {"field": "vat_number"}, reason="INVALID_VAT_NUMBER") from None
    except stdnum_errors.ValidationError:
        raise InvalidArgument(f"malformed {prefix} VAT number {value!r}", {"field": "vat_number"}, reason="INVALID_VAT_NUMBER") from None
    return value


def is_valid_vat_number(raw: str) -> bool:
    """Boolean form of :func:`validate_vat_number`."""
    try:
        validate_vat_number(raw)
    except InvalidArgument:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Client:
    """A client invoiced through the cooperative (value object).

    ``vat_number`` is stored normalised; it must belong to the client's country
    so that the reverse-charge rule (client VAT in another EU state) is sound.
    """

    name: str
    country: str
    address: str
    vat_number: str | None = None

    def __post_init__(self) -> None:
        name = (self.name or "").strip()
        if not name:
            raise InvalidArgument("client name is required", {"field": "name"}, reason="FIELD_REQUIRED")
        country = (self.country or "").strip().upper()
        if not _COUNTRY.match(country):
            raise InvalidArgument(
                f"country must be an ISO 3166-1 alpha-2 code, got {self.country!r}",
                {"field": "country"}, reason="INVALID_COUNTRY",
            )
        if country == "EL":
            country = "GR"
        address = (self.address or "").strip()
        if not address:
            raise InvalidArgument("client address is required", {"field": "address"}, reason="FIELD_REQUIRED")
        vat = self.vat_number
        if vat is not None and vat.strip() == "":
            vat = None
        if vat is not None:
            vat = validate_vat_number(vat)
            if country_for_vat_prefix(vat[:2]) != country:
                raise InvalidArgument(
                    f"VAT number {vat} does not belong to country {country}",
                    {"field": "vat_number"}, reason="VAT_NUMBER_OF_ANOTHER_COUNTRY",
                )
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "country", country)
        object.__setattr__(self, "address", address)
        object.__setattr__(self, "vat_number", vat)

    @property
    def in_eu(self) -> bool:
        """True when the client is established in an EU member state."""
        return self.country in EU_COUNTRIES

    def reverse_charge_allowed(self, supplier_country: str = "BE") -> bool:
        """Intra-EU reverse charge needs a VAT-registered client in ANOTHER EU state."""
        return self.vat_number is not None and self.in_eu and self.country != supplier_country
