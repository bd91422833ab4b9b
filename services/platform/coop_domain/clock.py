"""Time as the domains see it: aware UTC datetimes, from a clock a test can hold still."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

#: The cooperative's own time zone: where "the Assembly's day" or "a voting day" is a date
#: (a partner in another zone sets its elections' window.time_zone; the board keeps this one).
COOPERATIVE_TIME_ZONE = "Europe/Brussels"


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the one `now` every service uses."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """An aware datetime in UTC; a naive one (SQLite hands those back) is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_date(value: datetime, zone: str = COOPERATIVE_TIME_ZONE) -> date:
    """The calendar day `value` falls on in `zone` (23:30 UTC in June is the next day in Brussels)."""
    return as_utc(value).astimezone(ZoneInfo(zone)).date()


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()


class FixedClock:
    """A clock for tests: it says `at` until moved. Calling it is `now()`, so it also serves where
    an api takes a `Callable[[], datetime]`; a lock keeps a move atomic for a server's threads."""

    def __init__(self, at: datetime) -> None:
        self._lock = threading.Lock()
        self.at = as_utc(at)

    def now(self) -> datetime:
        with self._lock:
            return self.at

    __call__ = now

    def set(self, at: datetime) -> None:
        with self._lock:
            self.at = as_utc(at)

    def advance(self, **delta: float) -> datetime:
        with self._lock:
            self.at += timedelta(**delta)
            return self.at
