"""Events of the minutes family (adapters/events_out_minutes.py names and translates them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class MinutesPublished:
    """minutes.published: ids and dates only, never a text (a closed item's content never
    reaches an event)."""

    minutes_id: str
    tenant: str
    meeting_id: str
    meeting_date: date
    published_at: datetime
    erratum_of: str | None = None
