"""Repositories the roster use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol


class RosterRepository(Protocol):
    """Mandates, seats, officers and appointments (filled in by the roster work)."""


class MemberStandingRepository(Protocol):
    """The projection of membership's events: category and good standing per member."""
