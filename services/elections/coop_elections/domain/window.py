"""The voting window: open from a given instant until a local time on Assembly day.

Statutes speak in local wall-clock time ("votes close at 15:00 on the day of
the General Assembly, Brussels time"), so the close is stored as a date, a
local time and an IANA zone, and converted with :mod:`zoneinfo` — never with a
fixed UTC offset, which would be an hour off for half of the year.

* The window is half-open: open at ``opens_at`` exactly, closed at
  ``closes_at`` exactly (a ballot at the closing second is late).
* ``opens_at`` must be timezone-aware, before the close, and no earlier than
  00:00 local time 15 days before the Assembly day (early/remote voting is
  allowed "up to 15 days before the Assembly").
* A closing time that does not exist on that day (skipped by a spring-forward
  transition) is refused; one that happens twice (autumn fall-back) means the
  first occurrence, the earlier and so the stricter deadline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from coop_domain.clock import COOPERATIVE_TIME_ZONE
from coop_domain.errors import InvalidArgument

DEFAULT_TZ = COOPERATIVE_TIME_ZONE
MAX_EARLY_DAYS = 15


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidArgument(f"unknown time zone {name!r}", field="window.time_zone",
                              reason="UNKNOWN_TIME_ZONE") from exc


def local_to_utc(day: date, at: time, tz: str) -> datetime:
    """Wall-clock ``day at`` in ``tz`` as a UTC instant (first occurrence if repeated)."""
    zone = _zone(tz)
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0), tzinfo=zone)
    as_utc = local.astimezone(UTC)
    if as_utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise InvalidArgument(f"{day} {at} does not exist in {tz} (clock change)", field="window.closes_local",
                              reason="LOCAL_TIME_SKIPPED")
    return as_utc


def _require_aware(value: datetime, what: str, field: str | None = None) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{what} must be a timezone-aware datetime", field=field, reason="TIME_ZONE_MISSING")
    return value.astimezone(UTC)


def local_close(close_time: datetime, tz: str) -> tuple[date, time]:
    """The Assembly day and local closing time of a closing instant, in the election's zone: a
    client that knows the instant never has to work out the local date itself."""
    local = _require_aware(close_time, "close_time", "close_time").astimezone(_zone(tz))
    if local.second or local.microsecond:
        raise InvalidArgument("close_time must fall on a whole minute", field="close_time",
                              reason="CLOSE_TIME_NOT_A_MINUTE")
    return local.date(), local.time().replace(tzinfo=None, fold=0)


@dataclass(frozen=True)
class VotingWindow:
    """When ballots are accepted; construction validates the statutory limits."""

    opens_at: datetime
    assembly_day: date
    closes_local: time
    tz: str = DEFAULT_TZ

    def __post_init__(self) -> None:
        object.__setattr__(self, "opens_at", _require_aware(self.opens_at, "opening time", "window.opens_at"))
        earliest = self.earliest_opening(self.assembly_day, self.tz)
        if self.opens_at < earliest:
            raise InvalidArgument(
                f"voting may open at the earliest {MAX_EARLY_DAYS} days before the Assembly "
                f"({earliest.isoformat()})", field="window.opens_at", reason="OPENS_TOO_EARLY",
                earliest=earliest.isoformat())
        if self.opens_at >= self.closes_at:
            raise InvalidArgument("voting must open before it closes", field="window.opens_at",
                                  reason="OPENS_AFTER_CLOSE", closes_at=self.closes_at.isoformat())

    @staticmethod
    def earliest_opening(assembly_day: date, tz: str = DEFAULT_TZ) -> datetime:
        """00:00 local time, 15 days before the Assembly day, as UTC."""
        return local_to_utc(assembly_day - timedelta(days=MAX_EARLY_DAYS), time(0, 0), tz)

    @property
    def closes_at(self) -> datetime:
        """The closing instant in UTC."""
        return local_to_utc(self.assembly_day, self.closes_local, self.tz)

    def reminder_at(self, lead: timedelta) -> datetime:
        """When the reminder to those who have not voted (election.closing_soon) is due: `lead`
        before the close, but never in the first half of the window. An election open for less
        than twice the lead (a vote held during the Assembly itself) reminds its voters halfway
        through, not in the same instant as it invites them, when nobody could have voted yet."""
        return max(self.closes_at - lead, self.opens_at + (self.closes_at - self.opens_at) / 2)

    def is_open(self, now_utc: datetime) -> bool:
        """Whether a ballot cast at ``now_utc`` (aware) is on time."""
        now = _require_aware(now_utc, "now")
        return self.opens_at <= now < self.closes_at
