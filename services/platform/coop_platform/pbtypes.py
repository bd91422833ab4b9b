"""Well-known protobuf types to and from Python, once for every service's adapters:
Timestamp <-> aware datetime, google.type.Date <-> date, FieldMask paths checked."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime

from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp
from google.type.date_pb2 import Date

from coop_domain.errors import InvalidArgument


def to_timestamp(value: datetime | None) -> Timestamp | None:
    """None stays None (an unset message field); a naive datetime is taken as UTC."""
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))
    return ts


def from_timestamp(value: Timestamp, *, field: str = "", required: bool = False) -> datetime | None:
    """An aware UTC datetime; an unset Timestamp (0 s, 0 ns) is None, or refused if required."""
    if value.seconds == 0 and value.nanos == 0:
        if required:
            raise InvalidArgument(f"{field} is required", field=field, reason="FIELD_REQUIRED")
        return None
    try:
        return value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(f"{field} is not a valid instant", field=field, reason="INVALID_TIMESTAMP") from exc


def to_date(value: date | None) -> Date | None:
    return None if value is None else Date(year=value.year, month=value.month, day=value.day)


def from_date(value: Date, *, field: str = "", required: bool = False) -> date | None:
    """A full calendar date; an unset Date (all zero) is None, or refused if required. Partial
    dates (a year alone) are refused: every date of this platform is a day."""
    if value.year == 0 and value.month == 0 and value.day == 0:
        if required:
            raise InvalidArgument(f"{field} is required", field=field, reason="FIELD_REQUIRED")
        return None
    try:
        return date(value.year, value.month, value.day)
    except ValueError as exc:
        raise InvalidArgument(f"{field} is not a calendar date ({value.year:04d}-{value.month:02d}-"
                              f"{value.day:02d})", field=field, reason="INVALID_DATE") from exc


def mask_paths(mask: FieldMask, allowed: Iterable[str], *, field: str = "update_mask") -> list[str]:
    """The paths of an update mask, each checked against the fields that may be updated (AIP-134);
    an empty mask is refused rather than read as "everything"."""
    allowed = set(allowed)
    paths = list(mask.paths)
    if not paths:
        raise InvalidArgument(f"{field} names no field to update", field=field, reason="EMPTY_UPDATE_MASK")
    unknown = sorted(set(paths) - allowed)
    if unknown:
        raise InvalidArgument(f"{field} names fields that cannot be updated: {', '.join(unknown)} "
                              f"(allowed: {', '.join(sorted(allowed))})", field=field, reason="FIELD_NOT_UPDATABLE")
    return paths
