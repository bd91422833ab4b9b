"""Repositories the observers use cases need (service_layer/ports.py assembles them)."""

from __future__ import annotations

from typing import Protocol


class ObserverRepository(Protocol):
    """Open sessions' seats, observer registrations and the waiting list."""
