"""Checks of request values every use case and message parser shares (each failure is
INVALID_ARGUMENT naming the field), kept pure so the service layer runs them itself."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation

from coop_domain.errors import FailedPrecondition, InvalidArgument

from .money import MAX_AMOUNT_CENTS

MAX_TEXT = 500
#: a NACE sector code: 90, 90.0, 90.01 or 90.01.1
NACE = re.compile(r"\d{2}(?:\.\d{1,2}(?:\.\d)?)?\Z")


def parse_uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidArgument(f"{name} {value!r} is not a UUID", field=name, reason="NOT_A_UUID") from None


def parse_date(value: str, name: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except (ValueError, TypeError):
        raise InvalidArgument(f"{name} {value!r} is not an ISO date (YYYY-MM-DD)", field=name, reason="NOT_A_DATE") from None
    if not 1990 <= parsed.year <= 2200:
        raise InvalidArgument(f"{name} {value} is outside 1990..2200", field=name, reason="DATE_OUT_OF_RANGE")
    return parsed


def parse_optional_date(value: str, name: str) -> date | None:
    return parse_date(value, name) if value else None


def check_text(value: str, name: str, *, limit: int = MAX_TEXT) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidArgument(f"{name} is required", field=name, reason="FIELD_REQUIRED")
    if len(text) > limit:
        raise InvalidArgument(f"{name} is longer than {limit} characters", field=name, reason="TEXT_TOO_LONG",
                              limit=limit)
    if "\x00" in text:
        raise InvalidArgument(f"{name} contains a NUL character", field=name, reason="TEXT_HAS_NUL")
    return text


def parse_decimal(value: str, name: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, AttributeError):
        raise InvalidArgument(f"{name} {value!r} is not a decimal number", field=name, reason="NOT_A_DECIMAL") from None
    if not number.is_finite():
        raise InvalidArgument(f"{name} must be finite", field=name, reason="NOT_A_DECIMAL")
    return number


MAX_CENTS = MAX_AMOUNT_CENTS
INT64_MAX = 2**63 - 1


def check_cents(value: int, name: str, *, allow_zero: bool = False) -> int:
    if value < 0 or (not allow_zero and value == 0):
        raise InvalidArgument(f"{name} must be {'positive' if not allow_zero else '>= 0'}", field=name,
                              reason="AMOUNT_NOT_POSITIVE" if not allow_zero else "AMOUNT_NEGATIVE")
    if value > MAX_CENTS:
        raise InvalidArgument(f"{name} {value} is absurdly large (max {MAX_CENTS})", field=name,
                              reason="AMOUNT_TOO_LARGE", max_cents=MAX_CENTS)
    return value


def int64(value: int, name: str) -> int:
    """A stored sum as the API's int64 carries it; FailedPrecondition (never INTERNAL) for a sum
    that does not fit, which the caps on each document make practically unreachable."""
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise FailedPrecondition(f"{name} ({value} cents) does not fit the API's 64-bit integers",
                                 reason="SUM_TOO_LARGE", figure=name)
    return value
