"""Digests: digestible notices (minutes, decisions) gathered into one e-mail per member and
period, daily or weekly as the member prefers. A digest is itself a delivery row whose event id
names the member's period, so the ledger's uniqueness makes it at most one per member and period,
even with two digest jobs at once."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from coop_domain.errors import InvalidArgument

FREQUENCIES = ("daily", "weekly")
DEFAULT_FREQUENCY = "daily"


def parse_frequency(value: str) -> str:
    if value not in FREQUENCIES:
        raise InvalidArgument(f"frequency must be daily or weekly, not {value!r}", field="frequency")
    return value


def period_start(frequency: str, now: datetime) -> date:
    """The first day of the period that ended last (UTC): yesterday, or last week's Monday."""
    today = now.date()
    if frequency == "weekly":
        this_monday = today - timedelta(days=today.weekday())
        return this_monday - timedelta(days=7)
    return today - timedelta(days=1)


def period_end(frequency: str, start: date) -> date:
    return start + timedelta(days=7 if frequency == "weekly" else 1)


def digest_event_id(tenant: str, member_id: str, frequency: str, start: date) -> str:
    return f"digest:{tenant}:{frequency}:{start.isoformat()}:{member_id}"
