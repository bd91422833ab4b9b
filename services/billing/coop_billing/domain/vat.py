"""VAT numbers and clients.

Belgian numbers are checked fully (format and mod-97 check digits: the
cooperative itself and most clients are Belgian, and a wrong number voids the
invoice's VAT treatment). Other EU numbers are checked by FORMAT only: their
check-digit algorithms vary per country and the authoritative test is a VIES
lookup, which belongs to an adapter, not to the domain.

Normalisation removes spaces, dots and hyphens and upper-cases; Greece's VAT
prefix is "EL" (ISO code "GR"): "GR..." is accepted and normalised to "EL...".
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import InvalidArgument

# ISO 3166-1 alpha-2 codes of the EU member states.
EU_COUNTRIES: frozenset[str] = frozenset(
    ["AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"]
)

# VAT prefix -> pattern of the part after the prefix (format only, except BE).
_VAT_PATTERNS: dict[str, re.Pattern[str]] = {
    code: re.compile(rf"(?:{pattern})\Z")
    for code, pattern in {
        "AT": r"U\d{8}",
        "BE": r"[01]\d{9}",
        "BG": r"\d{9,10}",
        "CY": r"\d{8}[A-Z]",
        "CZ": r"\d{8,10}",
        "DE": r"\d{9}",
        "DK": r"\d{8}",
        "EE": r"\d{9}",
        "EL": r"\d{9}",
        "ES": r"[A-Z0-9]\d{7}[A-Z0-9]",
        "FI": r"\d{8}",
        "FR": r"[0-9A-HJ-NP-Z]{2}\d{9}",
        "HR": r"\d{11}",
        "HU": r"\d{8}",
        "IE": r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]",
        "IT": r"\d{11}",
        "LT": r"\d{9}|\d{12}",
        "LU": r"\d{8}",
        "LV": r"\d{11}",
        "MT": r"\d{8}",
        "NL": r"\d{9}B\d{2}",
        "PL": r"\d{10}",
        "PT": r"\d{9}",
        "RO": r"[1-9]\d{1,9}",
        "SE": r"\d{10}01",
        "SI": r"[1-9]\d{7}",
        "SK": r"[1-9]\d{9}",
    }.items()
}

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


def belgian_check_digits_ok(digits: str) -> bool:
    """Mod-97 check on the 10 digits of a Belgian enterprise number.

    The last two digits must equal ``97 - (first eight digits mod 97)``.
    """
    if len(digits) != 10 or not digits.isdigit() or digits[0] not in "01":
        return False
    return 97 - int(digits[:8]) % 97 == int(digits[8:])


def validate_vat_number(raw: str) -> str:
    """Return the normalised VAT number or raise InvalidArgument saying why."""
    value = normalize_vat_number(raw)
    prefix, body = value[:2], value[2:]
    pattern = _VAT_PATTERNS.get(prefix)
    if pattern is None:
        raise InvalidArgument(f"unknown or non-EU VAT prefix in {value!r}", {"field": "vat_number"})
    if not pattern.match(body):
        raise InvalidArgument(f"malformed {prefix} VAT number {value!r}", {"field": "vat_number"})
    if prefix == "BE" and not belgian_check_digits_ok(body):
        raise InvalidArgument(
            f"Belgian VAT number {value!r} fails the mod-97 check", {"field": "vat_number"}
        )
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
            raise InvalidArgument("client name is required", {"field": "name"})
        country = (self.country or "").strip().upper()
        if not _COUNTRY.match(country):
            raise InvalidArgument(
                f"country must be an ISO 3166-1 alpha-2 code, got {self.country!r}",
                {"field": "country"},
            )
        if country == "EL":
            country = "GR"
        address = (self.address or "").strip()
        if not address:
            raise InvalidArgument("client address is required", {"field": "address"})
        vat = self.vat_number
        if vat is not None and vat.strip() == "":
            vat = None
        if vat is not None:
            vat = validate_vat_number(vat)
            if country_for_vat_prefix(vat[:2]) != country:
                raise InvalidArgument(
                    f"VAT number {vat} does not belong to country {country}",
                    {"field": "vat_number"},
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
